package report

import (
	"math"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/benchrun/benchrun/analysis"
)

// loadVectorsValue is the per-batch value a chroma load records
// (runner/chroma ValueBatchVectors): the vectors one acknowledged add held.
const loadVectorsValue = "batch_vectors"

// loadTimelineChart plots a vector load's progress over time, per case
// whose operations recorded loadVectorsValue: the vectors acknowledged so
// far (analysis.Series.Totals, left axis) and the median latency of the
// batches acknowledged in each bin (right axis, ms). Nil when no case of
// bm is a load.
func loadTimelineChart(id string, bm benchmark, series map[string]analysis.Series) *chartSpec {
	l := valueLine(id, "load timeline", "vectors acknowledged (left) and batch latency p50 (right, ms), seconds from case start", "s", "vectors")
	l.ExtendYAxis(opts.YAxis{Type: "value", Name: "batch p50 ms", Position: "right"})
	n := 0
	for _, c := range bm.Cases {
		ts := series[c.ID]
		tot := ts.Totals[loadVectorsValue]
		if len(tot) == 0 {
			continue
		}
		acked := make([]opts.LineData, len(tot))
		lat := make([]opts.LineData, 0, len(tot))
		for i, y := range tot {
			// A bin's total counts the batches completed by its end.
			acked[i] = opts.LineData{Value: []any{r4(ts.T[i] + ts.Width), r4(y)}}
			if p := ts.LatencyP50[i]; !math.IsNaN(p) {
				lat = append(lat, opts.LineData{Value: []any{r4(ts.T[i] + ts.Width/2), r4(p * 1e3)}})
			}
		}
		l.AddSeries(caseLabel(c)+" vectors", acked, lineOpts()...)
		l.AddSeries(caseLabel(c)+" batch p50", lat, charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), YAxisIndex: 1}))
		n++
	}
	if n == 0 {
		return nil
	}
	return &chartSpec{ID: id, Title: "load timeline", Wide: true, Option: optionJSON(l)}
}
