package baselines

import (
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/benchrun/benchrun/analysis"
)

// Defaults of CompareOptions.
const (
	DefaultTolerance      = 0.05 // relative
	DefaultRatioTolerance = 0.01 // absolute, for ratios such as error_rate
	DefaultAlpha          = 0.01 // raw-sample tests
	DefaultRepAlpha       = 0.05 // Mann-Whitney over repetitions
	DefaultResamples      = 2000
	MinReps               = 4 // repetitions per side for the Mann-Whitney test
)

// DefaultMetrics returns the statistics compared when
// CompareOptions.Metrics is empty; those a case does not have are skipped.
// The slice is the caller's.
func DefaultMetrics() []string {
	return []string{
		"ttft.p50", "ttft.p95", "ttft.p99", "itl.p50", "e2e.p95",
		"output_tokens_per_second", "requests_per_second", "error_rate",
	}
}

// CompareOptions tune Compare. The zero value uses the defaults.
type CompareOptions struct {
	// Metrics lists "metric.stat" (or a bare metric: its value or mean) to
	// compare; empty means DefaultMetrics().
	Metrics []string
	// Tolerances maps "metric.stat", "metric" or "*" (most specific wins)
	// to the allowed change: relative (0.1 = 10%), except for ratio
	// metrics (error_rate...), where it is absolute and "*" does not apply.
	Tolerances map[string]float64
	// RatioTolerance is the absolute tolerance of ratio metrics not named
	// in Tolerances; 0 means DefaultRatioTolerance.
	RatioTolerance float64
	// Alpha is the significance level of the tests on raw samples and
	// counts; 0 means DefaultAlpha.
	Alpha float64
	// RepAlpha is the significance level of the Mann-Whitney test over
	// repetitions; 0 means DefaultRepAlpha.
	RepAlpha float64
	// Resamples is the number of bootstrap replicates; 0 means
	// DefaultResamples.
	Resamples int
	// Seed seeds the bootstrap, for deterministic verdicts.
	Seed uint64
	// IgnoreFingerprint lists fingerprint keys that may differ.
	IgnoreFingerprint []string
	// PerRun says each value of the case's distributions is one run of a
	// batch command (exec, io500): with one run on each side no test can
	// tell noise from change, and the tolerance decides.
	PerRun bool
}

func (o CompareOptions) withDefaults() CompareOptions {
	if len(o.Metrics) == 0 {
		o.Metrics = DefaultMetrics()
	}
	if o.RatioTolerance == 0 {
		o.RatioTolerance = DefaultRatioTolerance
	}
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if o.RepAlpha == 0 {
		o.RepAlpha = DefaultRepAlpha
	}
	if o.Resamples <= 0 {
		o.Resamples = DefaultResamples
	}
	return o
}

// tolerance returns the tolerance of metric.stat and whether it is absolute.
func (o CompareOptions) tolerance(metric, stat string, ratio bool) float64 {
	if t, ok := o.Tolerances[metric+"."+stat]; ok {
		return t
	}
	if t, ok := o.Tolerances[metric]; ok {
		return t
	}
	if ratio {
		return o.RatioTolerance
	}
	if t, ok := o.Tolerances["*"]; ok {
		return t
	}
	return DefaultTolerance
}

// CompareRun is the one compare path, for stored baselines and another
// results directory alike: it appends to every measured case of sum
// (neither skipped nor failed) the checks Compare makes against the
// case's entry in base. A nil base (no baselines directory) makes every
// such case no_baseline. raws are keyed by case id and may lack a case.
// options gives a case's CompareOptions, or false to leave the case
// uncompared (its regression checks are disabled, or its benchmark is
// unknown). A case compared although ignored fingerprint fields differ
// gets a warning naming them. sum.Baseline gets the provenance of the
// newest entry used (the caller names the file or run). Verdicts are not rolled up: the caller
// decides them.
func CompareRun(sum *analysis.Summary, raws map[string]*analysis.Raw, base *File, options func(*analysis.Case) (CompareOptions, bool)) {
	src := &analysis.BaselineSource{Found: base != nil && len(base.Benchmarks) > 0}
	sum.Baseline = src
	var newest *Run
	for i := range sum.Cases {
		c := &sum.Cases[i]
		if !measured(c) {
			continue
		}
		o, ok := options(c)
		if !ok {
			continue
		}
		entry := base.Entry(c.Benchmark, c.ID)
		c.Checks = append(c.Checks, Compare(c, raws[c.ID], entry, o)...)
		if entry != nil {
			src.Entries++
			if newest == nil || runTime(entry.Run) > runTime(*newest) {
				newest = &entry.Run
			}
			if diff := ignoredDiff(entry.Fingerprint, c.Fingerprint, o.IgnoreFingerprint); diff != "" {
				c.Warnings = append(c.Warnings, "compared with the baseline although fingerprint fields differ (ignored): "+diff)
			}
			if fingerprintDiff(entry.Fingerprint, c.Fingerprint, o.IgnoreFingerprint) == "" {
				c.BaselineCDFs = baselineCDFs(entry, ignoredDiff(entry.Fingerprint, c.Fingerprint, o.IgnoreFingerprint))
			}
		}
	}
	if newest != nil {
		src.Promoted, src.RunStart, src.BenchrunCommit, src.SlurmJob = newest.Promoted, newest.Start, newest.BenchrunCommit, newest.SlurmJob
		src.CIJobURL, src.CommitSHA, src.Ref = newest.CIJobURL, newest.CommitSHA, newest.Ref
	}
}

// baselineCDFs are the distributions of analysis.CDFMetrics that entry
// stores, for the report's CDF charts, labelled with the date of the
// baseline's run ("baseline (2025-02-28)", "baseline" when unknown) and
// the fingerprint differences the comparison ignored (ignoredDiff); nil
// when it stores none. Only a comparable baseline's are drawn: the caller
// checks.
func baselineCDFs(entry *Entry, ignored string) map[string]*analysis.BaselineCDF {
	label := "baseline"
	var notes []string
	if t := entry.Run.Start; len(t) >= len("2006-01-02") {
		notes = append(notes, t[:len("2006-01-02")])
	} else if t := entry.Run.Promoted; len(t) >= len("2006-01-02") {
		notes = append(notes, "promoted "+t[:len("2006-01-02")])
	}
	if ignored != "" {
		notes = append(notes, "ignored "+ignored)
	}
	if len(notes) > 0 {
		label += " (" + strings.Join(notes, "; ") + ")"
	}
	var out map[string]*analysis.BaselineCDF
	for _, name := range analysis.CDFMetrics {
		if cdf := analysis.NewBaselineCDF(label, entry.Metrics[name].Histogram, analysis.BaselineCDFPoints); cdf != nil {
			if out == nil {
				out = map[string]*analysis.BaselineCDF{}
			}
			out[name] = cdf
		}
	}
	return out
}

// runTime orders runs: by promotion, else by start (RFC 3339 UTC strings
// order as times).
func runTime(r Run) string {
	if r.Promoted != "" {
		return r.Promoted
	}
	return r.Start
}

// FromRun makes a summarised run the baseline of another, as if it had
// been promoted (`benchrun compare BASE DIR`): one entry per measured
// case, with the case's Fingerprint, which the caller sets. raws are
// keyed by case id and may lack a case (no raw-sample tests for it then).
func FromRun(sum *analysis.Summary, raws map[string]*analysis.Raw) *File {
	f := newFile(sum.Suite)
	for i := range sum.Cases {
		c := &sum.Cases[i]
		if measured(c) {
			f.Set(c.Benchmark, c.ID, NewEntry(c, raws[c.ID], c.Fingerprint))
		}
	}
	return f
}

// measured reports whether a case has numbers to compare: it ran, and
// without an execution error.
func measured(c *analysis.Case) bool {
	return c.Verdict != analysis.Skipped && c.Verdict != analysis.Error && len(c.Errors) == 0
}

// Compare checks a case against its baseline entry and returns one check
// of kind analysis.CheckRegression per compared statistic present on both sides:
//
//   - no entry: a single check with verdict no_baseline;
//   - fingerprints differ (c.Fingerprint vs base.Fingerprint, keys in
//     IgnoreFingerprint aside): a single check with verdict incomparable
//     whose Detail names the fields;
//   - pass: the change is within tolerance;
//   - regression / improvement: the change is beyond tolerance, for the
//     worse / better, and significant;
//   - inconclusive: beyond tolerance but not significant, or no test was
//     possible.
//
// A throughput rate (not a ratio) that fell from above 0 to 0 beyond
// tolerance is a regression without a test: with nothing counted there is
// no count test, and nothing completing is never noise. With PerRun, a
// distribution of one run on each side beyond tolerance is a regression
// or an improvement without a test, for the same reason.
//
// Delta is relative ((cur−base)/|base|), or absolute for ratio metrics and
// zero baselines, as Detail then says. raw may be nil (no raw-sample tests).
// Metrics missing on the baseline side give no_baseline checks. A metric
// the baseline has but this run lacks gives a regression saying it was not
// measured, except an error_rate_<class> metric when the run has
// error_rate: that class did not occur, so it is compared as 0.
func Compare(c *analysis.Case, raw *analysis.Raw, base *Entry, o CompareOptions) []analysis.Check {
	o = o.withDefaults()
	if base == nil {
		return []analysis.Check{{Name: "baseline", Kind: analysis.CheckRegression, Verdict: analysis.NoBaseline,
			Detail: "no baseline for this case"}}
	}
	if diff := fingerprintDiff(base.Fingerprint, c.Fingerprint, o.IgnoreFingerprint); diff != "" {
		return []analysis.Check{{Name: "baseline", Kind: analysis.CheckRegression, Verdict: analysis.Incomparable,
			Detail: "fingerprint differs: " + diff}}
	}
	var out []analysis.Check
	for _, spec := range o.Metrics {
		name, stat := splitSpec(spec)
		cm, inCur := c.Metrics[name]
		bm, inBase := base.Metrics[name]
		if !inCur && !inBase {
			continue
		}
		m := cm
		if !inCur {
			m = bm.Metric
		}
		if stat == "" {
			stat = m.DefaultStat()
		}
		checkName := name + "." + stat
		if stat == "value" {
			checkName = name // a rate has one value: "error_rate", not "error_rate.value"
		}
		ck := analysis.Check{Name: checkName, Kind: analysis.CheckRegression, Metric: name, Stat: stat, Unit: m.Unit}
		switch {
		case !inBase:
			ck.Verdict, ck.Detail = analysis.NoBaseline, "the baseline has no "+name
			ck.Value, _ = cm.Stat(stat)
		case !inCur:
			if zero, ok := analysis.AbsentErrorRate(c, name); ok {
				compareStat(&ck, zero, bm, raw, o)
				break
			}
			ck.Verdict, ck.Detail = analysis.Regression, name+" was not measured in this run, but the baseline has it"
			ck.Baseline, _ = bm.Stat(stat)
		default:
			compareStat(&ck, cm, bm, raw, o)
		}
		out = append(out, ck)
	}
	return out
}

// compareStat fills in one regression check of a statistic both sides have.
func compareStat(ck *analysis.Check, cm analysis.Metric, bm Metric, raw *analysis.Raw, o CompareOptions) {
	name, stat := ck.Metric, ck.Stat
	cur, ok1 := cm.Stat(stat)
	old, ok2 := bm.Stat(stat)
	if !ok1 || !ok2 {
		ck.Verdict, ck.Detail = analysis.Inconclusive, fmt.Sprintf("%s has no statistic %s", name, stat)
		return
	}
	ck.Value, ck.Baseline = cur, old
	ck.Count, ck.BaseCount = cm.Count, bm.Count
	ratio := cm.Unit == analysis.UnitRatio
	absolute := ratio || old == 0
	tol := o.tolerance(name, stat, ratio)
	ck.Tolerance = tol
	var notes []string
	if absolute {
		ck.Delta = cur - old
		if ratio {
			notes = append(notes, "absolute change (ratio)")
		} else {
			notes = append(notes, "absolute change (zero baseline)")
		}
	} else {
		ck.Delta = (cur - old) / math.Abs(old)
	}
	lower := cm.Lower(name)
	worse := (ck.Delta > 0) == lower && ck.Delta != 0
	if math.Abs(ck.Delta) <= tol {
		ck.Verdict = analysis.Pass
		ck.PValue = 1
		ck.Detail = strings.Join(notes, "; ")
		return
	}
	if cm.Kind == analysis.KindRate && !ratio && old > 0 && cur == 0 && worse {
		ck.Verdict = analysis.Regression
		notes = append(notes, fmt.Sprintf("fell from %s to 0", analysis.FormatValue(old, cm.Unit)))
		ck.Detail = strings.Join(notes, "; ")
		return
	}
	if o.PerRun && cm.Kind == analysis.KindDistribution && cm.Count == 1 && bm.Count == 1 {
		// One run on each side (a batch benchmark's single repetition:
		// io500's score): no test can ever tell noise from change here,
		// so the tolerance decides, or the comparison could never fail.
		ck.Verdict = analysis.Improvement
		if worse {
			ck.Verdict = analysis.Regression
		}
		notes = append(notes, "one value on each side: no test possible, the tolerance decides")
		ck.Detail = strings.Join(notes, "; ")
		return
	}
	if q, ok := analysis.StatPercentile(stat); ok && !repsComparable(name, stat, cm, bm, raw) {
		// A tail percentile estimated from a handful of samples beyond it
		// moves with a single slow request: call it noise, not a change.
		need := int(math.Ceil(MinTailSamples / (1 - q/100)))
		if cm.Count < need || bm.Count < need {
			ck.Verdict = analysis.Inconclusive
			notes = append(notes, fmt.Sprintf("too few samples for %s (n=%d vs %d; need ≥ %d, %d beyond it)", stat, cm.Count, bm.Count, need, MinTailSamples))
			ck.Detail = strings.Join(notes, "; ")
			return
		}
	}
	p, alpha, test := significance(name, stat, cm, bm, raw, o)
	ck.PValue = p
	if test != "" {
		notes = append(notes, test)
	}
	switch {
	case test == "":
		ck.Verdict = analysis.Inconclusive
		notes = append(notes, "no significance test possible")
	case p >= alpha:
		ck.Verdict = analysis.Inconclusive
		notes = append(notes, fmt.Sprintf("not significant (p=%.3g ≥ %g)", p, alpha))
	case worse:
		ck.Verdict = analysis.Regression
	default:
		ck.Verdict = analysis.Improvement
	}
	ck.Detail = strings.Join(notes, "; ")
}

// significance picks the test of a change and runs it in analysis:
// Mann-Whitney over repetitions when both sides have MinReps, else a
// bootstrap of the percentile from raw samples, a Welch z-test of means, a
// two-proportion test of ratios or a count test of rates. test is "" when
// none applies.
func significance(name, stat string, cm analysis.Metric, bm Metric, raw *analysis.Raw, o CompareOptions) (p, alpha float64, test string) {
	var cr, br []float64
	if cm.Kind == analysis.KindRate {
		cr, br = cm.Reps, bm.Reps
	} else {
		cr, br = raw.RepStat(name, stat), bm.RepStats[stat]
	}
	if len(cr) >= MinReps && len(br) >= MinReps {
		return analysis.MannWhitney(cr, br), o.RepAlpha, fmt.Sprintf("Mann-Whitney over %d vs %d repetitions", len(cr), len(br))
	}
	var ok bool
	cb, cok := cm.CI["value"]
	bb, bok := bm.CI["value"]
	switch {
	case cm.Kind == analysis.KindRate && cok && bok:
		// A searched capacity (analysis.CapacityCase): its bracket is where
		// the true capacity lies; brackets apart are a significant change.
		p, ok, test = 1, true, "capacity brackets"
		if cb[1] < bb[0] || bb[1] < cb[0] {
			p = 0
		}
	case cm.Kind == analysis.KindRate && cm.Unit == analysis.UnitRatio:
		p, ok = analysis.TwoProportionPValue(cm.Value, cm.Count, bm.Value, bm.Count)
		test = "two-proportion z-test"
	case cm.Kind == analysis.KindRate:
		// Rates count completed operations: Count is the number of events
		// behind each rate.
		p, ok = analysis.RateRatioPValue(cm.Value, cm.Count, bm.Value, bm.Count)
		test = "count test"
	case stat == "mean":
		p, ok = analysis.WelchZPValue(cm.Mean, cm.Stddev, cm.Count, bm.Mean, bm.Stddev, bm.Count)
		test = "Welch z-test"
	default:
		p, ok, test = bootstrap(name, stat, bm, raw, o)
	}
	if !ok {
		return 1, o.Alpha, ""
	}
	return p, o.Alpha, test
}

// bootstrap runs the bootstrap test of a percentile statistic from the
// run's raw samples and the baseline's histogram; ok is false when either
// is missing or stat is not a percentile.
func bootstrap(name, stat string, bm Metric, raw *analysis.Raw, o CompareOptions) (p float64, ok bool, test string) {
	q, ok := analysis.StatPercentile(stat)
	if !ok || raw == nil || bm.Histogram == nil || bm.Histogram.Count() == 0 {
		return 1, false, ""
	}
	d := raw.Dists[name]
	if d == nil || d.Count() == 0 {
		return 1, false, ""
	}
	r := rand.New(rand.NewPCG(o.Seed, seedOf(name+"."+stat)))
	p = analysis.BootstrapPValue(d, bm.Histogram, q, o.Resamples, r)
	return p, true, fmt.Sprintf("bootstrap of %s over %d vs %d samples", stat, d.Count(), bm.Histogram.Count())
}

// MinTailSamples is the number of samples each side needs beyond a
// percentile (n·(1−q) ≥ MinTailSamples) before a change in it can be
// called significant from raw samples: p99 needs n ≥ 1000, p95 n ≥ 200.
const MinTailSamples = 10

// repsComparable reports whether Mann-Whitney over repetitions applies.
func repsComparable(name, stat string, cm analysis.Metric, bm Metric, raw *analysis.Raw) bool {
	return len(raw.RepStat(name, stat)) >= MinReps && len(bm.RepStats[stat]) >= MinReps
}

func seedOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// fingerprintDiff describes the fields in which two fingerprints differ,
// as "key: baseline value → run value", sorted ("gpu: A100 → H100, model:
// missing → llama"), the keys in ignore aside; "" when they agree.
func fingerprintDiff(base, cur map[string]string, ignore []string) string {
	return diffFields(base, cur, func(k string) bool { return slices.Contains(ignore, k) })
}

// ignoredDiff is fingerprintDiff of the keys in ignore only: the
// differences a comparison went past.
func ignoredDiff(base, cur map[string]string, ignore []string) string {
	return diffFields(base, cur, func(k string) bool { return !slices.Contains(ignore, k) })
}

// diffFields is fingerprintDiff leaving out the keys skip says.
func diffFields(base, cur map[string]string, skip func(key string) bool) string {
	keys := map[string]bool{}
	for k := range base {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if skip(k) {
			continue
		}
		b, inB := base[k]
		c, inC := cur[k]
		if inB && inC && b == c {
			continue
		}
		if !inB {
			b = "missing"
		}
		if !inC {
			c = "missing"
		}
		diffs = append(diffs, fmt.Sprintf("%s: %s → %s", k, b, c))
	}
	return strings.Join(diffs, ", ")
}
