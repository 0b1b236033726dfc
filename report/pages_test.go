package report

import (
	"bytes"
	"fmt"
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

// TestPagesSparklines: the index draws each case's key statistic (its
// regression check's) across the suite's runs, oldest left, newest right;
// a run without the case leaves no point; the section is a golden file.
func TestPagesSparklines(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	run := func(day int, p95 float64, withCase bool) PagesRun {
		in := pagesInput(t0.AddDate(0, 0, day), analysis.Pass, "")
		if withCase {
			in.Summary.Cases = []analysis.Case{{ID: "chat/users=8", Verdict: analysis.Pass,
				Metrics: map[string]analysis.Metric{
					analysis.MetricTTFT: {Kind: analysis.KindDistribution, Unit: analysis.UnitSeconds, Count: 10, P95: p95},
					analysis.MetricE2E:  {Kind: analysis.KindDistribution, Unit: analysis.UnitSeconds, Count: 10, P95: 9},
				},
				Checks: []analysis.Check{{Kind: analysis.CheckRegression, Metric: analysis.MetricTTFT, Stat: "p95"}}}}
		}
		return RunOfPages(in, "runs/x/report.html")
	}
	runs := []PagesRun{run(0, 0.100, true), run(2, 0.200, true), run(1, 0.150, true), run(3, 0, false), run(4, 0.120, true)}
	var b bytes.Buffer
	if err := WritePages(&b, runs); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	golden(t, "pages-sparklines.golden.html", b.Bytes())
	for _, want := range []string{"<td>chat/users=8</td><td>ttft.p95</td><td>4</td>", `aria-label="4 runs"`,
		// 100, 150, 200, 120 ms: oldest at the bottom, 200 ms at the top.
		`points="3.0,25.0 54.3,14.0 105.7,3.0 157.0,20.6"`, "120 ms", "100 ms – 200 ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("index lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `class="change"`) {
		t.Error("a sparkline without a trend marks change points")
	}
	if strings.Index(out, "sparklines") > strings.Index(out, "Runs, newest first") {
		t.Error("the sparklines are not above the runs")
	}
}

// TestPagesSparklineChangePoints: when the newest run has a trend of the
// key statistic (analysis.HistoryTrend), the sparkline draws that trend and
// marks each of its change points (computed by analysis, never here) with a
// dashed line at the run where it starts, named in the change points
// column; an older run's site values are not mixed in. The section is a
// golden file.
func TestPagesSparklineChangePoints(t *testing.T) {
	sum := trendSummary(40, 25, 0.15) // 40 nights, a 15% step at night 26 (index 25); the trend keeps the last 30
	tr := &sum.Cases[0].Trends[0]
	if len(tr.ChangePoints) != 1 {
		t.Fatalf("the fixture's trend has %d change points, want 1 (analysis.ChangePoints)", len(tr.ChangePoints))
	}
	cp := tr.ChangePoints[0]
	newest := &Input{Manifest: &results.Manifest{Start: time.Date(2026, 11, 9, 2, 0, 0, 0, time.UTC)}, Summary: sum}
	older := pagesInput(time.Date(2026, 11, 8, 2, 0, 0, 0, time.UTC), analysis.Pass, "")
	older.Summary.Cases = []analysis.Case{{ID: "chat/users=8", Verdict: analysis.Pass,
		Metrics: map[string]analysis.Metric{analysis.MetricTTFT: {Kind: analysis.KindDistribution, Unit: analysis.UnitSeconds, Count: 10, P95: 9}}}}
	var b bytes.Buffer
	if err := WritePages(&b, []PagesRun{RunOfPages(newest, "runs/40/report.html"), RunOfPages(older, "runs/39/report.html")}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	golden(t, "pages-changepoints.golden.html", b.Bytes())
	x := 3 + float64(sparkWidth-6)*float64(cp.Index)/float64(len(tr.Values)-1)
	label := "changed at " + runLabel(tr.Runs[cp.Index]) + ", "
	for _, want := range []string{
		`aria-label="30 runs, 1 change point"`,
		fmt.Sprintf(`<line class="change" x1="%.1f" y1="0" x2="%.1f"`, x, x),
		"<title>" + label + "+15", `<div class="change">` + label + "&#43;15", // html/template escapes + in text
		"<td>chat/users=8</td><td>ttft.p95</td><td>30</td>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("index lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "9 s") {
		t.Error("the sparkline mixes the older run's site value (9 s) into the newest run's trend")
	}
	if n := strings.Count(out, `<line class="change"`); n != 1 {
		t.Errorf("%d change marks, want 1", n)
	}
	if !strings.Contains(runLabel(tr.Runs[cp.Index]), "2026-10-2") {
		t.Errorf("the change point starts at %s, not near night 26", tr.Runs[cp.Index])
	}
}
