package report

import (
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/benchrun/benchrun/analysis"
)

// TestCaseGathererNameClash: a metric of the case whose name sanitises
// like one of the push's own families (an exec benchmark's regex group
// "case" in seconds is benchrun_case_seconds, "case_verdict" is
// benchrun_case_verdict) or like another metric (x in s, x_seconds) made
// CaseGatherer panic on the label sets that differ, or overwrite a sample.
// The push's own families win, then the first metric, as in metrics.txt.
func TestCaseGathererNameClash(t *testing.T) {
	c := &analysis.Case{ID: "x", Benchmark: "b", Verdict: analysis.Fail, Seconds: 42, Metrics: map[string]analysis.Metric{
		"case":         {Kind: analysis.KindRate, Unit: "s", Value: 3},
		"case_verdict": {Kind: analysis.KindRate, Value: 7},
		"load":         {Kind: analysis.KindRate, Unit: "s", Value: 1},
		"load_seconds": {Kind: analysis.KindRate, Unit: "s", Value: 2},
	}}
	g, err := CaseGatherer(c)
	if err != nil {
		t.Fatal(err)
	}
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	label := func(m *dto.Metric, name string) string {
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				return l.GetValue()
			}
		}
		return ""
	}
	v := byName["benchrun_case_verdict"]
	if v == nil || len(v.Metric) != 1 || label(v.Metric[0], "verdict") != analysis.Fail || v.Metric[0].GetGauge().GetValue() != 1 {
		t.Errorf("benchrun_case_verdict %v: want the verdict fail = 1", v)
	}
	s := byName["benchrun_case_seconds"]
	if s == nil || len(s.Metric) != 1 || s.Metric[0].GetGauge().GetValue() != 42 {
		t.Errorf("benchrun_case_seconds %v: want the case's 42 s", s)
	}
	l := byName["benchrun_load_seconds"]
	if l == nil || len(l.Metric) != 1 || l.Metric[0].GetGauge().GetValue() != 1 {
		t.Errorf("benchrun_load_seconds %v: want the first metric's 1", l)
	}
}
