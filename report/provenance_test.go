package report

import (
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// TestBaselineLine: the header says what a run was compared with, that
// there is no baseline yet, or nothing for a summary that does not say.
func TestBaselineLine(t *testing.T) {
	for _, tt := range []struct {
		src  *analysis.BaselineSource
		want string
	}{
		{nil, ""},
		{&analysis.BaselineSource{File: "baselines/demo.json"}, "No baseline (baselines/demo.json): no case was compared"},
		{&analysis.BaselineSource{Run: "results/old", Found: true, Entries: 2}, "Baseline: the run in results/old."},
		{&analysis.BaselineSource{File: "b/demo.json", Found: true, Entries: 1, Promoted: "2025-01-02T03:04:05Z"},
			"Baseline: b/demo.json, promoted 2025-01-02T03:04:05Z; 1 entry compared."},
	} {
		in := &Input{Summary: &analysis.Summary{Suite: "demo", Baseline: tt.src}}
		got := in.baselineLine()
		if tt.want == "" && got != "" || !strings.HasPrefix(got, tt.want) {
			t.Errorf("%+v: %q, want %q", tt.src, got, tt.want)
		}
		var md strings.Builder
		if err := WriteMarkdown(&md, in); err != nil {
			t.Fatal(err)
		}
		if tt.want != "" && !strings.Contains(md.String(), mdEscape(tt.want)) {
			t.Errorf("report.md lacks %q:\n%s", tt.want, md.String())
		}
	}
}

// TestExplain: the details row of a check says what the summary records
// about it: p-value, samples on each side, the statistic's CI, the reason.
func TestExplain(t *testing.T) {
	c := &analysis.Case{Metrics: map[string]analysis.Metric{"ttft": {Kind: analysis.KindDistribution, Unit: "s", Count: 40,
		CI: map[string][2]float64{"p95": {0.1, 0.2}}}}}
	for _, tt := range []struct {
		ch   analysis.Check
		want string
	}{
		{analysis.Check{Kind: analysis.CheckRegression, Metric: "ttft", Stat: "p95", Verdict: analysis.Inconclusive, PValue: 0.2,
			Count: 40, BaseCount: 900, Detail: "not significant (p=0.2 ≥ 0.05)"},
			"p = 0.2; n = 40 in this run, 900 in the baseline; 95% CI of p95 in this run: 100 ms – 200 ms; not significant (p=0.2 ≥ 0.05)"},
		{analysis.Check{Kind: analysis.CheckRegression, Name: "baseline", Verdict: analysis.Incomparable, Detail: "gpu: A100 → H100"},
			"gpu: A100 → H100"},
		{analysis.Check{Kind: analysis.CheckRegression, Name: "baseline", Verdict: analysis.NoBaseline},
			"no baseline entry for this case: `benchrun baseline promote DIR` makes one"},
		{analysis.Check{Kind: analysis.CheckRegression, Metric: "ttft", Stat: "p50", Verdict: analysis.Pass, PValue: 1, Tolerance: 0.1},
			"change within the tolerance ±10%: no significance test needed; n = 40"},
	} {
		if got := explain(c, tt.ch); got != tt.want {
			t.Errorf("explain(%+v)\n got %q\nwant %q", tt.ch, got, tt.want)
		}
	}
}
