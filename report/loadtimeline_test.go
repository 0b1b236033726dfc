package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// TestLoadTimelineChart: a chroma load case (batches recording
// batch_vectors) gets a load timeline drawn from analysis's series: the
// vectors acknowledged so far and the batch latency per bin; a failed batch
// adds no vectors; a case without the value gets no chart. The option is a
// golden file.
func TestLoadTimelineChart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "samples.jsonl")
	sw, err := results.CreateSampleFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	for i := range 10 {
		at := time.Duration(i) * 400 * ms
		s := &results.Sample{Seq: int64(i), Scheduled: at, Sent: at, Done: at + time.Duration(100+20*i)*ms,
			Values: map[string]float64{"batch_vectors": 500}}
		if i == 6 {
			s.Values, s.Error, s.ErrorDetail = nil, results.ErrHTTP5xx, "500"
		}
		if err := sw.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	info := results.CaseInfo{ID: "load/batch_size=500", Benchmark: "load", Status: results.StatusDone, Repetitions: 1}
	c, raw, err := analysis.SummarizeCase(info, []string{path}, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bm := benchmark{Name: "load", Cases: []*analysis.Case{&c}}
	var chart *chartSpec
	for _, ch := range benchmarkCharts(0, bm, map[string]*analysis.Raw{c.ID: raw}) {
		if ch.ID == "b0-load-timeline" {
			chart = ch
		}
	}
	if chart == nil {
		t.Fatal("no load timeline for a load case")
	}
	var pretty bytes.Buffer
	json.Indent(&pretty, chart.Option, "", "  ")
	golden(t, "chroma/load-timeline.json", append(pretty.Bytes(), '\n'))
	// 9 batches of 500 acknowledged, the failed one not counted.
	if !strings.Contains(string(chart.Option), "[4,4500]") {
		t.Errorf("the chart does not end at 4500 vectors acknowledged at 4 s: %s", chart.Option)
	}
	if strings.Contains(string(chart.Option), "5000") {
		t.Errorf("the failed batch was counted: %s", chart.Option)
	}
	if loadTimelineChart("x", chromaBenchmark(), map[string]analysis.Series{}) != nil {
		t.Error("a load timeline for a query benchmark")
	}
}
