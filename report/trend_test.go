package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
)

// trendSummary is a one-case summary whose ttft.p95 has a history of n
// nights (1% noise) that steps up by step from night at on, compared with
// a baseline of 100 ms ± 20%.
func trendSummary(n, at int, step float64) *analysis.Summary {
	r := rand.New(rand.NewPCG(11, 2))
	var runs []string
	var vals []float64
	for i := range n {
		v := 0.1
		if i >= at {
			v *= 1 + step
		}
		runs = append(runs, time.Date(2026, 10, 1+i, 2, 0, 0, 0, time.UTC).Format(time.RFC3339))
		vals = append(vals, v*(1+0.01*r.NormFloat64()))
	}
	c := analysis.Case{ID: "chat/users=8", Benchmark: "chat", Verdict: analysis.Pass,
		Metrics: map[string]analysis.Metric{analysis.MetricTTFT: {Kind: analysis.KindDistribution, Unit: analysis.UnitSeconds, Count: 100, P95: vals[n-1]}},
		Checks: []analysis.Check{{Name: "ttft.p95", Kind: analysis.CheckRegression, Metric: analysis.MetricTTFT, Stat: "p95", Verdict: analysis.Pass,
			Value: vals[n-1], Unit: analysis.UnitSeconds, Baseline: 0.1, Tolerance: 0.2}}}
	c.AddTrend(analysis.MetricTTFT, "p95", analysis.UnitSeconds, "lower", runs, vals, 30)
	return &analysis.Summary{Suite: "nightly", Verdict: analysis.Pass, Cases: []analysis.Case{c}}
}

// TestTrendChart: a history with a 15% step at night 25 (within the ±20%
// band, so every night passed) gets the change point marked on the trend
// chart at that night, with the band drawn; report.md says where it
// changed. The chart's option is a golden file.
func TestTrendChart(t *testing.T) {
	in := &Input{Summary: trendSummary(40, 25, 0.15)}
	bms := in.benchmarks()
	cs, left := trendCharts(func(k string) string { return "b0-" + k }, bms[0])
	if len(cs) != 1 || left != 0 {
		t.Fatalf("%d trend charts, want 1", len(cs))
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, cs[0].Option, "", "  "); err != nil {
		t.Fatal(err)
	}
	golden(t, "trend-chart.json", append(pretty.Bytes(), '\n'))
	opt := string(cs[0].Option)
	for _, want := range []string{`"xAxis":"2026-10-26 02:00"`, "change point +15", "baseline −20%", "baseline +20%"} {
		if !strings.Contains(opt, want) {
			t.Errorf("trend chart lacks %q", want)
		}
	}
	md := render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteMarkdown(b, in) })
	if !strings.Contains(string(md), "users=8 — trend over the last 30 runs: ttft.p95 changed at 2026-10-26 02:00, +15") {
		t.Errorf("report.md has no trend line:\n%s", md)
	}
	html := render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteHTML(b, in) })
	if !strings.Contains(string(html), `id="b0-trend-0-0"`) {
		t.Error("report.html has no trend chart")
	}
}

// TestTrendChartSteady: a history without a step draws no change point and
// report.md calls it steady; a summary without history has no trend chart
// and no trend line, and still renders.
func TestTrendChartSteady(t *testing.T) {
	in := &Input{Summary: trendSummary(30, 99, 0)}
	cs, _ := trendCharts(func(k string) string { return "b0-" + k }, in.benchmarks()[0])
	if len(cs) != 1 || strings.Contains(string(cs[0].Option), "change point") {
		t.Errorf("a steady history is marked: %s", cs[0].Option)
	}
	md := render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteMarkdown(b, in) })
	if !strings.Contains(string(md), "ttft.p95 steady") {
		t.Errorf("report.md:\n%s", md)
	}
	in.Summary.Cases[0].Trends = nil
	md = render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteMarkdown(b, in) })
	html := render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteHTML(b, in) })
	if strings.Contains(string(md), "trend") || strings.Contains(string(html), "trend-0-0") {
		t.Error("a run without history has trends")
	}
}

// TestTrendChartsBounded: a benchmark with more trends than maxTrendCharts
// draws that many, those with a change point first, and the page says how
// many were left out.
func TestTrendChartsBounded(t *testing.T) {
	step := trendSummary(40, 25, 0.15).Cases[0]
	flat := trendSummary(40, 99, 0).Cases[0]
	sum := &analysis.Summary{Suite: "nightly", Verdict: analysis.Pass}
	for i := range 30 {
		c := flat
		if i == 29 {
			c = step
		}
		c.ID = fmt.Sprintf("chat/users=%d", i)
		sum.Cases = append(sum.Cases, c)
	}
	in := &Input{Summary: sum}
	cs, left := trendCharts(func(k string) string { return "b0-" + k }, in.benchmarks()[0])
	if len(cs) != maxTrendCharts || left != 30-maxTrendCharts || cs[0].ID != "b0-trend-29-0" {
		t.Fatalf("%d charts (first %s), %d left out: want %d, the stepped case first, %d left out", len(cs), cs[0].ID, left, maxTrendCharts, 30-maxTrendCharts)
	}
	html := render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteHTML(b, in) })
	if !strings.Contains(string(html), fmt.Sprintf("trend charts of %d more statistics left out", 30-maxTrendCharts)) {
		t.Error("the page does not say trend charts were left out")
	}
}
