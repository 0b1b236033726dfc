package report

import (
	"fmt"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/benchrun/benchrun/analysis"
)

// trendScale is how a trend's values in base unit unit are drawn: the
// factor and the axis name (seconds as ms, ratios as %, bytes/s as GiB/s).
func trendScale(unit string) (float64, string) {
	switch analysis.BaseUnit(unit) {
	case analysis.UnitSeconds:
		return 1e3, "ms"
	case analysis.UnitRatio:
		return 100, "%"
	case analysis.UnitBytesPerSecond:
		return 1.0 / (1 << 30), "GiB/s"
	case analysis.UnitBytes:
		return 1.0 / (1 << 20), "MiB"
	}
	return 1, unit
}

// runLabel is a run's start as an axis label: "2026-11-23 02:00".
func runLabel(run string) string {
	if len(run) >= 16 {
		return strings.Replace(run[:16], "T", " ", 1)
	}
	return run
}

// maxTrendCharts bounds the trend charts of one benchmark, so a report of
// a hundred cases stays small.
const maxTrendCharts = 24

// trendCharts draws each trend of each case of bm (analysis.HistoryTrend,
// from the summary): the value per run, the baseline band of its
// regression check as dashed lines, and a vertical mark at the run where
// each change point starts, named with the change of the mean. At most
// maxTrendCharts are drawn, those with change points first (then in case
// and statistic order); left is how many were left out.
func trendCharts(id func(string) string, bm benchmark) (out []*chartSpec, left int) {
	type ref struct{ ci, ti int }
	var withCP, without []ref
	for ci, c := range bm.Cases {
		for ti := range c.Trends {
			if len(c.Trends[ti].ChangePoints) > 0 {
				withCP = append(withCP, ref{ci, ti})
			} else {
				without = append(without, ref{ci, ti})
			}
		}
	}
	all := append(withCP, without...)
	if len(all) > maxTrendCharts {
		left = len(all) - maxTrendCharts
		all = all[:maxTrendCharts]
	}
	for _, r := range all {
		c := bm.Cases[r.ci]
		out = append(out, trendChart(id(fmt.Sprintf("trend-%d-%d", r.ci, r.ti)), c, &c.Trends[r.ti]))
	}
	return out, left
}

func trendChart(id string, c *analysis.Case, t *analysis.HistoryTrend) *chartSpec {
	scale, axis := trendScale(t.Unit)
	better := ""
	if t.Better != "" {
		better = ", " + t.Better + " is better"
	}
	title := fmt.Sprintf("trend: %s %s", caseLabel(c), trendLabel(t))
	l := charts.NewLine()
	l.SetGlobalOptions(append(globals(id, title, fmt.Sprintf("last %d runs of the history, this one last%s", len(t.Runs), better)),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Name: "run (UTC)", NameLocation: "middle", NameGap: 28}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: axis, Scale: opts.Bool(true)}),
	)...)
	labels := make([]string, len(t.Runs))
	for i, r := range t.Runs {
		labels[i] = runLabel(r)
	}
	l.SetXAxis(labels)
	pts := make([]opts.LineData, len(t.Values))
	for i, v := range t.Values {
		pts[i] = opts.LineData{Name: analysis.FormatValue(v, t.Unit), Value: r4(v * scale)}
	}
	so := []charts.SeriesOpts{charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), SymbolSize: 6})}
	var marks []opts.MarkLineNameXAxisItem
	for _, cp := range t.ChangePoints {
		if cp.Index < len(labels) {
			marks = append(marks, opts.MarkLineNameXAxisItem{Name: fmt.Sprintf("change point %s (p=%s)", fmtDelta(cp.Delta), analysis.FormatNumber(cp.PValue)), XAxis: labels[cp.Index]})
		}
	}
	if len(marks) > 0 {
		so = append(so, charts.WithMarkLineNameXAxisItemOpts(marks...),
			charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"},
				LineStyle: &opts.LineStyle{Color: "#d9534f", Type: "dashed"},
				Label:     &opts.Label{Show: opts.Bool(true), Formatter: "{b}", Position: "insideEndTop"}}))
	}
	l.AddSeries(trendLabel(t), pts, so...)
	if t.Baseline != 0 {
		band := func(name string, v float64) {
			ys := make([]opts.LineData, len(t.Values))
			for i := range ys {
				ys[i] = opts.LineData{Value: r4(v * scale)}
			}
			l.AddSeries(name, ys, charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)}),
				charts.WithLineStyleOpts(opts.LineStyle{Type: "dashed", Color: "#4cae4c"}),
				charts.WithItemStyleOpts(opts.ItemStyle{Color: "#4cae4c"}))
		}
		tol := analysis.FormatNumber(t.Tolerance * 100)
		band("baseline −"+tol+"%", t.BandLow())
		band("baseline", t.Baseline)
		band("baseline +"+tol+"%", t.BandHigh())
	}
	return &chartSpec{ID: id, Title: title, Wide: true, Option: optionJSON(l)}
}

// trendLine is a case's trends in one markdown line: each statistic's
// latest change point ("ttft.p95 changed at 2026-11-25 02:00, +15.2%") or
// that it held steady over the runs shown; "" without trends.
func trendLine(c *analysis.Case) string {
	if len(c.Trends) == 0 {
		return ""
	}
	var parts []string
	for i := range c.Trends {
		t := &c.Trends[i]
		if n := len(t.ChangePoints); n > 0 {
			cp := t.ChangePoints[n-1]
			parts = append(parts, fmt.Sprintf("%s changed at %s, %s (%s → %s)", trendLabel(t), runLabel(t.Runs[cp.Index]), fmtDelta(cp.Delta),
				analysis.FormatValue(cp.Before, t.Unit), analysis.FormatValue(cp.After, t.Unit)))
		} else {
			parts = append(parts, trendLabel(t)+" steady")
		}
	}
	return fmt.Sprintf("trend over the last %d runs: %s", len(c.Trends[0].Runs), strings.Join(parts, "; "))
}

// hasTrends reports whether a case of cs has a trend.
func hasTrends(cs []*analysis.Case) bool {
	for _, c := range cs {
		if len(c.Trends) > 0 {
			return true
		}
	}
	return false
}

// trendLabel names a trend's statistic as the check tables do: "ttft.p95",
// a rate by its metric alone ("error_rate").
func trendLabel(t *analysis.HistoryTrend) string {
	return checkLabel(analysis.Check{Metric: t.Metric, Stat: t.Stat})
}
