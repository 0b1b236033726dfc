package ci

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/baselines"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

// TestTrendsEndAtThisRun: the reports title a trend "this one last"; a
// case that this run did not measure (it failed, or the run was cut short)
// has no value of this run, so it gets no trend rather than one that ends
// at an older, healthy run drawn as this run's.
func TestTrendsEndAtThisRun(t *testing.T) {
	hdir := t.TempDir()
	start := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	for night := -3; night < 0; night++ {
		rec := baselines.Record{Version: baselines.HistoryVersion, Suite: "s", Run: start.AddDate(0, 0, night).Format(time.RFC3339),
			Cases: map[string]map[string]baselines.Value{
				"ok":     {"requests_per_second.value": {Value: 10, Unit: "requests/s", Better: "higher"}},
				"broken": {"requests_per_second.value": {Value: 10, Unit: "requests/s", Better: "higher"}},
			}}
		if _, err := baselines.Append(hdir, rec); err != nil {
			t.Fatal(err)
		}
	}
	metric := func() map[string]analysis.Metric {
		return map[string]analysis.Metric{"requests_per_second": {Kind: "rate", Unit: "requests/s", Better: "higher", Count: 1, Value: 10}}
	}
	for _, incomplete := range []bool{false, true} {
		sum := &analysis.Summary{Suite: "s", Cases: []analysis.Case{
			{ID: "ok", Verdict: analysis.Pass, Metrics: metric()},
			{ID: "broken", Verdict: analysis.Error, Errors: []string{"connection refused"}},
		}}
		p := &pipeline{e: &env{log: slog.New(slog.NewTextHandler(io.Discard, nil))}, history: hdir, trendRuns: 30}
		r := &run{m: &results.Manifest{Start: start, Incomplete: incomplete}, s: &suites.Suite{Suite: suites.Meta{Name: "s"}},
			cases: map[string]suites.Case{}, sum: sum}
		p.addTrends(r)
		this := start.Format(time.RFC3339)
		for _, c := range sum.Cases {
			for _, tr := range c.Trends {
				if last := tr.Runs[len(tr.Runs)-1]; last != this {
					t.Errorf("incomplete=%v: case %s has a trend ending at %s, not at this run %s", incomplete, c.ID, last, this)
				}
			}
		}
		if !incomplete && len(sum.Cases[0].Trends) != 1 {
			t.Errorf("the measured case has trends %+v, want one", sum.Cases[0].Trends)
		}
	}
}
