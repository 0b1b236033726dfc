package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// chromaBenchmark is a query benchmark swept over users: QPS, latency and
// recall per case, as analysis summarises a chroma run.
func chromaBenchmark() benchmark {
	mk := func(id string, qps, p99, recall float64) *analysis.Case {
		return &analysis.Case{ID: "query/" + id, Benchmark: "query", Metrics: map[string]analysis.Metric{
			analysis.MetricRequestsPerSecond: {Kind: analysis.KindRate, Unit: analysis.UnitRequestsPerSecond, Value: qps},
			analysis.MetricE2E:               {Kind: analysis.KindDistribution, Unit: analysis.UnitSeconds, Count: 500, Mean: p99 / 2, P50: p99 / 3, P95: p99 * 0.8, P99: p99},
			"recall_at_10":                   {Kind: analysis.KindDistribution, Unit: analysis.UnitRatio, Better: "higher", Count: 500, Mean: recall},
		}}
	}
	return benchmark{Name: "query", Cases: []*analysis.Case{mk("users=1", 470, 0.0031, 0.9993), mk("users=4", 650, 0.0121, 0.9991)}}
}

// TestRecallChart: a vector benchmark gets a recall–QPS chart beside the
// QPS–latency sweep, each point a case; a benchmark without recall gets
// none. The chart's option is a golden file.
func TestRecallChart(t *testing.T) {
	bm := chromaBenchmark()
	charts := benchmarkCharts(0, bm, nil)
	var ids []string
	var recall *chartSpec
	for _, c := range charts {
		ids = append(ids, c.ID)
		if c.ID == "b0-recall" {
			recall = c
		}
	}
	if len(ids) < 2 || ids[0] != "b0-sweep" || ids[1] != "b0-recall" || recall == nil {
		t.Fatalf("charts %v: want the QPS–latency sweep then recall vs QPS", ids)
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, recall.Option, "", "  ")
	golden(t, "chroma/recall-chart.json", append(pretty.Bytes(), '\n'))
	if !strings.Contains(string(recall.Option), "0.9993") || !strings.Contains(string(recall.Option), "650") {
		t.Errorf("the chart does not carry the cases' recall and QPS: %s", recall.Option)
	}
	for _, c := range bm.Cases {
		delete(c.Metrics, "recall_at_10")
	}
	if recallChart("x", bm) != nil {
		t.Error("a chart without any recall")
	}
}

// TestRecallHeadline: a case without checks shows its recall beside its
// QPS in the tables.
func TestRecallHeadline(t *testing.T) {
	c := chromaBenchmark().Cases[0]
	got := headlineMetrics(c)
	want := [][2]string{{"e2e", "p95"}, {"requests_per_second", "value"}, {"recall_at_10", "mean"}}
	if len(got) != len(want) {
		t.Fatalf("headline %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("headline %v, want %v", got, want)
		}
	}
}
