package report

import (
	"maps"
	"slices"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/benchrun/benchrun/analysis"
)

// recallMetrics returns the recall_at_<k> metrics any case of bm has,
// sorted (a vector benchmark's quality beside its speed).
func recallMetrics(bm benchmark) []string {
	seen := map[string]bool{}
	for _, c := range bm.Cases {
		for k := range c.Metrics {
			if strings.HasPrefix(k, "recall_at_") {
				seen[k] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// recallChart plots each case's mean recall against its QPS
// (requests_per_second), one point per case in case order: the
// recall–QPS trade-off of an ef_search or concurrency sweep. Nil when no
// case has a recall metric.
func recallChart(id string, bm benchmark) *chartSpec {
	names := recallMetrics(bm)
	if len(names) == 0 {
		return nil
	}
	l := valueLine(id, "recall vs QPS", "mean recall of each case against its queries per second, in case order", "requests_per_second", "recall")
	n := 0
	for _, name := range names {
		var pts []opts.LineData
		for _, c := range bm.Cases {
			x, okx := c.Metrics[analysis.MetricRequestsPerSecond]
			y, oky := c.Metrics[name]
			if !okx || !oky || y.Count == 0 {
				continue
			}
			pts = append(pts, opts.LineData{Name: caseLabel(c), Value: []any{r4(x.Value), r4(y.Mean)}})
		}
		if len(pts) == 0 {
			continue
		}
		l.AddSeries(name, pts, charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), SymbolSize: 8}),
			charts.WithLabelOpts(opts.Label{Show: opts.Bool(len(pts) <= 12), Formatter: "{b}", Position: "top"}))
		n++
	}
	if n == 0 {
		return nil
	}
	return &chartSpec{ID: id, Title: "recall vs QPS", Wide: true, Option: optionJSON(l)}
}
