package ci

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/baselines"
	"github.com/benchrun/benchrun/suites"
)

func historyImportCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "add old results directories to their suites' histories",
		ArgsUsage: "DIR...",
		Description: "Reads each results directory, judges it against its thresholds (not against\n" +
			"baselines: they have moved since) and appends its key statistics to its suite's\n" +
			"history. A run already in the history, or cut short, is skipped and said so.",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return withExitCode(errors.New("history import: name at least one results directory"), ExitUsage)
			}
			e := newEnv(c, stdout, stderr)
			var errs []error
			for _, dir := range c.Args().Slice() {
				p := &pipeline{e: e, dir: dir, baselines: c.String("baselines"), history: c.String("history")}
				if err := p.importHistory(); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", dir, err))
				}
			}
			return withExitCode(errors.Join(errs...), ExitError)
		},
	}
}

// importHistory reads p.dir back, judges it without baselines and appends
// it to its suite's history.
func (p *pipeline) importHistory() error {
	r, err := p.analyse()
	if err != nil {
		return err
	}
	judge(r, &execution{interrupted: r.stopped()})
	return p.recordHistory(r)
}

// recordHistory appends the judged run r to its suite's history; a run
// cut short is not recorded (its numbers cover part of the load).
func (p *pipeline) recordHistory(r *run) error {
	if r.m.Incomplete {
		fmt.Fprintf(p.e.stdout, "history: %s not recorded: the run was cut short (%s)\n", p.dir, r.m.Reason)
		return nil
	}
	dir := historyDir(p.history, baselinesDir(p.baselines, r.s, r.m.SuiteFile))
	rec := baselines.RecordOf(r.m, r.sum, func(c *analysis.Case) []string { return historyKeys(r.s, r.cases[c.ID]) })
	added, err := baselines.Append(dir, rec)
	switch {
	case err != nil:
		return err
	case added:
		fmt.Fprintf(p.e.stdout, "history: %s recorded in %s\n", p.dir, baselines.HistoryPath(dir, rec.Suite))
	default:
		fmt.Fprintf(p.e.stdout, "history: %s is already in %s\n", p.dir, baselines.HistoryPath(dir, rec.Suite))
	}
	return nil
}

// keepsHistory reports whether a run of `benchrun suite` is recorded: when
// --history names the directory, or the baselines directory exists (a
// first run before any promote writes no baselines/ by surprise).
func (p *pipeline) keepsHistory(r *run) bool {
	return p.history != "" || exists(baselinesDir(p.baselines, r.s, r.m.SuiteFile))
}

// historyKeys are the statistics of case cs kept in the history: the ones
// its regression check compares.
func historyKeys(s *suites.Suite, cs suites.Case) []string {
	if cs.Benchmark == nil {
		return baselines.DefaultMetrics()
	}
	if m := compareOptions(s, cs.Benchmark).Metrics; len(m) > 0 {
		return m
	}
	return baselines.DefaultMetrics()
}
