package analysis

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// stepHistory is n nightly values around 1.0 (1% noise) that step up by 15%
// from index at on.
func stepHistory(n, at int, seed uint64) (runs []string, values []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range n {
		v := 1.0
		if i >= at {
			v = 1.15
		}
		runs = append(runs, time.Date(2026, 10, 1+i, 2, 0, 0, 0, time.UTC).Format(time.RFC3339))
		values = append(values, v*(1+0.01*r.NormFloat64()))
	}
	return runs, values
}

// TestAddTrend: the trend keeps the last n runs, takes the band from the
// case's compared regression check, and marks the step at its run.
func TestAddTrend(t *testing.T) {
	runs, values := stepHistory(40, 25, 3)
	c := &Case{Checks: []Check{
		{Kind: CheckThreshold, Metric: "ttft", Stat: "p95", Limit: 2},
		{Kind: CheckRegression, Metric: "ttft", Stat: "p95", Verdict: Pass, Baseline: 1.0, Tolerance: 0.2},
	}}
	c.AddTrend("ttft", "p95", UnitSeconds, "lower", runs, values, 30)
	if len(c.Trends) != 1 {
		t.Fatalf("trends %+v", c.Trends)
	}
	tr := c.Trends[0]
	if len(tr.Runs) != 30 || tr.Runs[29] != runs[39] || tr.Runs[0] != runs[10] {
		t.Errorf("runs %v: want the last 30", tr.Runs)
	}
	if tr.Baseline != 1.0 || tr.Tolerance != 0.2 || math.Abs(tr.BandLow()-0.8) > 1e-12 || math.Abs(tr.BandHigh()-1.2) > 1e-12 {
		t.Errorf("band %v ± %v", tr.Baseline, tr.Tolerance)
	}
	if len(tr.ChangePoints) != 1 {
		t.Fatalf("change points %+v: want one", tr.ChangePoints)
	}
	cp := tr.ChangePoints[0]
	if got := tr.Runs[cp.Index]; got < runs[24] || got > runs[26] {
		t.Errorf("change point at %s, want %s ± 1 night", got, runs[25])
	}
	if cp.Delta < 0.12 || cp.Delta > 0.18 {
		t.Errorf("delta %.3f, want about +15%%", cp.Delta)
	}
}

// TestAddTrendNoBand: without a comparable baseline there is no band; a
// flat history has no change point; one run is no trend at all.
func TestAddTrendNoBand(t *testing.T) {
	runs, values := stepHistory(20, 99, 5)
	c := &Case{Checks: []Check{{Kind: CheckRegression, Metric: "e2e", Stat: "p95", Verdict: NoBaseline, Baseline: 3}}}
	c.AddTrend("e2e", "p95", UnitSeconds, "lower", runs, values, 0)
	if len(c.Trends) != 1 || c.Trends[0].Baseline != 0 || len(c.Trends[0].ChangePoints) != 0 {
		t.Errorf("trend %+v: want no band, no change point", c.Trends)
	}
	c.AddTrend("ttft", "p95", UnitSeconds, "lower", runs[:1], values[:1], 0)
	c.AddTrend("itl", "p95", UnitSeconds, "lower", runs[:3], []float64{math.NaN(), math.Inf(1), 1}, 0)
	if len(c.Trends) != 1 {
		t.Errorf("a single value made a trend: %+v", c.Trends[1:])
	}
}
