package analysis

import (
	"fmt"
	"testing"
)

// frontierProbes are the probe cases of a search run at loads 100, 200,
// 150 (ttft p99 40, 120, 60 ms, each with a tight interval) against
// ttft.p99 < 80ms: capacity 150, bracket [150, 200].
func frontierProbes() []*Case {
	mk := func(load, p99 float64) *Case {
		return &Case{ID: fmt.Sprintf("chat/search=rate:%g", load), Benchmark: "chat",
			Params: map[string]string{"search": fmt.Sprintf("rate:%g", load), "requests": "1000"},
			Metrics: map[string]Metric{MetricTTFT: {Kind: KindDistribution, Unit: UnitSeconds, Count: 1000, P50: p99 / 2, P99: p99,
				CI: map[string][2]float64{"p99": {p99 * 0.95, p99 * 1.05}}},
				MetricErrorRate: {Kind: KindRate, Unit: UnitRatio, Count: 1000}}}
	}
	return []*Case{mk(100, 0.04), mk(200, 0.12), mk(150, 0.06)}
}

// TestCapacityFrontier: the capacity case carries the SLO frontier: the
// SLO with its limit and unit, every probe in load order with the judged
// statistic, its interval and verdict, and the capacity with its bracket.
func TestCapacityFrontier(t *testing.T) {
	th, err := ParseThreshold("ttft.p99 < 80ms")
	if err != nil {
		t.Fatal(err)
	}
	spec := SearchSpec{Variable: "rate", Min: 100, Max: 400, SLOs: []Threshold{th}, Precision: 0.5, Remeasure: 1}
	c := CapacityCase("chat", "llm", spec, frontierProbes())
	f := c.Frontier
	if f == nil {
		t.Fatal("no frontier")
	}
	if f.Capacity != 150 || f.Bracket != [2]float64{150, 200} || f.Variable != "rate" {
		t.Errorf("capacity %v bracket %v variable %q: want 150 in [150, 200], rate", f.Capacity, f.Bracket, f.Variable)
	}
	if len(f.SLOs) != 1 || f.SLOs[0].Metric != "ttft" || f.SLOs[0].Stat != "p99" || f.SLOs[0].Limit != 0.08 || f.SLOs[0].Unit != UnitSeconds {
		t.Errorf("SLOs %+v", f.SLOs)
	}
	want := []struct {
		load    float64
		p99     float64
		verdict string
	}{{100, 0.04, ProbePass}, {150, 0.06, ProbePass}, {200, 0.12, ProbeFail}}
	if len(f.Probes) != len(want) {
		t.Fatalf("probes %+v", f.Probes)
	}
	for i, w := range want {
		p := f.Probes[i]
		v, ok := p.Values[th.Expr]
		if p.Load != w.load || p.Verdict != w.verdict || !ok || v.Value != w.p99 || v.Lo != w.p99*0.95 || v.Hi != w.p99*1.05 {
			t.Errorf("probe %d %+v: want load %v, p99 %v in its interval, %s", i, p, w.load, w.p99, w.verdict)
		}
	}
}

// TestSearchWallSeconds: a search's wall time runs from its first probe's
// start to its last probe's end, whatever their order; unknown when a
// probe has no start or end.
func TestSearchWallSeconds(t *testing.T) {
	cases := []*Case{
		{Start: "2026-12-01T10:00:30Z", End: "2026-12-01T10:00:42Z"},
		{Start: "2026-12-01T10:00:00Z", End: "2026-12-01T10:00:20Z"},
		{Start: "2026-12-01T10:00:20Z", End: "2026-12-01T10:00:30Z"},
	}
	if got := wallSeconds(cases); got != 42 {
		t.Errorf("wall %v s, want 42", got)
	}
	if got := wallSeconds(append(cases, &Case{Start: "2026-12-01T10:00:50Z"})); got != 0 {
		t.Errorf("wall %v s with a probe that did not end, want 0", got)
	}
}
