package baselines

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// latencyCase builds a case and raw from n lognormal ttft values with
// median exp(mu), scaled by scale, split into reps repetitions.
func latencyCase(r *rand.Rand, n, reps int, mu, sigma, scale float64) (*analysis.Case, *analysis.Raw) {
	d := analysis.NewDist(0)
	raw := &analysis.Raw{Dists: map[string]*analysis.Dist{"ttft": d}}
	var hs []*analysis.Histogram
	for i := range reps {
		hs = append(hs, &analysis.Histogram{})
		raw.RepIDs = append(raw.RepIDs, i)
	}
	for i := range n {
		v := scale * math.Exp(mu+sigma*r.NormFloat64())
		d.Add(v)
		hs[i%reps].Add(v)
	}
	if reps > 1 {
		raw.Reps = map[string][]*analysis.Histogram{"ttft": hs}
	}
	c := &analysis.Case{ID: "c", Metrics: map[string]analysis.Metric{"ttft": d.Metric("s")},
		Fingerprint: map[string]string{"gpu": "A100"}}
	return c, raw
}

func rateMetric(v float64, count int, unit string, reps ...float64) analysis.Metric {
	return analysis.Metric{Kind: analysis.KindRate, Unit: unit, Value: v, Count: count, Reps: reps}
}

func rateCase(metrics map[string]analysis.Metric) *analysis.Case {
	return &analysis.Case{ID: "c", Metrics: metrics, Fingerprint: map[string]string{"gpu": "A100"}}
}

func entryOf(c *analysis.Case, raw *analysis.Raw) *Entry { return NewEntry(c, raw, c.Fingerprint) }

func TestCompareVerdicts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	baseC, baseR := latencyCase(r, 2000, 1, -1, 0.3, 1)
	same, sameR := latencyCase(r, 2000, 1, -1, 0.3, 1)
	slow, slowR := latencyCase(r, 2000, 1, -1, 0.3, 1.3)
	fast, fastR := latencyCase(r, 2000, 1, -1, 0.3, 0.7)
	tiny, tinyR := latencyCase(r, 30, 1, -1, 0.8, 1.1) // beyond tolerance, too few to tell
	tinyBase, tinyBaseR := latencyCase(r, 30, 1, -1, 0.8, 1)
	rb, rbR := latencyCase(r, 400, 5, -1, 0.3, 1)   // 5 repetitions a side
	rs, rsR := latencyCase(r, 400, 5, -1, 0.3, 1.3) // Mann-Whitney path
	other := *same
	other.Fingerprint = map[string]string{"gpu": "H100", "model": "llama"}

	rates := func(rps, er float64, n int) *analysis.Case {
		return rateCase(map[string]analysis.Metric{
			"requests_per_second": rateMetric(rps, n, analysis.UnitRequestsPerSecond),
			"error_rate":          rateMetric(er, n, analysis.UnitRatio),
		})
	}
	errClass := func(er float64, n int) *analysis.Case {
		return rateCase(map[string]analysis.Metric{
			"requests_per_second": rateMetric(100, n, analysis.UnitRequestsPerSecond),
			"error_rate":          rateMetric(er, n, analysis.UnitRatio),
			"error_rate_timeout":  rateMetric(er, n, analysis.UnitRatio),
		})
	}
	p95 := CompareOptions{Metrics: []string{"ttft.p95"}}
	tests := []struct {
		name    string
		c       *analysis.Case
		raw     *analysis.Raw
		base    *Entry
		o       CompareOptions
		want    []string
		detail  string
		absDiff bool
	}{
		{"no baseline", same, sameR, nil, p95, []string{analysis.NoBaseline}, "no baseline", false},
		{"incomparable", &other, sameR, entryOf(baseC, baseR), p95, []string{analysis.Incomparable},
			"fingerprint differs: gpu: A100 → H100, model: missing → llama", false},
		{"ignored fingerprint key", &other, sameR, entryOf(baseC, baseR),
			CompareOptions{Metrics: []string{"ttft.p95"}, IgnoreFingerprint: []string{"gpu", "model"}}, []string{analysis.Pass}, "", false},
		{"pass", same, sameR, entryOf(baseC, baseR), p95, []string{analysis.Pass}, "", false},
		{"regression", slow, slowR, entryOf(baseC, baseR), p95, []string{analysis.Regression}, "bootstrap of p95", false},
		{"improvement", fast, fastR, entryOf(baseC, baseR), p95, []string{analysis.Improvement}, "bootstrap", false},
		{"inconclusive", tiny, tinyR, entryOf(tinyBase, tinyBaseR),
			CompareOptions{Metrics: []string{"ttft.p50"}, Tolerances: map[string]float64{"*": 0.01}}, []string{analysis.Inconclusive}, "not significant", false},
		{"too few samples beyond the percentile", tiny, tinyR, entryOf(tinyBase, tinyBaseR),
			CompareOptions{Metrics: []string{"ttft.p95"}, Tolerances: map[string]float64{"*": 0.01}}, []string{analysis.Inconclusive}, "too few samples for p95 (n=30 vs 30; need ≥ 200", false},
		{"wide tolerance passes", slow, slowR, entryOf(baseC, baseR),
			CompareOptions{Metrics: []string{"ttft.p95"}, Tolerances: map[string]float64{"ttft": 0.5}}, []string{analysis.Pass}, "", false},
		{"specific tolerance wins", slow, slowR, entryOf(baseC, baseR),
			CompareOptions{Metrics: []string{"ttft.p95"}, Tolerances: map[string]float64{"ttft": 0.5, "ttft.p95": 0.01}}, []string{analysis.Regression}, "", false},
		{"mann-whitney regression", rs, rsR, entryOf(rb, rbR), p95, []string{analysis.Regression}, "Mann-Whitney over 5 vs 5", false},
		{"mean: welch", slow, slowR, entryOf(baseC, baseR), CompareOptions{Metrics: []string{"ttft.mean"}}, []string{analysis.Regression}, "Welch", false},
		{"max: no test", slow, slowR, entryOf(baseC, baseR), CompareOptions{Metrics: []string{"ttft.max"}, Tolerances: map[string]float64{"*": 0.01}},
			[]string{analysis.Inconclusive}, "no significance test", false},
		{"missing on baseline side", same, sameR, entryOf(rates(10, 0, 1000), nil), CompareOptions{Metrics: []string{"ttft.p95"}},
			[]string{analysis.NoBaseline}, "the baseline has no ttft", false},
		{"rates: throughput drop", rates(90, 0, 9000), nil, entryOf(rates(100, 0, 10000), nil), CompareOptions{Metrics: []string{"requests_per_second", "error_rate"}},
			[]string{analysis.Regression, analysis.Pass}, "count test", false},
		{"rates: small drop passes", rates(97, 0, 9700), nil, entryOf(rates(100, 0, 10000), nil), CompareOptions{Metrics: []string{"requests_per_second"}},
			[]string{analysis.Pass}, "", false},
		{"zero baseline error rate", rates(100, 0.02, 10000), nil, entryOf(rates(100, 0, 10000), nil), CompareOptions{Metrics: []string{"error_rate"}},
			[]string{analysis.Regression}, "absolute change (ratio)", true},
		{"zero baseline, small absolute rise", rates(100, 0.005, 10000), nil, entryOf(rates(100, 0, 10000), nil), CompareOptions{Metrics: []string{"error_rate"}},
			[]string{analysis.Pass}, "absolute change", true},
		{"zero and zero", rates(100, 0, 10000), nil, entryOf(rates(100, 0, 10000), nil), CompareOptions{Metrics: []string{"error_rate"}},
			[]string{analysis.Pass}, "", true},
		{"error rate falls", rates(100, 0, 10000), nil, entryOf(rates(100, 0.05, 10000), nil), CompareOptions{Metrics: []string{"error_rate"}},
			[]string{analysis.Improvement}, "two-proportion", true},
		{"zero baseline non-ratio", rateCase(map[string]analysis.Metric{"goodput": rateMetric(3, 300, analysis.UnitRequestsPerSecond)}), nil,
			entryOf(rateCase(map[string]analysis.Metric{"goodput": rateMetric(0, 300, analysis.UnitRequestsPerSecond)}), nil),
			CompareOptions{Metrics: []string{"goodput"}}, []string{analysis.Inconclusive}, "zero baseline", true},
		{"not measured now", rates(100, 0, 1000), nil, entryOf(same, sameR), CompareOptions{Metrics: []string{"ttft.p95"}},
			[]string{analysis.Regression}, "ttft was not measured in this run, but the baseline has it", false},
		{"throughput falls to zero", rateCase(map[string]analysis.Metric{
			"requests_per_second": rateMetric(0, 0, analysis.UnitRequestsPerSecond),
			"goodput":             rateMetric(0, 500, analysis.UnitRequestsPerSecond, 0, 0), // 2 repetitions: no Mann-Whitney
		}), nil, entryOf(rateCase(map[string]analysis.Metric{
			"requests_per_second": rateMetric(100, 10000, analysis.UnitRequestsPerSecond),
			"goodput":             rateMetric(5, 500, analysis.UnitRequestsPerSecond, 4, 6),
		}), nil), CompareOptions{Metrics: []string{"requests_per_second", "goodput"}},
			[]string{analysis.Regression, analysis.Regression}, "fell from 100 requests/s to 0", false},
		{"rate falls to zero within tolerance", rates(0, 0, 0), nil, entryOf(rates(100, 0, 10000), nil),
			CompareOptions{Metrics: []string{"requests_per_second"}, Tolerances: map[string]float64{"*": 1}}, []string{analysis.Pass}, "", false},
		{"lower-is-better rate falls to zero", rateCase(map[string]analysis.Metric{"wait_seconds": rateMetric(0, 0, analysis.UnitSeconds)}), nil,
			entryOf(rateCase(map[string]analysis.Metric{"wait_seconds": rateMetric(5, 100, analysis.UnitSeconds)}), nil),
			CompareOptions{Metrics: []string{"wait_seconds"}}, []string{analysis.Inconclusive}, "no significance test", false},
		{"error class gone is compared as zero", rates(100, 0, 10000), nil, entryOf(errClass(0.05, 10000), nil),
			CompareOptions{Metrics: []string{"error_rate_timeout"}}, []string{analysis.Improvement}, "two-proportion", true},
		{"small error class gone passes", rates(100, 0, 10000), nil, entryOf(errClass(0.005, 10000), nil),
			CompareOptions{Metrics: []string{"error_rate_timeout"}}, []string{analysis.Pass}, "absolute change (ratio)", true},
		{"error class without error_rate is missing", rateCase(map[string]analysis.Metric{}), nil, entryOf(errClass(0.05, 10000), nil),
			CompareOptions{Metrics: []string{"error_rate_timeout", "error_rate"}}, []string{analysis.Regression, analysis.Regression}, "error_rate_timeout was not measured", false},
		{"absent on both sides is skipped", rates(100, 0, 1000), nil, entryOf(rates(100, 0, 1000), nil), CompareOptions{Metrics: []string{"ttft.p95"}},
			nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.c, tt.raw, tt.base, tt.o)
			if len(got) != len(tt.want) {
				t.Fatalf("%d checks %+v, want %v", len(got), got, tt.want)
			}
			for i, ck := range got {
				if ck.Verdict != tt.want[i] || ck.Kind != "regression" {
					t.Errorf("check %d: %+v, want verdict %s", i, ck, tt.want[i])
				}
			}
			if tt.detail != "" && !strings.Contains(got[0].Detail, tt.detail) {
				t.Errorf("detail %q, want it to contain %q", got[0].Detail, tt.detail)
			}
			if tt.absDiff && len(got) > 0 && got[0].Delta != got[0].Value-got[0].Baseline {
				t.Errorf("delta %v is not the absolute change %v − %v", got[0].Delta, got[0].Value, got[0].Baseline)
			}
		})
	}
}

// TestSignificanceFromAnalysis: baselines only picks the test; the
// p-value on each check is exactly the one analysis returns for the same
// numbers.
func TestSignificanceFromAnalysis(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	baseC, baseR := latencyCase(r, 800, 1, 0, 0.5, 1)
	curC, curR := latencyCase(r, 800, 1, 0, 0.5, 1.08)
	repBaseC, repBaseR := latencyCase(r, 400, 5, -1, 0.3, 1)
	repCurC, repCurR := latencyCase(r, 400, 5, -1, 0.3, 1.1)
	rates := func(rps float64, n int, er float64) *analysis.Case {
		return rateCase(map[string]analysis.Metric{
			"requests_per_second": rateMetric(rps, n, analysis.UnitRequestsPerSecond),
			"error_rate":          rateMetric(er, n, analysis.UnitRatio),
		})
	}
	rateBase, rateCur := entryOf(rates(100, 1000, 0.05), nil), rates(90, 900, 0.03)
	base, repBase := entryOf(baseC, baseR), entryOf(repBaseC, repBaseR)
	analysed := func(p float64, ok bool) float64 {
		if !ok {
			t.Fatal("analysis found no test possible")
		}
		return p
	}
	tight := map[string]float64{"*": 0.001}
	tests := []struct {
		name   string
		c      *analysis.Case
		raw    *analysis.Raw
		base   *Entry
		metric string
		test   string
		want   float64
	}{
		{"two-proportion", rateCur, nil, rateBase, "error_rate", "two-proportion z-test",
			analysed(analysis.TwoProportionPValue(0.03, 900, 0.05, 1000))},
		{"count", rateCur, nil, rateBase, "requests_per_second", "count test",
			analysed(analysis.RateRatioPValue(90, 900, 100, 1000))},
		{"welch", curC, curR, base, "ttft.mean", "Welch z-test", analysed(analysis.WelchZPValue(
			curC.Metrics["ttft"].Mean, curC.Metrics["ttft"].Stddev, curC.Metrics["ttft"].Count,
			base.Metrics["ttft"].Mean, base.Metrics["ttft"].Stddev, base.Metrics["ttft"].Count))},
		{"mann-whitney", repCurC, repCurR, repBase, "ttft.p95", "Mann-Whitney over 5 vs 5 repetitions",
			analysis.MannWhitney(repCurR.RepStat("ttft", "p95"), repBase.Metrics["ttft"].RepStats["p95"])},
		{"bootstrap", curC, curR, base, "ttft.p95", "bootstrap of p95", analysis.BootstrapPValue(
			curR.Dists["ttft"], base.Metrics["ttft"].Histogram, 95, DefaultResamples,
			rand.New(rand.NewPCG(0, seedOf("ttft.p95"))))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !(tt.want > 0 && tt.want < 1) {
				t.Fatalf("p = %v from analysis: choose inputs that tell tests apart", tt.want)
			}
			got := Compare(tt.c, tt.raw, tt.base, CompareOptions{Metrics: []string{tt.metric}, Tolerances: tight})
			if len(got) != 1 {
				t.Fatalf("%d checks %+v, want 1", len(got), got)
			}
			if !strings.Contains(got[0].Detail, tt.test) {
				t.Errorf("detail %q, want the %s", got[0].Detail, tt.test)
			}
			if got[0].PValue != tt.want {
				t.Errorf("p = %v, analysis returns %v", got[0].PValue, tt.want)
			}
		})
	}
}

func TestCompareDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	bc, br := latencyCase(r, 800, 1, 0, 0.5, 1)
	cc, cr := latencyCase(r, 800, 1, 0, 0.5, 1.08)
	o := CompareOptions{Metrics: []string{"ttft.p95", "ttft.p99"}, Seed: 7}
	a := Compare(cc, cr, entryOf(bc, br), o)
	b := Compare(cc, cr, entryOf(bc, br), o)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different checks: %+v vs %+v", a[i], b[i])
		}
	}
}

// TestMonteCarloFalseRegressions: A/A runs (same lognormal, 500–2000
// requests a run) rarely give a regression with default options, and a
// 10% shift of p95 is found almost always.
func TestMonteCarloFalseRegressions(t *testing.T) {
	if testing.Short() {
		t.Skip("Monte Carlo")
	}
	trials := 400
	o := CompareOptions{Metrics: []string{"ttft.p95"}, Seed: 42}
	r := rand.New(rand.NewPCG(2024, 1))
	sizes := []int{500, 1000, 2000}
	sigmas := []float64{0.3, 0.6}
	falseReg := 0
	for i := range trials {
		n, s := sizes[i%3], sigmas[(i/3)%2]
		bc, br := latencyCase(r, n, 1, -1, s, 1)
		cc, cr := latencyCase(r, n, 1, -1, s, 1)
		if Compare(cc, cr, entryOf(bc, br), o)[0].Verdict == analysis.Regression {
			falseReg++
		}
	}
	t.Logf("A/A: %d false regressions in %d trials", falseReg, trials)
	if falseReg > trials/100 {
		t.Errorf("A/A: %d false regressions in %d trials (> 1%%)", falseReg, trials)
	}
	found := 0
	for range trials {
		bc, br := latencyCase(r, 2000, 1, -1, 0.3, 1)
		cc, cr := latencyCase(r, 2000, 1, -1, 0.3, 1.10)
		if Compare(cc, cr, entryOf(bc, br), o)[0].Verdict == analysis.Regression {
			found++
		}
	}
	t.Logf("+10%% p95: flagged in %d of %d trials", found, trials)
	if found < trials*95/100 {
		t.Errorf("+10%% p95: flagged in %d of %d trials (< 95%%)", found, trials)
	}
}

// TestCompareRun: which cases CompareRun compares, and against what.
func TestCompareRun(t *testing.T) {
	rps := func(v float64) map[string]analysis.Metric {
		return map[string]analysis.Metric{"requests_per_second": rateMetric(v, 10000, analysis.UnitRequestsPerSecond)}
	}
	kase := func(id, verdict string, v float64, errs ...string) analysis.Case {
		return analysis.Case{ID: id, Benchmark: "chat", Verdict: verdict, Metrics: rps(v), Errors: errs,
			Fingerprint: map[string]string{"gpu": "A100"}}
	}
	base := &analysis.Summary{Suite: "s", Cases: []analysis.Case{
		kase("chat/a", "", 100), kase("chat/b", "", 100), kase("chat/c", "", 100),
		kase("chat/d", analysis.Skipped, 100), kase("chat/e", "", 100, "service died"),
		kase("chat/f", "", 100), kase("chat/g", "", 100),
	}}
	f := FromRun(base, nil)
	for _, id := range []string{"chat/d", "chat/e"} {
		if f.Entry("chat", id) != nil {
			t.Errorf("FromRun: case %s has an entry, want none (skipped or failed)", id)
		}
	}
	cur := &analysis.Summary{Cases: []analysis.Case{
		kase("chat/a", "", 100),               // same: pass
		kase("chat/b", "", 50),                // half the rate: regression
		kase("chat/c", analysis.Skipped, 0),   // skipped: not compared
		kase("chat/d", "", 100),               // base skipped: no baseline
		kase("chat/e", "", 100),               // base failed: no baseline
		kase("chat/f", "", 100, "no samples"), // failed: not compared
		kase("chat/g", "", 50),                // regression disabled: not compared
	}}
	cur.Cases[3].Fingerprint = map[string]string{"gpu": "H100"}
	CompareRun(cur, nil, f, func(c *analysis.Case) (CompareOptions, bool) {
		return CompareOptions{Metrics: []string{"requests_per_second"}}, c.ID != "chat/g"
	})
	want := map[string]string{"chat/a": analysis.Pass, "chat/b": analysis.Regression, "chat/c": "",
		"chat/d": analysis.NoBaseline, "chat/e": analysis.NoBaseline, "chat/f": "", "chat/g": ""}
	for _, c := range cur.Cases {
		got := ""
		if len(c.Checks) > 1 {
			t.Errorf("%s: %d checks, want at most one: %+v", c.ID, len(c.Checks), c.Checks)
		}
		if len(c.Checks) > 0 {
			got = c.Checks[0].Verdict
			if c.Checks[0].Kind != analysis.CheckRegression {
				t.Errorf("%s: check kind %q", c.ID, c.Checks[0].Kind)
			}
		}
		if got != want[c.ID] {
			t.Errorf("%s: verdict %q, want %q", c.ID, got, want[c.ID])
		}
	}

	// No baselines at all: every measured case is no_baseline.
	none := &analysis.Summary{Cases: []analysis.Case{kase("chat/a", "", 100), kase("chat/c", analysis.Skipped, 0)}}
	CompareRun(none, nil, nil, func(*analysis.Case) (CompareOptions, bool) { return CompareOptions{}, true })
	if cks := none.Cases[0].Checks; len(cks) != 1 || cks[0].Verdict != analysis.NoBaseline {
		t.Errorf("nil base: checks %+v, want one no_baseline", cks)
	}
	if cks := none.Cases[1].Checks; len(cks) != 0 {
		t.Errorf("nil base, skipped case: checks %+v, want none", cks)
	}
}

// TestCompareDeclaredDirection: a metric whose case declares it
// higher-is-better (an IO500 phase time would be lower by its suffix, a
// bandwidth has no rule by name) regresses when it falls, and improves
// when it rises.
func TestCompareDeclaredDirection(t *testing.T) {
	bw := func(v float64, better string) *analysis.Case {
		m := rateMetric(v, 100000, analysis.UnitBytesPerSecond) // many operations: significant
		m.Better = better
		return rateCase(map[string]analysis.Metric{"ior_easy_write": m})
	}
	o := CompareOptions{Metrics: []string{"ior_easy_write"}}
	base := entryOf(bw(10e9, "higher"), nil)
	for _, tc := range []struct {
		v      float64
		better string
		want   string
	}{
		{5e9, "higher", analysis.Regression},
		{20e9, "higher", analysis.Improvement},
		{20e9, "lower", analysis.Regression},
	} {
		got := Compare(bw(tc.v, tc.better), nil, base, o)
		if len(got) != 1 || got[0].Verdict != tc.want {
			t.Errorf("%g declared %s: checks %+v, want %s", tc.v, tc.better, got, tc.want)
		}
	}
}

// TestCompareOneValueEachSide: a batch benchmark's metric with one
// repetition has one value on each side (io500's score_total of a nightly
// run). No test can ever tell noise from change there, so the tolerance
// decides: before, a score that halved was "inconclusive" (no test
// possible) and the case passed, whatever the drop.
func TestCompareOneValueEachSide(t *testing.T) {
	one := func(v float64) analysis.Metric {
		return analysis.Metric{Kind: analysis.KindDistribution, Better: "higher", Count: 1, Mean: v, Min: v, Max: v,
			P50: v, P90: v, P95: v, P99: v, P999: v}
	}
	o := CompareOptions{PerRun: true}.withDefaults()
	for _, c := range []struct {
		name     string
		cur, old float64
		stat     string
		want     string
	}{
		{"halved", 50, 100, "mean", analysis.Regression},
		{"halved, a percentile", 50, 100, "p95", analysis.Regression},
		{"doubled", 200, 100, "mean", analysis.Improvement},
		{"within tolerance", 97, 100, "mean", analysis.Pass},
	} {
		t.Run(c.name, func(t *testing.T) {
			ck := analysis.Check{Metric: "score_total", Stat: c.stat}
			compareStat(&ck, one(c.cur), Metric{Metric: one(c.old)}, nil, o)
			if ck.Verdict != c.want {
				t.Errorf("verdict %s (%s), want %s", ck.Verdict, ck.Detail, c.want)
			}
			if c.want != analysis.Pass && !strings.Contains(ck.Detail, "one value on each side") {
				t.Errorf("detail %q does not say why no test ran", ck.Detail)
			}
		})
	}
	// Samples of requests (not runs): one on each side stays untested.
	ck := analysis.Check{Metric: "ttft", Stat: "mean"}
	compareStat(&ck, one(50), Metric{Metric: one(100)}, nil, CompareOptions{}.withDefaults())
	if ck.Verdict != analysis.Inconclusive {
		t.Errorf("one request on each side: %s, want inconclusive", ck.Verdict)
	}
}
