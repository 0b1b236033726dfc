package report

import (
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// io500Input is one io500 case (figures of the recorded local run) with
// a baseline 10% better on bandwidth.
func io500Input() *Input {
	dist := func(v float64, unit string, better string) analysis.Metric {
		return analysis.Metric{Kind: analysis.KindDistribution, Unit: unit, Better: better, Count: 1, Mean: v, Min: v, Max: v, P50: v}
	}
	gib := float64(1 << 30)
	c := analysis.Case{ID: "io500", Benchmark: "io500", Kind: "io500", Verdict: analysis.Fail, Repetitions: 1,
		Metrics: map[string]analysis.Metric{
			"ior_easy_write": dist(0.286279*gib, "bytes/s", "higher"), "ior_easy_write_time": dist(6.170, "s", "lower"), "ior_easy_write_valid": dist(0, "ratio", "higher"),
			"find": dist(650704.795, "ops/s", "higher"), "find_time": dist(0.480, "s", "lower"), "find_valid": dist(1, "ratio", "higher"),
			"ior_rnd4k_easy_read": dist(0.082378*gib, "bytes/s", "higher"), "ior_rnd4k_easy_read_time": dist(5.834, "s", "lower"), "ior_rnd4k_easy_read_valid": dist(1, "ratio", "higher"),
			"score_bandwidth": dist(0.765255*gib, "bytes/s", "higher"), "score_metadata": dist(65445.025, "ops/s", "higher"), "score_total": dist(7.076875, "", "higher"),
		},
		Checks: []analysis.Check{
			{Name: "score_bandwidth.mean", Kind: analysis.CheckRegression, Metric: "score_bandwidth", Stat: "mean", Verdict: analysis.Regression, Value: 0.765255 * gib, Unit: "bytes/s", Baseline: 0.85 * gib, Delta: 0.765255/0.85 - 1, Tolerance: 0.05},
			{Name: "score_total.mean", Kind: analysis.CheckRegression, Metric: "score_total", Stat: "mean", Verdict: analysis.Pass, Value: 7.076875, Baseline: 7.2, Delta: 7.076875/7.2 - 1, Tolerance: 0.05},
			{Name: "score_metadata.mean", Kind: analysis.CheckRegression, Metric: "score_metadata", Stat: "mean", Verdict: analysis.NoBaseline},
		},
	}
	m := &results.Manifest{Suite: "io500", Cases: []results.CaseInfo{{ID: "io500", Benchmark: "io500", Kind: "io500", Status: results.StatusDone,
		Settings: map[string]string{results.SettingIO500Phases: "ior-easy-write,find,ior-rnd4K-easy-read", results.SettingIO500Scored: "ior-easy-write,find"}}}}
	return &Input{Dir: "/nonexistent", Manifest: m, Summary: &analysis.Summary{Suite: "io500", Verdict: analysis.Fail, Cases: []analysis.Case{c}}}
}

func TestIO500Section(t *testing.T) {
	in := io500Input()
	var md strings.Builder
	writeIO500Markdown(&md, in)
	golden(t, "io500-section.md", []byte(md.String()))
	h, err := io500HTML(in)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "io500-section.html", []byte(h))
	for _, want := range []string{"| ior-easy-write | bandwidth |", "**INVALID**", "| ior-rnd4K-easy-read | bandwidth |", "unscored", "(-10.0%)", "no baseline"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

// Cases without io500 settings have no IO500 section.
func TestIO500SectionOnlyForIO500(t *testing.T) {
	in := io500Input()
	in.Manifest.Cases[0].Settings = nil
	if cs := io500Cases(in); len(cs) != 0 {
		t.Errorf("%+v", cs)
	}
}
