package ci

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/baselines"
	"github.com/benchrun/benchrun/report"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

// analyse turns a results directory into its summary: metrics from the
// samples, threshold checks and baseline comparisons from the suite as run
// (DIR/suite.toml), verdicts rolled up. It reads only files, so it serves
// both `benchrun suite` and `benchrun report DIR`.
func analyse(dir, baselinesFlag string, e *env) (*analysis.Summary, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not a results directory: %w", dir, err)
	}
	if m.Settle() {
		// Killed before it could end the run: judged as cut short.
		e.log.Warn("the run did not finish", "dir", dir, "why", m.Reason)
	}
	s, err := suites.Load(filepath.Join(dir, suiteCopy))
	if err != nil {
		var ps suites.Problems
		if errors.As(err, &ps) {
			return nil, fmt.Errorf("%s: the suite copy no longer validates:\n%w", dir, err)
		}
		return nil, err
	}
	sum, raws, err := analysis.SummarizeDir(dir, analysis.Options{})
	if err != nil {
		return nil, err
	}
	cases := map[string]suites.Case{}
	for _, cs := range s.Cases() {
		cases[cs.ID] = cs
	}
	var bfile *baselines.File // nil: no case has a baseline
	if baselinesFlag != noBaselines {
		bdir := baselinesDir(baselinesFlag, s, m.SuiteFile)
		bfile, err = baselines.Load(bdir, s.Suite.Name)
		switch {
		case errors.Is(err, fs.ErrNotExist) && baselinesFlag == "":
			// The suite's or the default directory: a first run, before
			// any promote. Every case is "no baseline", and said so.
			e.log.Warn("no baselines directory: no case is compared; `benchrun baseline promote` creates it", "dir", bdir)
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("--baselines %s: the directory does not exist", baselinesFlag)
		case err != nil:
			return nil, fmt.Errorf("baselines: %w", err)
		}
	}
	for i := range sum.Cases {
		c := &sum.Cases[i]
		for _, info := range m.Cases {
			if info.ID == c.ID && info.Status == "skipped" {
				c.Verdict = analysis.Skipped
			}
		}
		cs, ok := cases[c.ID]
		if !ok {
			continue
		}
		c.Fingerprint = caseFingerprint(m.Fingerprint, s, cs)
		if c.Verdict == analysis.Skipped || len(c.Errors) > 0 {
			continue
		}
		ts, _ := analysis.ParseThresholds(cs.Benchmark.Thresholds) // validated at load
		analysis.CheckThresholds(c, ts)
		if cs.Benchmark.Regression.Disable {
			continue
		}
		entry := bfile.Entry(c.Benchmark, c.ID)
		c.Checks = append(c.Checks, baselines.Compare(c, raws[c.ID], entry, compareOptions(s, cs.Benchmark))...)
	}
	sum.Incomplete = m.Incomplete
	sum.Rollup()
	if m.Incomplete && m.Reason != "interrupted" {
		// Cut short by something other than the user (time limit, lost
		// node, a service that died, a killed process): an execution error.
		sum.Verdict = analysis.Error
	}
	if noCaseRan(sum) && !(m.Incomplete && m.Reason == "interrupted") {
		// Nothing was measured, so nothing can have passed.
		sum.Verdict = analysis.Error
	}
	return sum, nil
}

// noBaselines as the baselines flag of analyse skips the stored
// baselines: compare DIR BASE_DIR compares with BASE_DIR instead.
const noBaselines = "\x00none"

// noCaseRan reports whether every case of sum was skipped.
func noCaseRan(sum *analysis.Summary) bool {
	for _, c := range sum.Cases {
		if c.Verdict != analysis.Skipped {
			return false
		}
	}
	return true
}

// interruptedRun reports whether the run in dir was stopped by the user:
// its verdict is then exit 130, as `benchrun suite` gave.
func interruptedRun(dir string) bool {
	m, err := results.ReadManifest(dir)
	return err == nil && m.Incomplete && m.Reason == "interrupted"
}

// compareOptions maps a benchmark's regression settings onto baselines'.
func compareOptions(s *suites.Suite, b *suites.Benchmark) baselines.CompareOptions {
	o := baselines.CompareOptions{Metrics: b.Regression.Metrics, Tolerances: map[string]float64{}}
	if s.Suite.Tolerance > 0 {
		o.Tolerances["*"] = float64(s.Suite.Tolerance)
	}
	if b.Regression.Tolerance > 0 {
		o.Tolerances["*"] = float64(b.Regression.Tolerance)
	}
	for k, v := range b.Regression.Tolerances {
		o.Tolerances[k] = float64(v)
	}
	return o
}

// baselinesDir picks the baselines directory: --baselines, else the
// suite's (relative to the suite file as run), else baselines/.
func baselinesDir(flag string, s *suites.Suite, suiteFile string) string {
	switch {
	case flag != "":
		return flag
	case s != nil && s.Suite.Baselines != "":
		if filepath.IsAbs(s.Suite.Baselines) {
			return s.Suite.Baselines
		}
		// The copy in the results directory is not where the suite lives:
		// resolve against the original file's directory.
		return filepath.Join(filepath.Dir(suiteFile), s.Suite.Baselines)
	}
	return "baselines"
}

// render writes summary.json and every report into dir and prints the
// terminal table and verdict line.
func render(e *env, dir string, sum *analysis.Summary) error {
	if err := analysis.WriteSummary(dir, sum); err != nil {
		return err
	}
	in, err := report.Load(dir)
	if err != nil {
		return err
	}
	if err := report.WriteAll(in); err != nil {
		return err
	}
	if e.insideJob {
		fmt.Fprintf(e.stdout, "%s\n", report.VerdictLine(sum))
	} else if err := report.WriteTerminal(e.stdout, in, e.color); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "reports: %s\n", filepath.Join(dir, report.HTMLFile))
	return nil
}

// outcome maps a summary to the CLI's error (and so its exit code).
func outcome(sum *analysis.Summary, interrupted bool) error {
	switch {
	case interrupted:
		return &exitError{code: ExitInterrupted, err: errors.New("interrupted: reports written from the samples so far and marked incomplete")}
	case sum.Verdict == analysis.Error:
		return errSilent{ExitError}
	case sum.Verdict == analysis.Fail:
		return errSilent{ExitFailed}
	}
	return nil
}

// finish analyses and reports a run that execute has left in dir.
func finish(ctx context.Context, e *env, dir, baselinesFlag string, res *execution) error {
	sum, err := analyse(dir, baselinesFlag, e)
	if err != nil {
		return withExitCode(err, ExitError)
	}
	if (res.execErr != nil || res.timeLimit) && sum.Verdict != analysis.Error {
		sum.Verdict = analysis.Error
	}
	if err := render(e, dir, sum); err != nil {
		return withExitCode(err, ExitError)
	}
	if res.execErr != nil {
		return withExitCode(res.execErr, ExitError)
	}
	if res.timeLimit {
		return withExitCode(errors.New("stopped at the SLURM time limit: unfinished cases skipped, reports written"), ExitError)
	}
	return outcome(sum, res.interrupted)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
