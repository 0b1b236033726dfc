package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// TestFrontierChart: a benchmark whose capacity case carries the SLO
// frontier analysis built gets a frontier chart after its sweep chart:
// each probe's ttft p99 against its load with its verdict, the SLO limit
// and the capacity as lines. The chart's option is a golden file; a
// benchmark without a search has none.
func TestFrontierChart(t *testing.T) {
	th, err := analysis.ParseThreshold("ttft.p99 < 80ms")
	if err != nil {
		t.Fatal(err)
	}
	spec := analysis.SearchSpec{Variable: "rate", Min: 100, Max: 400, SLOs: []analysis.Threshold{th}, Precision: 0.5, Remeasure: 1}
	var probes []*analysis.Case
	for _, p := range []struct{ load, p99 float64 }{{100, 0.04}, {200, 0.12}, {150, 0.06}} {
		probes = append(probes, &analysis.Case{ID: fmt.Sprintf("chat/search=rate:%g", p.load), Benchmark: "chat",
			Params: map[string]string{"search": fmt.Sprintf("rate:%g", p.load), "requests": "1000"},
			Metrics: map[string]analysis.Metric{analysis.MetricTTFT: {Kind: analysis.KindDistribution, Unit: analysis.UnitSeconds,
				Count: 1000, P50: p.p99 / 2, P99: p.p99, CI: map[string][2]float64{"p99": {p.p99 * 0.95, p.p99 * 1.05}}},
				analysis.MetricErrorRate: {Kind: analysis.KindRate, Unit: analysis.UnitRatio, Count: 1000}}})
	}
	capCase := analysis.CapacityCase("chat", "llm", spec, probes)
	bm := benchmark{Name: "chat", Cases: append(probes, &capCase)}
	var frontier *chartSpec
	for _, c := range benchmarkCharts(0, bm, nil) {
		if c.ID == "b0-frontier" {
			frontier = c
		}
	}
	if frontier == nil {
		t.Fatal("no frontier chart")
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, frontier.Option, "", "  "); err != nil {
		t.Fatal(err)
	}
	golden(t, "frontier-chart.json", append(pretty.Bytes(), '\n'))
	for _, want := range []string{`SLO ttft.p99 \u003c 80ms`, `"yAxis": 80`, `"xAxis": 150`, "rate=200 try 1: fail", "rate=150 try 1: pass"} {
		if !strings.Contains(pretty.String(), want) {
			t.Errorf("frontier chart lacks %q", want)
		}
	}
	if frontierChart("x", benchmark{Name: "chat", Cases: probes}) != nil {
		t.Error("a frontier chart without a capacity case")
	}
}

// TestFrontierChartSpeed: the frontier of a search over a trace replay's
// speed is drawn against the speed, named as a multiple of the recorded
// pace.
func TestFrontierChartSpeed(t *testing.T) {
	th, err := analysis.ParseThreshold("ttft.p99 < 80ms")
	if err != nil {
		t.Fatal(err)
	}
	spec := analysis.SearchSpec{Variable: "speed", Min: 1, Max: 4, SLOs: []analysis.Threshold{th}, Precision: 0.5, Remeasure: 1}
	var probes []*analysis.Case
	for _, p := range []struct{ load, p99 float64 }{{1, 0.04}, {2, 0.12}} {
		probes = append(probes, &analysis.Case{ID: fmt.Sprintf("chat/search=speed:%g", p.load), Benchmark: "chat",
			Params: map[string]string{"search": fmt.Sprintf("speed:%g", p.load), "requests": "1000"},
			Metrics: map[string]analysis.Metric{analysis.MetricTTFT: {Kind: analysis.KindDistribution, Unit: analysis.UnitSeconds,
				Count: 1000, P99: p.p99, CI: map[string][2]float64{"p99": {p.p99 * 0.95, p.p99 * 1.05}}},
				analysis.MetricErrorRate: {Kind: analysis.KindRate, Unit: analysis.UnitRatio, Count: 1000}}})
	}
	capCase := analysis.CapacityCase("chat", "llm", spec, probes)
	c := frontierChart("b0-frontier", benchmark{Name: "chat", Cases: append(probes, &capCase)})
	if c == nil {
		t.Fatal("no frontier chart")
	}
	for _, want := range []string{"speed (× the trace's recorded pace)", "speed=2 try 1: fail", "speed=1 try 1: pass"} {
		if !strings.Contains(string(c.Option), want) && !strings.Contains(string(c.Option), strings.ReplaceAll(want, "'", `\u0027`)) {
			t.Errorf("frontier chart lacks %q", want)
		}
	}
}
