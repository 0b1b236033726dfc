package ci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

// TestJudge: the one place that decides a run's verdict.
func TestJudge(t *testing.T) {
	pass := analysis.Case{ID: "a", Checks: []analysis.Check{{Kind: analysis.CheckThreshold, Verdict: analysis.Pass}}}
	fail := analysis.Case{ID: "b", Checks: []analysis.Check{{Kind: analysis.CheckRegression, Verdict: analysis.Regression}}}
	failed := analysis.Case{ID: "c", Errors: []string{"service died"}}
	skipped := analysis.Case{ID: "d", Verdict: analysis.Skipped}
	unreachable := analysis.Case{ID: "e", Metrics: map[string]analysis.Metric{
		analysis.MetricInfrastructureErrorRate: {Kind: analysis.KindRate, Unit: analysis.UnitRatio, Count: 1000, Value: 0.999}}}
	tests := []struct {
		name    string
		cases   []analysis.Case
		m       results.Manifest
		execErr error
		want    string
	}{
		{"all pass", []analysis.Case{pass}, results.Manifest{}, nil, analysis.Pass},
		{"a regression fails", []analysis.Case{pass, fail}, results.Manifest{}, nil, analysis.Fail},
		{"a case error beats a failure", []analysis.Case{fail, failed}, results.Manifest{}, nil, analysis.Error},
		{"execution error", []analysis.Case{pass}, results.Manifest{}, errors.New("service did not start"), analysis.Error},
		{"cut short by the time limit", []analysis.Case{pass, skipped}, results.Manifest{Incomplete: true, Reason: "time limit: stopped on SIGUSR1"}, nil, analysis.Error},
		{"stopped by the user: judged on what ran", []analysis.Case{pass, skipped}, results.Manifest{Incomplete: true, Reason: results.Interrupted}, nil, analysis.Pass},
		{"stopped by the user before any case", []analysis.Case{skipped}, results.Manifest{Incomplete: true, Reason: results.Interrupted}, nil, analysis.Pass},
		{"no case ran", []analysis.Case{skipped}, results.Manifest{}, nil, analysis.Error},
		{"connect failures above the default share", []analysis.Case{pass, unreachable}, results.Manifest{}, nil, analysis.Error},
		{"stopped twice by the user: judged on what ran", []analysis.Case{pass, skipped}, results.Manifest{Incomplete: true, Reason: reasonHardStop}, nil, analysis.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &run{m: &tt.m, sum: &analysis.Summary{Cases: append([]analysis.Case(nil), tt.cases...)}}
			judge(r, &execution{err: tt.execErr})
			if r.sum.Verdict != tt.want {
				t.Errorf("verdict %q, want %q", r.sum.Verdict, tt.want)
			}
		})
	}
}

// TestCaseEnd: the states a running case can end in.
func TestCaseEnd(t *testing.T) {
	live := context.Background()
	stopped, cancel := context.WithCancelCause(live)
	cancel(ErrInterrupted)
	timeLimit, cancelTL := context.WithCancelCause(live)
	cancelTL(ErrTimeLimit)
	tests := []struct {
		name     string
		ctx      context.Context
		err      error
		status   results.Status
		why      string
		stopsRun bool
	}{
		{"ran", live, nil, results.StatusDone, "", false},
		{"failed", live, errors.New("boom"), results.StatusError, "boom", false},
		{"stopped by the user: its samples count", stopped, context.Canceled, results.StatusDone, results.Interrupted, true},
		{"cut by the time limit", timeLimit, nil, results.StatusError, "stopped by the SLURM time limit (USR1) after 1m30s; samples so far kept", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, why, stop := caseEnd(tt.ctx, tt.err, 90*time.Second)
			if status != tt.status || why != tt.why || stop != tt.stopsRun {
				t.Errorf("caseEnd = %q, %q, %t; want %q, %q, %t", status, why, stop, tt.status, tt.why, tt.stopsRun)
			}
		})
	}
}

// scriptedPlacement runs no service and ends each case as told, by case
// id: an error to return, or a stop of the run.
type scriptedPlacement struct {
	localPlacement
	errs map[string]error
	stop map[string]context.CancelCauseFunc
}

func (p scriptedPlacement) runCase(ctx context.Context, e *env, s *suites.Suite, cs suites.Case, url, dir string, info *results.CaseInfo, prog *runner.Progress) error {
	info.Start = time.Now().UTC()
	if cancel := p.stop[cs.ID]; cancel != nil {
		cancel(ErrInterrupted)
	}
	return p.errs[cs.ID]
}

// TestRunCases walks the case state machine through a run: a case that
// fails, then one the user stops, then one never reached; and a run
// whose services did not start.
func TestRunCases(t *testing.T) {
	s, err := suites.Load(filepath.Join("testdata", "demo-short.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Cases()); n != 2 {
		t.Fatalf("testdata/demo-short.toml has %d cases, want 2", n)
	}
	e := &env{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil)), quiet: true}

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	pl := scriptedPlacement{errs: map[string]error{"chat/users=4": errors.New("boom")}, stop: map[string]context.CancelCauseFunc{}}
	r := &caseRun{e: e, s: s, dir: t.TempDir(), pl: pl, cases: s.Cases()}
	r.rec = newRecorder(e, s, r.dir, pl)
	r.runCases(ctx)
	x := r.outcome(ctx)
	want := []results.Status{results.StatusError, results.StatusDone}
	for i, c := range r.rec.m.Cases {
		if c.Status != want[i] {
			t.Errorf("%s: %s, want %s", c.ID, c.Status, want[i])
		}
	}
	if x.err != nil || x.interrupted || r.rec.m.Incomplete {
		t.Errorf("a failed case fails no run: %+v, incomplete %t", x, r.rec.m.Incomplete)
	}

	ctx, cancel = context.WithCancelCause(context.Background())
	pl.stop["chat/users=4"] = cancel
	pl.errs = nil
	r = &caseRun{e: e, s: s, dir: t.TempDir(), pl: pl, cases: s.Cases()}
	r.rec = newRecorder(e, s, r.dir, pl)
	r.runCases(ctx)
	x = r.outcome(ctx)
	if c := r.rec.m.Cases; c[0].Status != results.StatusDone || c[0].Error != results.Interrupted || c[1].Status != results.StatusSkipped {
		t.Errorf("stopped in the first case: %+v", c)
	}
	if !x.interrupted || x.err != nil || r.rec.m.Reason != results.Interrupted {
		t.Errorf("stopped run: %+v, reason %q", x, r.rec.m.Reason)
	}

	r = &caseRun{e: e, s: s, dir: t.TempDir(), pl: pl, cases: s.Cases(), state: runFailed, execErr: errors.New("llm did not start")}
	r.rec = newRecorder(e, s, r.dir, pl)
	r.runCases(context.Background())
	x = r.outcome(context.Background())
	for _, c := range r.rec.m.Cases {
		if c.Status != results.StatusError || c.Error != "llm did not start" {
			t.Errorf("%s after a failed start: %s %q", c.ID, c.Status, c.Error)
		}
	}
	if x.err == nil || r.rec.m.Reason != "llm did not start" {
		t.Errorf("failed start: %+v, reason %q", x, r.rec.m.Reason)
	}
}

// TestCompareOptionsZeroTolerance: a tolerance written as 0 (suite or
// benchmark) is a tolerance of 0, not the default 5%: a suite that asks
// for every significant change to count was compared with 5% of slack,
// and a 4% regression passed. Left out, the default holds.
func TestCompareOptionsZeroTolerance(t *testing.T) {
	const head = "schema_version = 1\n[suite]\nname = \"z\"\n%s[[service]]\nname = \"llm\"\nkind = \"emulator\"\n[[benchmark]]\nname = \"b\"\nservice = \"llm\"\n%s  [benchmark.workload]\n  requests = 5\n"
	for _, tt := range []struct {
		name, suite, bench string
		want               float64
		set                bool
	}{
		{"suite 0", "tolerance = 0\n", "", 0, true},
		{"benchmark 0 over the suite's 10%", "tolerance = \"10%\"\n", "  [benchmark.regression]\n  tolerance = \"0%\"\n", 0, true},
		{"suite 10%", "tolerance = \"10%\"\n", "", 0.1, true},
		{"none", "", "", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := suites.Parse("z.toml", []byte(fmt.Sprintf(head, tt.suite, tt.bench)))
			if err != nil {
				t.Fatal(err)
			}
			o := compareOptions(s, &s.Benchmarks[0])
			got, set := o.Tolerances["*"]
			if set != tt.set || got != tt.want {
				t.Errorf("tolerance \"*\" = %v (set %v), want %v (set %v)", got, set, tt.want, tt.set)
			}
		})
	}
}
