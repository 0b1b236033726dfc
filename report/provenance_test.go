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
