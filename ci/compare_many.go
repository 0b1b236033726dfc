package ci

import (
	"fmt"

	"github.com/benchrun/benchrun/report"
)

// compareMany is `benchrun compare REF DIR DIR...`: each DIR is judged
// against the run REF, as `compare REF DIR` would, and all are printed in
// one table. The exit code is the worst of the runs': an execution error
// (a run that cannot be read or compared) before a regression.
func compareMany(e *env, dirs []string, baselinesFlag string, ignore []string) error {
	ref := dirs[0]
	var runs []report.Compared
	var worst error
	for _, dir := range dirs[1:] {
		p := &pipeline{e: e, dir: dir, baselines: baselinesFlag, baseDir: ref, ignoreFingerprint: ignore, tableOnly: true}
		r, err := p.analyse()
		if err != nil {
			return withExitCode(fmt.Errorf("%s: %w", dir, err), ExitError)
		}
		x := &execution{interrupted: r.stopped()}
		if err := p.compare(r); err != nil {
			p.notCompared(r, x, err)
		}
		judge(r, x)
		runs = append(runs, report.Compared{Name: dir, Summary: r.sum})
		worst = worseExit(worst, exitCode(r.sum, x))
	}
	if err := report.WriteMultiCompare(e.stdout, ref, runs); err != nil {
		return withExitCode(err, ExitError)
	}
	return worst
}

// worseExit returns the more severe of two exit errors: an error (2) or an
// interruption (130) before a failure (1) before none.
func worseExit(a, b error) error {
	rank := func(err error) int {
		switch ExitCode(err) {
		case ExitOK:
			return 0
		case ExitFailed:
			return 1
		default:
			return 2
		}
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}
