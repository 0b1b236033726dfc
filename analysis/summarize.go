package analysis

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// Defaults of Options.
const (
	DefaultErrorRateWarn = 0.01
	DefaultLagLimit      = 0.010 // seconds
	DefaultMinSamplesP99 = 100
)

// defaultSaturationKeys are the Values/Server keys read as a waiting-queue
// series for the saturation warning (vLLM's num_requests_waiting gauge as a
// scraper records it per operation).
var defaultSaturationKeys = []string{"num_requests_waiting"}

// Options tune SummarizeCase. The zero value uses the defaults.
type Options struct {
	// SLO maps ttft, tpot and e2e to a limit in seconds; when non-empty
	// the case gets a goodput metric. Keys of the form slo_<metric> in
	// CaseInfo.Settings ("slo_ttft" = "500ms") fill in metrics not set here.
	SLO map[string]float64
	// ErrorRateWarn is the error rate (0–1) above which a warning is
	// added; 0 means DefaultErrorRateWarn, negative disables the warning.
	ErrorRateWarn float64
	// LagLimit is the queue_delay p99 in seconds beyond which the
	// generator is said to lag; 0 means the case's Load.LagLimit, or
	// DefaultLagLimit.
	LagLimit float64
	// MinSamplesP99 is the number of measured operations below which a
	// warning says tail percentiles are rough; 0 means
	// DefaultMinSamplesP99.
	MinSamplesP99 int
	// ExactLimit is the number of values per metric kept exactly before a
	// histogram takes over; 0 means DefaultExactLimit.
	ExactLimit int
	// SaturationKeys override the default, num_requests_waiting.
	SaturationKeys []string
}

// Raw holds a case's measured values, bounded in memory, for the
// significance tests of package baselines and for the charts of package
// report: every number a report draws comes from here or from the Case.
type Raw struct {
	// Dists maps each distribution metric to all its measured values
	// (latency CDFs and histograms are drawn from them).
	Dists map[string]*Dist
	// Timeline holds the measured operations second by second.
	Timeline *Timeline
	// Telemetry holds the case's server and GPU series for the timeline
	// beside Timeline; nil without telemetry.
	Telemetry *TelemetrySeries
	// Errors maps each error class of the failed measured operations to
	// its count and an example.
	Errors map[string]ErrorClass
	// Missing lists the sample files that did not exist, tolerated for a
	// case whose status is "error".
	Missing []string
	// RepIDs are the repetition indexes seen (Sample.Rep), ascending.
	RepIDs []int
	// Reps maps each distribution metric to one histogram per entry of
	// RepIDs; nil when the case has a single repetition.
	Reps map[string][]*Histogram
}

// ErrorClass is how often one error class occurred in a case, with the
// ErrorDetail of its first occurrence (in sample file order) as an example.
type ErrorClass struct {
	Count   int
	Example string
}

// RepStat returns the statistic stat ("mean", "p50", ... as Metric.Stat)
// of a distribution metric for each repetition, in RepIDs order; nil when
// there are fewer than two repetitions or no such metric or stat. The
// percentiles come from per-repetition histograms (within RelativeError).
func (r *Raw) RepStat(metric, stat string) []float64 {
	if r == nil || r.Reps == nil {
		return nil
	}
	hs := r.Reps[metric]
	if len(hs) < 2 {
		return nil
	}
	out := make([]float64, len(hs))
	for i, h := range hs {
		if h.Count() == 0 {
			return nil
		}
		switch stat {
		case "mean":
			out[i] = h.Mean()
		case "min":
			out[i] = h.Min()
		case "max":
			out[i] = h.Max()
		case "count":
			out[i] = float64(h.Count())
		default:
			p, ok := StatPercentile(stat)
			if !ok {
				return nil
			}
			out[i] = h.Percentile(p)
		}
	}
	return out
}

// repAcc accumulates one repetition's counters and window.
type repAcc struct {
	first, last  time.Duration // earliest schedule, latest completion
	seen         bool
	total, ok    int
	good         int
	inTok, outTk int64
	errs         map[string]int
}

type seriesPoint struct{ t, v float64 }

// caseAcc accumulates a case from its samples.
type caseAcc struct {
	o        Options
	slo      map[string]float64
	dists    map[string]*Dist
	repHists map[string]map[int]*Histogram
	reps     map[int]*repAcc
	canceled int
	cold     int
	timeline *Timeline
	example  map[string]string // first ErrorDetail per error class
	series   []seriesPoint
	stride   int // keep every stride-th series point
	seenPts  int
	load     *results.Load // the case's load; nil when the manifest has none
	sat      *satAcc
	perRun   bool // a sample is a run of a batch command (results.SettingSamples)
}

// newCaseAcc returns an accumulator that fills raw; o has its defaults set.
func newCaseAcc(o Options, slo map[string]float64, raw *Raw, load *results.Load) *caseAcc {
	return &caseAcc{o: o, slo: slo, dists: raw.Dists, repHists: map[string]map[int]*Histogram{},
		reps: map[int]*repAcc{}, stride: 1, timeline: &Timeline{}, example: map[string]string{},
		load: load, sat: newSatAcc()}
}

func (a *caseAcc) add(name string, rep int, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	d := a.dists[name]
	if d == nil {
		d = NewDist(a.o.ExactLimit)
		a.dists[name] = d
	}
	d.Add(v)
	hs := a.repHists[name]
	if hs == nil {
		hs = map[int]*Histogram{}
		a.repHists[name] = hs
	}
	h := hs[rep]
	if h == nil {
		h = &Histogram{}
		hs[rep] = h
	}
	h.Add(v)
}

// maxSeries bounds the saturation series: beyond it every other point is
// dropped and the sampling stride doubles.
const maxSeries = 1 << 16

func (a *caseAcc) addSeries(t, v float64) {
	a.seenPts++
	if (a.seenPts-1)%a.stride != 0 {
		return
	}
	a.series = append(a.series, seriesPoint{t, v})
	if len(a.series) >= maxSeries {
		kept := a.series[:0]
		for i := 0; i < len(a.series); i += 2 {
			kept = append(kept, a.series[i])
		}
		a.series = kept
		a.stride *= 2
	}
}

func sec(d time.Duration) float64 { return d.Seconds() }

func (a *caseAcc) sample(s *results.Sample) error {
	if s.Warmup {
		return nil
	}
	if s.Op == "" {
		a.sat.sample(s)
	}
	if s.Error == results.ErrCanceled {
		a.canceled++
		return nil
	}
	r := a.reps[s.Rep]
	if r == nil {
		r = &repAcc{errs: map[string]int{}}
		a.reps[s.Rep] = r
	}
	if s.Op != "" {
		a.side(r, s)
		return nil
	}
	if !r.seen || s.Scheduled < r.first {
		r.first = s.Scheduled
	}
	if !r.seen || s.Done > r.last {
		r.last = s.Done
	}
	r.seen = true
	r.total++
	op := SampleValues(s)
	if op.HasQueueDelay {
		a.add(MetricQueueDelay, s.Rep, op.QueueDelay)
	}
	if !s.OK() {
		r.errs[s.Error]++
		if _, seen := a.example[s.Error]; !seen {
			a.example[s.Error] = s.ErrorDetail
		}
		a.timeline.add(op.Scheduled, op.Sent, op.Done, false, 0, 0, nil)
		return nil
	}
	r.ok++
	r.inTok += int64(s.InputTokens)
	r.outTk += int64(s.OutputTokens)

	perReq := map[string]float64{}
	if op.HasTTFB {
		a.add(MetricTTFB, s.Rep, op.TTFB)
	}
	if op.HasTTFT {
		perReq[MetricTTFT] = op.TTFT
		a.add(MetricTTFT, s.Rep, op.TTFT)
	}
	perReq[MetricE2E] = op.E2E
	a.add(MetricE2E, s.Rep, op.E2E)
	a.timeline.add(op.Scheduled, op.Sent, op.Done, true, s.OutputTokens, op.E2E, s.Values)
	if op.HasTPOT {
		perReq[MetricTPOT] = op.TPOT
		a.add(MetricTPOT, s.Rep, op.TPOT)
	}
	for _, g := range s.ITL {
		a.add(MetricITL, s.Rep, sec(g))
	}
	if s.InputTokens > 0 || s.OutputTokens > 0 {
		a.add(MetricInputTokens, s.Rep, float64(s.InputTokens))
		a.add(MetricOutputTokens, s.Rep, float64(s.OutputTokens))
	}
	for k, v := range s.Values {
		a.add(valuesName(k), s.Rep, v)
	}
	for k, v := range s.Server {
		a.add(ServerPrefix+k, s.Rep, v)
	}
	if s.Server["cold_start"] > 0 {
		a.cold++
	}
	for _, k := range a.o.SaturationKeys {
		v, ok := s.Values[k]
		if !ok {
			v, ok = s.Server[k]
		}
		if ok {
			a.addSeries(op.Done, v)
			break
		}
	}
	// Goodput: every SLO given must be met; a request without the metric
	// (tpot of a one-token answer) does not fail that SLO.
	good := true
	for m, lim := range a.slo {
		if v, ok := perReq[m]; ok && v > lim {
			good = false
		}
	}
	if good {
		r.good++
	}
	return nil
}

// side counts a side operation (results.Sample.Op) of repetition r: its
// Values when it succeeded, its error when it failed (in the error rate
// and the error classes); never its latency, nor in the throughput or the
// measured window.
func (a *caseAcc) side(r *repAcc, s *results.Sample) {
	if !s.OK() {
		r.total++
		r.errs[s.Error]++
		if _, seen := a.example[s.Error]; !seen {
			a.example[s.Error] = s.ErrorDetail
		}
		return
	}
	for k, v := range s.Values {
		a.add(valuesName(k), s.Rep, v)
	}
}

// valuesName is the metric name of a Sample.Values key: the key itself,
// or "values_" + key when it would shadow a builtin metric.
func valuesName(k string) string {
	if _, ok := builtinUnits[k]; ok || strings.HasPrefix(k, ErrorRatePrefix) || strings.HasPrefix(k, ServerPrefix) {
		return "values_" + k
	}
	return k
}

// SummarizeCase summarises one case from its sample files (one per client
// node; their samples are pooled) into a Case with its metrics and
// warnings, and a Raw with its measured values. Warm-up samples and
// operations canceled by benchrun itself are excluded; latencies, token
// counts, Values and Server keys come from successful operations only;
// queue_delay and error_rate from all measured ones. Rates are over the
// measured window (first scheduled send to last completion), summed over
// repetitions; Case.Seconds is that sum. Case.Verdict is left for Rollup,
// except "skipped" for cases that did not run.
//
// A case whose status is "skipped" or "pending" is not read; for a case
// with status "error" missing sample files are tolerated and its error is
// in Case.Errors. A done case without a measured operation, or whose
// measured operations all failed, gets an error.
//
// Damage is never silent: a torn last line or a line that does not decode
// is skipped with a warning naming the file and line, and a file with an
// undecodable line, or with another number of samples than the manifest
// recorded for it (info.SampleCounts), makes the case an error ("samples
// damaged"), so its numbers are neither checked nor compared.
// The Go error is for missing or unreadable files only.
func SummarizeCase(info results.CaseInfo, sampleFiles []string, o Options) (Case, *Raw, error) {
	return summarizeCase(info, sampleFiles, o, nil)
}

// summarizeCase is SummarizeCase with the case's telemetry (nil: none).
func summarizeCase(info results.CaseInfo, sampleFiles []string, o Options, td *telemetryData) (Case, *Raw, error) {
	c := Case{
		ID: info.ID, Benchmark: info.Benchmark, Kind: info.Kind,
		Params: info.Params, Repetitions: info.Repetitions,
		Metrics: map[string]Metric{}, Checks: []Check{},
	}
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	if !info.Start.IsZero() {
		c.Start = info.Start.UTC().Format(time.RFC3339)
	}
	if !info.End.IsZero() {
		c.End = info.End.UTC().Format(time.RFC3339)
	}
	raw := &Raw{Dists: map[string]*Dist{}}
	switch info.Status {
	case results.StatusSkipped, results.StatusPending:
		c.Verdict = Skipped
		return c, raw, nil
	case results.StatusError:
		msg := info.Error
		if msg == "" {
			msg = "case failed"
		}
		c.Errors = append(c.Errors, msg)
	}
	o = withDefaults(o, info)
	slo, err := sloTargets(o, info)
	if err != nil {
		return c, raw, fmt.Errorf("case %s: %w", info.ID, err)
	}
	a := newCaseAcc(o, slo, raw, info.Load)
	a.perRun = info.Settings[results.SettingSamples] == results.SamplesRuns
	var damage, notes []string
	for _, f := range sampleFiles {
		in, err := results.ScanSampleFile(f, a.sample)
		switch {
		case err == nil:
			d, n := integrity(info, f, fileName(f), in)
			damage, notes = append(damage, d...), append(notes, n...)
		case info.Status == results.StatusError && errors.Is(err, fs.ErrNotExist):
			raw.Missing = append(raw.Missing, f)
		default:
			return c, raw, fmt.Errorf("case %s: %w", info.ID, err)
		}
	}
	a.finish(&c, raw, td)
	declare(&c, info.Metrics)
	c.Warnings = append(c.Warnings, info.Warnings...)
	c.Warnings = append(notes, c.Warnings...)
	if l := earlyStopLabel(info); l != nil {
		c.Labels = append(c.Labels, *l)
	}
	if len(damage) > 0 {
		// Numbers from damaged samples are not compared or checked: the
		// case is an error, so it cannot pass.
		c.Errors = append(c.Errors, damage...)
	}
	return c, raw, nil
}

// fileName is how warnings name a samples file: its path from the
// results directory (samples/...), or as given when it is not under one.
func fileName(path string) string {
	dir, file := filepath.Split(filepath.Clean(path))
	parent := filepath.Base(dir)
	if parent == results.SamplesDir {
		return filepath.Join(results.SamplesDir, file)
	}
	if filepath.Base(filepath.Dir(filepath.Clean(dir))) == results.SamplesDir {
		return filepath.Join(results.SamplesDir, parent, file)
	}
	return path
}

// integrity turns what reading one samples file found into warnings
// naming the file and line (notes), and, when the samples cannot be
// trusted, errors (damage): an undecodable line, or a file that does not
// hold the number of samples the manifest recorded for it. A torn last
// line of a file without a recorded count is what a killed process
// leaves: it is dropped with a warning, and the case's status (still
// running) already says the run did not finish.
func integrity(info results.CaseInfo, path, name string, in results.Integrity) (damage, notes []string) {
	want, recorded := info.RecordedSamples(path)
	if in.TornLine > 0 {
		notes = append(notes, fmt.Sprintf("%s:%d: last line cut short (no newline, does not decode): dropped", name, in.TornLine))
	}
	for _, b := range in.BadLines {
		notes = append(notes, fmt.Sprintf("%s:%d: line does not decode, skipped: %s", name, b.Line, b.Err))
	}
	if more := in.BadCount - len(in.BadLines); more > 0 {
		notes = append(notes, fmt.Sprintf("%s: %d more lines do not decode", name, more))
	}
	switch {
	case in.BadCount > 0:
		damage = append(damage, fmt.Sprintf("samples damaged: %s has %d lines that do not decode (first at line %d); not compared", name, in.BadCount, in.BadLines[0].Line))
	case recorded && in.Samples != want:
		damage = append(damage, fmt.Sprintf("samples damaged: %s holds %d samples (%d lines), the manifest recorded %d; not compared", name, in.Samples, in.Lines, want))
	case recorded && in.TornLine > 0:
		damage = append(damage, fmt.Sprintf("samples damaged: %s:%d: a cut line after the %d samples the manifest recorded; not compared", name, in.TornLine, want))
	}
	return damage, notes
}

func withDefaults(o Options, info results.CaseInfo) Options {
	if o.ErrorRateWarn == 0 {
		o.ErrorRateWarn = DefaultErrorRateWarn
	}
	if o.LagLimit == 0 {
		o.LagLimit = DefaultLagLimit
		if info.Load != nil && info.Load.LagLimit > 0 {
			o.LagLimit = info.Load.LagLimit.Seconds()
		}
	}
	if o.MinSamplesP99 == 0 {
		o.MinSamplesP99 = DefaultMinSamplesP99
	}
	if o.ExactLimit <= 0 {
		o.ExactLimit = DefaultExactLimit
	}
	if o.SaturationKeys == nil {
		o.SaturationKeys = defaultSaturationKeys
	}
	return o
}

// sloTargets merges Options.SLO with slo_<metric> settings of the case.
func sloTargets(o Options, info results.CaseInfo) (map[string]float64, error) {
	slo := maps.Clone(o.SLO)
	for _, k := range slices.Sorted(maps.Keys(info.Settings)) {
		m, ok := strings.CutPrefix(k, "slo_")
		if !ok {
			continue
		}
		if _, set := slo[m]; set {
			continue
		}
		v, _, err := parseQuantity(info.Settings[k])
		if err != nil {
			return nil, fmt.Errorf("setting %s: %w", k, err)
		}
		if slo == nil {
			slo = map[string]float64{}
		}
		slo[m] = v
	}
	for m := range slo {
		if m != MetricTTFT && m != MetricTPOT && m != MetricE2E {
			return nil, fmt.Errorf("SLO on %q: goodput SLOs are ttft, tpot and e2e", m)
		}
	}
	return slo, nil
}

func (a *caseAcc) finish(c *Case, raw *Raw, td *telemetryData) {
	ids := slices.Sorted(maps.Keys(a.reps))
	raw.RepIDs = ids
	raw.Timeline = a.timeline
	var total, ok, good int
	var in, out int64
	errs := map[string]int{}
	var seconds float64
	type repRates struct{ rps, otps, ttps, er, good float64 }
	per := make([]repRates, len(ids))
	for i, id := range ids {
		r := a.reps[id]
		w := sec(r.last - r.first)
		seconds += w
		total += r.total
		ok += r.ok
		good += r.good
		in += r.inTok
		out += r.outTk
		for k, n := range r.errs {
			errs[k] += n
		}
		if w > 0 {
			per[i] = repRates{float64(r.ok) / w, float64(r.outTk) / w, float64(r.inTok+r.outTk) / w, 0, float64(r.good) / w}
		}
		if r.total > 0 {
			per[i].er = float64(r.total-r.ok) / float64(r.total)
		}
	}
	raw.Errors = map[string]ErrorClass{}
	for k, n := range errs {
		raw.Errors[k] = ErrorClass{Count: n, Example: a.example[k]}
	}
	c.Seconds = seconds
	multi := len(ids) > 1
	reps := func(f func(repRates) float64) []float64 {
		if !multi {
			return nil
		}
		v := make([]float64, len(per))
		for i, p := range per {
			v[i] = f(p)
		}
		return v
	}
	rate := func(name string, n int, v float64, rs []float64) {
		c.Metrics[name] = Metric{Kind: KindRate, Unit: UnitOf(name), Count: n, Value: v, Reps: rs}
	}
	if total == 0 {
		if len(c.Errors) == 0 {
			c.Errors = append(c.Errors, "no measured operations")
		}
	} else {
		if ok == 0 && len(c.Errors) == 0 {
			c.Errors = append(c.Errors, fmt.Sprintf("all %d measured operations failed (%s)", total, errorClasses(errs)))
		}
		if seconds > 0 {
			rate(MetricRequestsPerSecond, ok, float64(ok)/seconds, reps(func(p repRates) float64 { return p.rps }))
			rate(MetricOutputTokensPerSecond, ok, float64(out)/seconds, reps(func(p repRates) float64 { return p.otps }))
			rate(MetricTotalTokensPerSecond, ok, float64(in+out)/seconds, reps(func(p repRates) float64 { return p.ttps }))
			if len(a.slo) > 0 {
				rate(MetricGoodput, ok, float64(good)/seconds, reps(func(p repRates) float64 { return p.good }))
			}
		}
		rate(MetricErrorRate, total, float64(total-ok)/float64(total), reps(func(p repRates) float64 { return p.er }))
		infra := 0
		for class, n := range errs {
			rate(ErrorRatePrefix+class, total, float64(n)/float64(total), nil)
			if results.Infrastructure(class) {
				infra += n
			}
		}
		rate(MetricInfrastructureErrorRate, total, float64(infra)/float64(total), nil)
	}
	for name, d := range a.dists {
		m := d.Metric(UnitOf(name))
		if multi {
			m.Reps = make([]float64, len(ids))
			hs := make([]*Histogram, len(ids))
			for i, id := range ids {
				h := a.repHists[name][id]
				if h == nil {
					h = &Histogram{}
				}
				hs[i] = h
				if h.Count() > 0 {
					m.Reps[i] = h.Percentile(50)
				}
			}
			if raw.Reps == nil {
				raw.Reps = map[string][]*Histogram{}
			}
			raw.Reps[name] = hs
		}
		c.Metrics[name] = m
	}
	a.telemetry(c, td)
	raw.Telemetry = td.timelineSeries()
	c.Warnings = append(a.warnings(c, ok, total, errs[results.ErrUnfinished]), c.Warnings...)
	c.Labels = a.sat.labels(a.load, a.o.LagLimit, a.series, a.timeline)
	for i := range c.Labels {
		c.Labels[i].Effect = EffectWarn
	}
}

// errorClasses renders error counts by class as "http_5xx: 100, timeout: 20",
// most frequent first, ties by name.
func errorClasses(errs map[string]int) string {
	classes := slices.Collect(maps.Keys(errs))
	sort.Slice(classes, func(i, j int) bool {
		if errs[classes[i]] != errs[classes[j]] {
			return errs[classes[i]] > errs[classes[j]]
		}
		return classes[i] < classes[j]
	})
	parts := make([]string, len(classes))
	for i, k := range classes {
		parts[i] = fmt.Sprintf("%s: %d", k, errs[k])
	}
	return strings.Join(parts, ", ")
}

// warnings returns the case's footnotes in a fixed order. Latency
// percentiles are computed from completed operations only, so a case with
// unfinished ones says so first.
func (a *caseAcc) warnings(c *Case, ok, total, unfinished int) []string {
	var w []string
	if unfinished > 0 {
		w = append(w, fmt.Sprintf("%d of %d measured operations (%s) were unfinished when the drain ended: counted in the error rate, "+
			"left out of the latency percentiles, which would be higher with them", unfinished, total,
			FormatValue(float64(unfinished)/float64(total), UnitRatio)))
	}
	if total > 0 && ok < a.o.MinSamplesP99 && !a.perRun {
		w = append(w, fmt.Sprintf("only %d successful operations (fewer than %d): p99 and p99.9 are rough", ok, a.o.MinSamplesP99))
	}
	if m, has := c.Metrics[MetricErrorRate]; has && a.o.ErrorRateWarn > 0 && m.Value > a.o.ErrorRateWarn {
		w = append(w, fmt.Sprintf("error rate %s above %s (%d of %d operations failed)",
			FormatValue(m.Value, UnitRatio), FormatValue(a.o.ErrorRateWarn, UnitRatio), total-ok, total))
	}
	w = append(w, a.lagWarnings(c)...)
	if a.cold > 0 {
		w = append(w, fmt.Sprintf("cold start detected: %d measured operations reported server cold_start (model load); raise the warm-up", a.cold))
	}
	if from, to, grew := queueGrowth(a.series); grew {
		w = append(w, fmt.Sprintf("server saturated: waiting queue grew from %.3g to %.3g over the run; latencies depend on the run length",
			from, to))
	}
	if a.canceled > 0 {
		w = append(w, fmt.Sprintf("%d operations canceled by benchrun were excluded", a.canceled))
	}
	return w
}

// lagWarnings says who a queue delay beyond the lag limit is due to: the
// client (generator lag) or the server (waits for a max_concurrency slot),
// apart when the samples record slot waits.
func (a *caseAcc) lagWarnings(c *Case) []string {
	limit := FormatValue(a.o.LagLimit, UnitSeconds)
	if a.sat.slotRecorded {
		var w []string
		if p := a.sat.lag.Percentile(99); p > a.o.LagLimit {
			w = append(w, fmt.Sprintf("generator lag: client lag p99 %s beyond %s (queue_delay minus max_concurrency slot waits); the client could not keep the schedule",
				FormatValue(p, UnitSeconds), limit))
		}
		if p := a.sat.slotWait.Percentile(99); p > a.o.LagLimit && a.load != nil && a.load.Mode == results.ModeOpen && a.load.MaxConcurrency == 0 {
			w = append(w, fmt.Sprintf("server backpressure: waits for one of the %d in-flight slots of an open loop without max_concurrency p99 %s beyond %s; the server did not keep up with the offered rate and the client held the requests (set max_concurrency to choose the bound)",
				a.load.InFlightBound(), FormatValue(p, UnitSeconds), limit))
		} else if p > a.o.LagLimit {
			w = append(w, fmt.Sprintf("server backpressure: waits for a max_concurrency slot p99 %s beyond %s; the server did not keep up with the offered rate (not client lag)",
				FormatValue(p, UnitSeconds), limit))
		}
		return w
	}
	m, has := c.Metrics[MetricQueueDelay]
	if !has || m.P99 <= a.o.LagLimit {
		return nil
	}
	if l := a.load; l != nil && l.Mode == results.ModeOpen && l.MaxConcurrency > 0 {
		return []string{fmt.Sprintf("queue_delay p99 %s beyond %s with max_concurrency = %d: waits for a slot (server backpressure) and client lag together; these samples do not record slot waits to tell them apart",
			FormatValue(m.P99, UnitSeconds), limit, l.MaxConcurrency)}
	}
	return []string{fmt.Sprintf("generator lag: queue_delay p99 %s beyond %s; the client could not keep the schedule",
		FormatValue(m.P99, UnitSeconds), limit)}
}

// queueGrowth reports whether a waiting-queue series grew over the run:
// with the points in time order and split into quarters, the mean of the
// last quarter exceeds the first quarter's by at least 1 and by half. It
// needs at least 8 points.
func queueGrowth(pts []seriesPoint) (from, to float64, grew bool) {
	if len(pts) < 8 {
		return 0, 0, false
	}
	pts = slices.Clone(pts)
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].t < pts[j].t })
	q := len(pts) / 4
	mean := func(p []seriesPoint) float64 {
		s := 0.0
		for _, x := range p {
			s += x.v
		}
		return s / float64(len(p))
	}
	from, to = mean(pts[:q]), mean(pts[len(pts)-q:])
	return from, to, to >= from+1 && to >= 1.5*from
}

// declare gives the case's metrics the unit and direction its manifest
// entry declares (results.CaseInfo.Metrics).
func declare(c *Case, specs map[string]results.MetricSpec) {
	for name, spec := range specs {
		m, ok := c.Metrics[valuesName(name)]
		if !ok {
			continue
		}
		m.Unit, m.Better = spec.Unit, spec.Better
		c.Metrics[valuesName(name)] = m
	}
}
