package report

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/benchrun/benchrun/analysis"
)

// Limits that keep a report small whatever the run's size: the points of
// one CDF or time series, and histogram bins.
const (
	maxCDFPoints    = 200
	minCDFPoints    = 20
	cdfPointsBudget = 2000 // per chart, shared by its series
	maxBins         = 300
	minBins         = 30
	binsBudget      = 3000
	histBins        = 40
)

// chartSpec is one chart of the page: a fixed element id and its ECharts
// option, already marshalled with HTML-safe escaping.
type chartSpec struct {
	ID     string          `json:"id"`
	Title  string          `json:"-"`
	Wide   bool            `json:"-"`
	Option json.RawMessage `json:"option"`
}

// optionJSON marshals a go-echarts chart's option. encoding/json escapes
// <, > and & as \u003c, \u003e, \u0026 (and U+2028/U+2029), so the result
// is inert inside a <script> element whatever the strings it carries;
// go-echarts' own page templates do not escape, which is why report renders
// the page itself.
func optionJSON(c interface {
	Validate()
	JSON() map[string]interface{}
}) json.RawMessage {
	c.Validate()
	b, err := json.Marshal(c.JSON())
	if err != nil {
		// Only NaN or Inf could get here, and r4 removes them.
		panic(fmt.Sprintf("report: chart option: %v", err))
	}
	return b
}

// r4 rounds v to four significant digits for compact chart data; NaN and
// ±Inf become nil (a gap).
func r4(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	if v == 0 {
		return 0.0
	}
	p := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}

func ms(v float64) float64 { return v * 1e3 }

func globals(id, title, subtitle string) []charts.GlobalOpts {
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{ChartID: id, Width: "100%", Height: "340px"}),
		charts.WithTitleOpts(opts.Title{Title: title, Subtitle: subtitle, Left: "center",
			TitleStyle: &opts.TextStyle{FontSize: 14}}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Type: "scroll", Bottom: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "60", Right: "40", Top: "60", Bottom: "70", ContainLabel: opts.Bool(true)}),
		charts.WithAnimation(false),
	}
}

func valueLine(id, title, subtitle, xName, yName string) *charts.Line {
	l := charts.NewLine()
	l.SetGlobalOptions(append(globals(id, title, subtitle),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: xName, NameLocation: "middle", NameGap: 28, Scale: opts.Bool(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: yName}),
	)...)
	return l
}

func lineOpts() []charts.SeriesOpts {
	return []charts.SeriesOpts{charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false)})}
}

// percentileChart draws, per case, the p50/p95/p99 of metric (or only p95
// when there are many cases) with the baseline, its tolerance band and any
// threshold limit from the case's checks.
func percentileChart(id string, bm benchmark, metric string) *chartSpec {
	stats := []string{"p50", "p95", "p99"}
	if len(bm.Cases) > 10 {
		stats = []string{"p95"}
	}
	var cats []string
	var bars []opts.BarData
	var base, tol, limit []opts.ScatterData
	drawn := false
	for _, c := range bm.Cases {
		m, ok := c.Metrics[metric]
		if !ok || m.Kind == analysis.KindRate || m.Count == 0 {
			continue
		}
		for _, st := range stats {
			v, _ := m.Stat(st)
			cat := caseLabel(c) + " " + st
			cats = append(cats, cat)
			color := "#5470c6"
			for _, ch := range c.Checks {
				if ch.Metric != metric || ch.Stat != st {
					continue
				}
				switch {
				case checkFailed(ch.Verdict):
					color = "#d9534f"
				case ch.Verdict == analysis.Pass || ch.Verdict == analysis.Improvement:
					if color != "#d9534f" {
						color = "#4cae4c"
					}
				}
				if ch.Kind == analysis.CheckThreshold || ch.Op != "" {
					limit = append(limit, opts.ScatterData{Value: []any{cat, r4(ms(ch.Limit))}})
				} else if ch.Verdict != analysis.NoBaseline && ch.Verdict != analysis.Incomparable {
					base = append(base, opts.ScatterData{Value: []any{cat, r4(ms(ch.Baseline))}})
					if ch.Tolerance > 0 {
						tol = append(tol,
							opts.ScatterData{Value: []any{cat, r4(ms(ch.Baseline * (1 - ch.Tolerance)))}},
							opts.ScatterData{Value: []any{cat, r4(ms(ch.Baseline * (1 + ch.Tolerance)))}})
					}
				}
			}
			bars = append(bars, opts.BarData{Value: r4(ms(v)), ItemStyle: &opts.ItemStyle{Color: color}})
			drawn = true
		}
	}
	if !drawn {
		return nil
	}
	b := charts.NewBar()
	b.SetGlobalOptions(append(globals(id, metric+" percentiles vs baseline", "bars: this run (red: check failed); ◆ baseline, ▬ tolerance band, ▲ threshold"),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", AxisLabel: &opts.AxisLabel{Rotate: 30, Interval: "0"}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "ms"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
	)...)
	b.SetXAxis(cats).AddSeries("this run", bars)
	sc := charts.NewScatter()
	sc.AddSeries("baseline", base, charts.WithScatterChartOpts(opts.ScatterChart{Symbol: "diamond", SymbolSize: 12}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: "#222"}))
	sc.AddSeries("tolerance", tol, charts.WithScatterChartOpts(opts.ScatterChart{Symbol: "rect", SymbolSize: []int{22, 2}}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: "#888"}))
	sc.AddSeries("threshold", limit, charts.WithScatterChartOpts(opts.ScatterChart{Symbol: "triangle", SymbolSize: 10}),
		charts.WithItemStyleOpts(opts.ItemStyle{Color: "#d9534f"}))
	b.Overlap(sc)
	return &chartSpec{ID: id, Title: metric + " percentiles", Option: optionJSON(b)}
}

// measuredDist returns the distribution of metric that analysis measured in case
// id, or nil.
func measuredDist(raws map[string]*analysis.Raw, id, metric string) *analysis.Dist {
	if raw := raws[id]; raw != nil {
		if d := raw.Dists[metric]; d != nil && d.Count() > 0 {
			return d
		}
	}
	return nil
}

// cdfChart overlays the empirical CDF of one latency per case.
func cdfChart(id, title string, bm benchmark, raws map[string]*analysis.Raw, metric string) *chartSpec {
	k := min(max(cdfPointsBudget/max(len(bm.Cases), 1), minCDFPoints), maxCDFPoints)
	l := valueLine(id, title+" CDF", "warm-up excluded; percentile by linear interpolation", "ms", "percentile")
	n := 0
	for _, c := range bm.Cases {
		d := measuredDist(raws, c.ID, metric)
		if d == nil {
			continue
		}
		pts := make([]opts.LineData, 0, k+1)
		for i := 0; i <= k; i++ {
			p := 100 * float64(i) / float64(k)
			pts = append(pts, opts.LineData{Value: []any{r4(ms(d.Percentile(p))), r4(p)}})
		}
		l.AddSeries(caseLabel(c), pts, lineOpts()...)
		n++
	}
	if n == 0 {
		return nil
	}
	return &chartSpec{ID: id, Title: title + " CDF", Option: optionJSON(l)}
}

// histogramChart overlays per-case histograms of one latency on shared
// bins from 0 to the largest p99 of the cases; the last bin holds the tail.
func histogramChart(id, title string, bm benchmark, raws map[string]*analysis.Raw, metric string) *chartSpec {
	hi := 0.0
	for _, c := range bm.Cases {
		if d := measuredDist(raws, c.ID, metric); d != nil {
			hi = max(hi, d.Percentile(99))
		}
	}
	if hi <= 0 {
		return nil
	}
	w := hi / (histBins - 1)
	l := valueLine(id, title+" histogram", fmt.Sprintf("share of values per %s bin; last bin: ≥ %s", analysis.FormatValue(w, "s"), analysis.FormatValue(hi, "s")), "ms", "% of values")
	for _, c := range bm.Cases {
		d := measuredDist(raws, c.ID, metric)
		if d == nil {
			continue
		}
		pts := make([]opts.LineData, histBins)
		for i, n := range d.BinCounts(w, histBins) {
			pts[i] = opts.LineData{Value: []any{r4(ms((float64(i) + 0.5) * w)), r4(100 * float64(n) / float64(d.Count()))}}
		}
		l.AddSeries(caseLabel(c), pts, charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), Step: "middle"}))
	}
	return &chartSpec{ID: id, Title: title + " histogram", Option: optionJSON(l)}
}

// seriesChart overlays one time series per case.
func seriesChart(id, title, yName string, bm benchmark, series map[string]analysis.Series, pick func(analysis.Series) []float64, scale float64) *chartSpec {
	l := valueLine(id, title, "over the run, seconds from case start", "s", yName)
	nonzero := false
	for _, c := range bm.Cases {
		ts := series[c.ID]
		if len(ts.T) == 0 {
			continue
		}
		ys := pick(ts)
		pts := make([]opts.LineData, len(ys))
		for i, y := range ys {
			if y != 0 && !math.IsNaN(y) {
				nonzero = true
			}
			pts[i] = opts.LineData{Value: []any{r4(ts.T[i]), r4(y * scale)}}
		}
		l.AddSeries(caseLabel(c), pts, lineOpts()...)
	}
	if !nonzero {
		return nil
	}
	return &chartSpec{ID: id, Title: title, Option: optionJSON(l)}
}

// sweepCharts plot throughput against tail latency across a benchmark's
// cases, in case order, from the summary's metrics: one panel per latency
// family (e2e, ttft, itl), each with its own y axis, so a 10 ms itl is not
// a flat line under a 2 s e2e. The first panel's id is id, the others'
// id-<family>.
func sweepCharts(id string, bm benchmark) []*chartSpec {
	if len(bm.Cases) < 2 {
		return nil
	}
	xMetric := "output_tokens_per_second"
	if !anyMetric(bm, xMetric) {
		xMetric = "requests_per_second"
	}
	if !anyMetric(bm, xMetric) {
		return nil
	}
	var out []*chartSpec
	for _, metric := range []string{"e2e", "ttft", "itl"} {
		var pts []opts.LineData
		for _, c := range bm.Cases {
			x, okx := c.Metrics[xMetric]
			y, oky := c.Metrics[metric]
			if !okx || !oky || y.Count == 0 {
				continue
			}
			pts = append(pts, opts.LineData{Name: caseLabel(c), Value: []any{r4(x.Value), r4(ms(y.P99))}})
		}
		if len(pts) == 0 {
			continue
		}
		cid := id
		if len(out) > 0 {
			cid = id + "-" + metric
		}
		l := valueLine(cid, "sweep: "+xMetric+" vs "+metric+" p99", "one point per case, in case order", xMetric, metric+" p99 ms")
		l.AddSeries(metric+" p99", pts, charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), SymbolSize: 8}),
			charts.WithLabelOpts(opts.Label{Show: opts.Bool(len(pts) <= 12), Formatter: "{b}", Position: "top"}))
		addKnees(l, bm, xMetric, metric)
		out = append(out, &chartSpec{ID: cid, Title: "sweep " + metric, Option: optionJSON(l)})
	}
	if len(out) == 1 {
		out[0].Wide = true
	}
	return out
}

// addKnees marks each knee of bm (analysis.Knees, from the summary) on the
// sweep panel of one latency family: a point at the knee case's throughput
// and its p99 of that metric, named after its load.
func addKnees(l *charts.Line, bm benchmark, xMetric, metric string) {
	var pts []opts.LineData
	for _, k := range bm.Knees {
		for _, c := range bm.Cases {
			if c.ID != k.Case {
				continue
			}
			x, okx := c.Metrics[xMetric]
			if y, ok := c.Metrics[metric]; ok && okx && y.Count > 0 {
				name := fmt.Sprintf("knee: %s=%s (%s)", k.Variable, analysis.FormatNumber(k.Load), metric)
				pts = append(pts, opts.LineData{Name: name, Value: []any{r4(x.Value), r4(ms(y.P99))}})
			}
		}
	}
	if len(pts) == 0 {
		return
	}
	l.AddSeries("knee", pts, charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), SymbolSize: 18, Symbol: "diamond"}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Formatter: "{b}", Position: "right"}))
}

func anyMetric(bm benchmark, metric string) bool {
	for _, c := range bm.Cases {
		if _, ok := c.Metrics[metric]; ok {
			return true
		}
	}
	return false
}

// latencyMetrics returns the distribution metrics in seconds that any case
// of bm has, known ones first.
func latencyMetrics(bm benchmark) []string {
	seen := map[string]bool{}
	var out, rest []string
	for _, k := range []string{"ttft", "e2e", "itl", "tpot"} {
		if anyMetric(bm, k) {
			out = append(out, k)
			seen[k] = true
		}
	}
	for _, c := range bm.Cases {
		for _, k := range slices.Sorted(maps.Keys(c.Metrics)) {
			m := c.Metrics[k]
			if !seen[k] && m.Kind != analysis.KindRate && analysis.BaseUnit(m.Unit) == analysis.UnitSeconds && !strings.HasPrefix(k, "queue") {
				seen[k] = true
				rest = append(rest, k)
			}
		}
	}
	return append(out, rest...)
}

// benchmarkCharts returns every chart of one benchmark, with ids
// "b<index>-<kind>", from its summary and what analysis measured from its
// cases' samples (raws, by case id; a case without one has no curves).
func benchmarkCharts(bi int, bm benchmark, raws map[string]*analysis.Raw) []*chartSpec {
	id := func(kind string) string { return fmt.Sprintf("b%d-%s", bi, kind) }
	var out []*chartSpec
	add := func(c *chartSpec) {
		if c != nil {
			out = append(out, c)
		}
	}
	for _, c := range sweepCharts(id("sweep"), bm) {
		add(c)
	}
	add(frontierChart(id("frontier"), bm))
	add(recallChart(id("recall"), bm))
	for _, m := range latencyMetrics(bm) {
		add(percentileChart(id("pct-"+metricName(m)), bm, m))
	}
	add(cdfChart(id("cdf-ttft"), "ttft", bm, raws, analysis.MetricTTFT))
	add(cdfChart(id("cdf-e2e"), "e2e (latency)", bm, raws, analysis.MetricE2E))
	add(histogramChart(id("hist-ttft"), "ttft", bm, raws, analysis.MetricTTFT))
	add(histogramChart(id("hist-itl"), "itl", bm, raws, analysis.MetricITL))
	bins := min(max(binsBudget/max(len(bm.Cases), 1), minBins), maxBins)
	series := map[string]analysis.Series{}
	for _, c := range bm.Cases {
		if raw := raws[c.ID]; raw != nil {
			series[c.ID] = raw.Timeline.Series(bins)
		}
	}
	add(loadTimelineChart(id("load-timeline"), bm, series))
	add(seriesChart(id("ts-tokens"), "output tokens/s", "tokens/s", bm, series, func(t analysis.Series) []float64 { return t.OutputTokens }, 1))
	add(seriesChart(id("ts-requests"), "completed requests/s", "requests/s", bm, series, func(t analysis.Series) []float64 { return t.Completed }, 1))
	add(seriesChart(id("ts-p50"), "latency p50 per bin (e2e)", "ms", bm, series, func(t analysis.Series) []float64 { return t.LatencyP50 }, 1e3))
	add(seriesChart(id("ts-inflight"), "in flight", "operations", bm, series, func(t analysis.Series) []float64 { return t.InFlight }, 1))
	add(seriesChart(id("ts-errors"), "errors/s", "errors/s", bm, series, func(t analysis.Series) []float64 { return t.Errors }, 1))
	for ci, c := range bm.Cases {
		if raw := raws[c.ID]; raw != nil {
			add(timelineChart(id(fmt.Sprintf("timeline-%d", ci)), c, series[c.ID], raw.Telemetry))
		}
	}
	return out
}

// timelineChart puts one case's client throughput and latency, server
// queue and KV cache, and GPU utilisation and power on one time axis
// (seconds from the case start), so that a change in one can be read
// against the others. Two value axes: tokens/s and W on the left; ms, %
// and requests on the right. Nil when the case has no client series.
func timelineChart(id string, c *analysis.Case, ts analysis.Series, tel *analysis.TelemetrySeries) *chartSpec {
	if len(ts.T) == 0 {
		return nil
	}
	l := charts.NewLine()
	g := globals(id, "timeline: "+caseLabel(c), "client, server and GPU on one time axis, seconds from case start")
	// From 0: the scraper's first scrape, a few ms before the case's start,
	// would otherwise stretch the axis to -2 s.
	g = append(g, charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "s", NameLocation: "middle", NameGap: 28, Min: 0}),
		charts.WithYAxisOpts(opts.YAxis{Type: "value", Name: "tokens/s · W", Position: "left"}))
	l.SetGlobalOptions(g...)
	l.ExtendYAxis(opts.YAxis{Type: "value", Name: "ms · % · requests", Position: "right"})
	binned := func(name string, ys []float64, scale float64, axis int) {
		pts := make([]opts.LineData, len(ys))
		for i, y := range ys {
			pts[i] = opts.LineData{Value: []any{r4(ts.T[i] + ts.Width/2), r4(y * scale)}}
		}
		l.AddSeries(name, pts, charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), YAxisIndex: axis}))
	}
	binned("output tokens/s (client)", ts.OutputTokens, 1, 0)
	binned("latency p50 ms (client, e2e)", ts.LatencyP50, 1e3, 1)
	if tel != nil {
		for _, s := range []struct {
			name  string
			pts   []analysis.TimePoint
			scale float64
			axis  int
		}{
			{"waiting requests (server)", tel.Waiting, 1, 1},
			{"KV cache % (server)", tel.KVCache, 100, 1},
			{"GPU util % (mean)", tel.GPUUtil, 100, 1},
			{"GPU power W (sum)", tel.GPUPower, 1, 0},
		} {
			if len(s.pts) == 0 {
				continue
			}
			pts := make([]opts.LineData, len(s.pts))
			for i, p := range s.pts {
				pts[i] = opts.LineData{Value: []any{r4(p.T), r4(p.V * s.scale)}}
			}
			l.AddSeries(s.name, pts, charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(false), YAxisIndex: s.axis, Step: "end"}))
		}
	}
	return &chartSpec{ID: id, Title: "timeline: " + caseLabel(c), Wide: true, Option: optionJSON(l)}
}
