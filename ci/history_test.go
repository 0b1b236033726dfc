package ci

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/baselines"
)

// TestHistoryRecordsRuns: a suite run with a baselines directory appends
// to the history; importing the same directory again adds nothing; the
// history command prints the case's statistics.
func TestHistoryRecordsRuns(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	copySuite(t, work, "demo.toml")
	if err := os.MkdirAll(filepath.Join(work, "baselines"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, work, binEnv(), "suite", "-o", "r1", "demo.toml")
	if r.code != ExitOK || !strings.Contains(r.stdout, "history: r1 recorded in "+filepath.Join(work, "baselines", "history", "demo.jsonl")) {
		t.Fatalf("suite: %v", r)
	}
	r = runBin(t, work, binEnv(), "history", "import", "r1")
	if r.code != ExitOK || !strings.Contains(r.stdout, "r1 is already in") {
		t.Fatalf("import of a recorded run: %v", r)
	}
	h, err := baselines.LoadHistory(filepath.Join(work, "baselines", "history"), "demo")
	if err != nil || len(h) != 1 {
		t.Fatalf("history %+v, %v: want one run", h, err)
	}
	if got := len(h[0].Cases["chat/users=4"]); got != 5 { // the benchmark's regression metrics
		t.Errorf("chat/users=4 has %d statistics in the history, want 5: %+v", got, h[0].Cases)
	}
	r = runBin(t, work, binEnv(), "history", "demo.toml")
	if r.code != ExitOK || !strings.Contains(r.stdout, "output_tokens_per_second.value") || !strings.Contains(r.stdout, "1 runs") {
		t.Errorf("history: %v", r)
	}
	checkTrends(t, work, h[0])
	// Without a baselines directory nor --history, nothing is written.
	other := t.TempDir()
	copySuite(t, other, "demo.toml")
	r = runBin(t, other, binEnv(), "suite", "-o", "r1", "demo.toml")
	if _, err := os.Stat(filepath.Join(other, "baselines")); err == nil || strings.Contains(r.stdout, "history:") {
		t.Errorf("a first run wrote a history: %v", r)
	}
}

// checkTrends: with ten older nights and one newer night in the history
// of r1's suite, `benchrun report r1` draws each key statistic's trend over
// the older nights and r1, r1 last (the newer one is left out), and
// --trend-runs bounds it.
func checkTrends(t *testing.T, work string, r1 baselines.Record) {
	t.Helper()
	hdir := filepath.Join(work, "baselines", "history")
	start, err := time.Parse(time.RFC3339, r1.Run)
	if err != nil {
		t.Fatal(err)
	}
	for _, night := range []int{-10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 1} {
		rec := r1
		rec.Run = start.AddDate(0, 0, night).Format(time.RFC3339)
		if _, err := baselines.Append(hdir, rec); err != nil {
			t.Fatal(err)
		}
	}
	r := runBin(t, work, binEnv(), "report", "r1")
	if r.code != ExitOK {
		t.Fatalf("report: %v", r)
	}
	sum, err := analysis.ReadSummary(filepath.Join(work, "r1"))
	if err != nil {
		t.Fatal(err)
	}
	var c *analysis.Case
	for i := range sum.Cases {
		if sum.Cases[i].ID == "chat/users=4" {
			c = &sum.Cases[i]
		}
	}
	if c == nil || len(c.Trends) != len(r1.Cases["chat/users=4"]) {
		t.Fatalf("trends %+v: want one per statistic in the history", c)
	}
	if tr := c.Trends[0]; len(tr.Runs) != 11 || tr.Runs[10] != r1.Run {
		t.Errorf("trend runs %v: want the 10 older nights and r1 last", tr.Runs)
	}
	md, _ := os.ReadFile(filepath.Join(work, "r1", "report.md"))
	if !strings.Contains(string(md), "trend over the last 11 runs") {
		t.Errorf("report.md has no trend line:\n%s", md)
	}
	if r := runBin(t, work, binEnv(), "report", "--trend-runs", "4", "r1"); r.code != ExitOK {
		t.Fatalf("report --trend-runs 4: %v", r)
	}
	md, _ = os.ReadFile(filepath.Join(work, "r1", "report.md"))
	if !strings.Contains(string(md), "trend over the last 4 runs") {
		t.Errorf("--trend-runs 4: report.md:\n%s", md)
	}
}

// TestHistoryChangePoint: the history command names the run where a 15%
// step started.
func TestHistoryChangePoint(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	t0 := time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC)
	for night := 1; night <= 40; night++ {
		v := 0.100 * (1 + 0.05*rng.NormFloat64())
		if night >= 25 {
			v *= 1.15
		}
		rec := baselines.Record{Version: baselines.HistoryVersion, Suite: "nightly", Verdict: "pass",
			Run:   t0.AddDate(0, 0, night-1).Format(time.RFC3339),
			Cases: map[string]map[string]baselines.Value{"chat": {"ttft.p95": {Value: v, Unit: "s", Better: "lower"}}}}
		if _, err := baselines.Append(dir, rec); err != nil {
			t.Fatal(err)
		}
	}
	r := runCLI(t, "--history", dir, "history", "--last", "3", "nightly")
	night25 := t0.AddDate(0, 0, 24).Format("01-02 15:04")
	if r.code != ExitOK || !strings.Contains(r.stdout, night25+" +") || !strings.Contains(r.stdout, "40 runs") {
		t.Fatalf("want the change point at night 25 (%s): %v", night25, r)
	}
	if n := strings.Count(strings.SplitN(r.stdout, "\n", 3)[1], "│"); n != 7 {
		t.Errorf("--last 3: header has %d separators, want 7 (case, statistic, 3 runs, change point):\n%s", n, r.stdout)
	}
	r = runCLI(t, "--history", dir, "history", "other")
	if r.code != ExitError || !strings.Contains(r.stderr, fmt.Sprintf("no history of suite %q", "other")) {
		t.Errorf("unknown suite: %v", r)
	}
}
