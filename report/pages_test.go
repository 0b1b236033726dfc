package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

func pagesInput(start time.Time, verdict string, jobURL string, cases ...string) *Input {
	in := &Input{Manifest: &results.Manifest{Start: start}, Summary: &analysis.Summary{Suite: "nightly", Verdict: verdict}}
	if jobURL != "" {
		in.Manifest.CI = &results.CIInfo{System: "gitlab", JobURL: jobURL}
	}
	for i, v := range cases {
		in.Summary.Cases = append(in.Summary.Cases, analysis.Case{ID: string(rune('a' + i)), Verdict: v})
	}
	return in
}

func TestPagesGolden(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	runs := []PagesRun{
		RunOfPages(pagesInput(t0, analysis.Pass, "", analysis.Pass, analysis.Pass), "runs/1/report.html"),
		RunOfPages(pagesInput(t0.AddDate(0, 0, 2), analysis.Error, "https://gitlab.example/p/-/jobs/9", analysis.Pass, analysis.Error), "runs/3/report.html"),
		RunOfPages(pagesInput(t0.AddDate(0, 0, 1), analysis.Fail, "", analysis.Fail, analysis.Skipped), "runs/2/report.html"),
	}
	var b bytes.Buffer
	if err := WritePages(&b, runs); err != nil {
		t.Fatal(err)
	}
	golden(t, "pages.golden.html", b.Bytes())
	out := b.String()
	i3, i2, i1 := strings.Index(out, "runs/3/"), strings.Index(out, "runs/2/"), strings.Index(out, "runs/1/")
	if !(i3 < i2 && i2 < i1) {
		t.Errorf("not newest first: %d %d %d", i3, i2, i1)
	}
	for _, want := range []string{`class="badge bad">fail`, `class="badge warn">error`, `1 pass 1 error`, `href="https://gitlab.example/p/-/jobs/9"`} {
		if !strings.Contains(out, want) {
			t.Errorf("index lacks %q", want)
		}
	}
}
