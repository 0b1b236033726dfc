package report

import (
	"fmt"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/benchrun/benchrun/analysis"
)

// frontierChart draws the SLO frontier of a benchmark's capacity search
// (analysis.Frontier, on its capacity case): per SLO judged in seconds,
// the judged statistic of every probe against its load (each point named
// with its verdict and 95% interval), the SLO's limit as a horizontal line
// and the capacity found as a vertical one. SLOs in other units
// (error_rate) are not drawn; nil without a frontier or such an SLO.
func frontierChart(id string, bm benchmark) *chartSpec {
	var f *analysis.Frontier
	for _, c := range bm.Cases {
		if c.Frontier != nil {
			f = c.Frontier
			break
		}
	}
	if f == nil || len(f.Probes) == 0 {
		return nil
	}
	xName := "users"
	switch f.Variable {
	case "rate":
		xName = "requests/s offered"
	case "speed":
		xName = "speed (× the trace's recorded pace)"
	}
	l := valueLine(id, "SLO frontier: probes of the capacity search", "each point a probe; horizontal: SLO limits; vertical: capacity found", xName, "ms")
	n := 0
	for _, s := range f.SLOs {
		if analysis.BaseUnit(s.Unit) != analysis.UnitSeconds {
			continue
		}
		var pts []opts.LineData
		for _, p := range f.Probes {
			v, ok := p.Values[s.Expr]
			if !ok {
				continue
			}
			name := fmt.Sprintf("%s=%s try %d: %s [%s, %s] ms", f.Variable, analysis.FormatNumber(p.Load), p.Try, p.Verdict,
				analysis.FormatNumber(ms(v.Lo)), analysis.FormatNumber(ms(v.Hi)))
			pts = append(pts, opts.LineData{Name: name, Value: []any{r4(p.Load), r4(ms(v.Value))}})
		}
		if len(pts) == 0 {
			continue
		}
		so := []charts.SeriesOpts{
			charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), SymbolSize: 8}),
			charts.WithMarkLineNameYAxisItemOpts(opts.MarkLineNameYAxisItem{Name: "SLO " + s.Expr, YAxis: r4(ms(s.Limit))}),
			charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"},
				Label: &opts.Label{Show: opts.Bool(true), Formatter: "{b}", Position: "insideEndTop"}}),
		}
		if n == 0 && f.Capacity > 0 {
			so = append(so, charts.WithMarkLineNameXAxisItemOpts(opts.MarkLineNameXAxisItem{
				Name: fmt.Sprintf("capacity %s (bracket %s–%s)", analysis.FormatNumber(f.Capacity),
					analysis.FormatNumber(f.Bracket[0]), analysis.FormatNumber(f.Bracket[1])), XAxis: r4(f.Capacity)}))
		}
		l.AddSeries(s.Metric+" "+s.Stat, pts, so...)
		n++
	}
	if n == 0 {
		return nil
	}
	return &chartSpec{ID: id, Title: "SLO frontier", Wide: true, Option: optionJSON(l)}
}
