package ci

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/baselines"
)

func historyCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "history",
		Usage:     "print a suite's recent values per case and statistic, and its change points",
		ArgsUsage: "SUITE",
		Description: "SUITE is a suite name or its file. Every `benchrun suite` run appends its key\n" +
			"statistics to the suite's history, --history DIR/<suite>.jsonl (default: the\n" +
			"history directory inside the baselines directory). Change points are found over\n" +
			"the whole history (E-divisive means with a permutation test, analysis.ChangePoints).\n\n" +
			"Examples:\n   benchrun history nightly\n   benchrun history import results/nightly/*",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "last", Value: 8, Usage: "show the last `N` runs"},
		},
		Subcommands: []*cli.Command{historyImportCommand(stdout, stderr)},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return withExitCode(errors.New("history: name one suite (its name or its file)"), ExitUsage)
			}
			name, dir, err := historyOf(c, stderr, c.Args().First())
			if err != nil {
				return err
			}
			h, err := baselines.LoadHistory(dir, name)
			if errors.Is(err, fs.ErrNotExist) {
				return withExitCode(fmt.Errorf("no history of suite %q in %s", name, dir), ExitError)
			} else if err != nil {
				return withExitCode(err, ExitError)
			}
			writeHistory(stdout, h, max(c.Int("last"), 1))
			return nil
		},
	}
}

// historyOf resolves the history command's SUITE argument to the suite's
// name and its history directory.
func historyOf(c *cli.Context, stderr io.Writer, arg string) (name, dir string, err error) {
	if !strings.HasSuffix(arg, ".toml") {
		return arg, historyDir(c.String("history"), baselinesDir(c.String("baselines"), nil, "")), nil
	}
	s, err := loadSuite(stderr, arg)
	if err != nil {
		return "", "", err
	}
	return s.Suite.Name, historyDir(c.String("history"), baselinesDir(c.String("baselines"), s, s.File)), nil
}

// historyDir is --history, else the history directory inside the
// baselines directory bdir.
func historyDir(flag, bdir string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(bdir, "history")
}

// writeHistory prints the last n values of every series of h and the
// latest change point of each.
func writeHistory(w io.Writer, h baselines.History, n int) {
	runs := h
	if len(runs) > n {
		runs = runs[len(runs)-n:]
	}
	t := newTable(w)
	header := table.Row{"case", "statistic"}
	for _, r := range runs {
		header = append(header, shortRun(r.Run))
	}
	t.AppendHeader(append(header, "change point"))
	for _, s := range h.Series() {
		row := table.Row{s.Case, s.Stat}
		at := map[string]float64{}
		for i, run := range s.Runs {
			at[run] = s.Values[i]
		}
		for _, r := range runs {
			if v, ok := at[r.Run]; ok {
				row = append(row, analysis.FormatValue(v, s.Unit))
			} else {
				row = append(row, "")
			}
		}
		t.AppendRow(append(row, latestChange(s)))
	}
	t.Render()
	fmt.Fprintf(w, "%d runs, %s to %s\n", len(h), h[0].Run, h[len(h)-1].Run)
}

// latestChange describes the last change point of s: the run where the
// step started and the change of the mean; "" when none.
func latestChange(s baselines.Series) string {
	cps := analysis.ChangePoints(s.Values, analysis.ChangePointOptions{Seed: 1})
	if len(cps) == 0 {
		return ""
	}
	cp := cps[len(cps)-1]
	return fmt.Sprintf("%s %+.1f%% (p=%.3f)", shortRun(s.Runs[cp.Index]), cp.Delta*100, cp.PValue)
}

// shortRun is a run's start as a column header: "01-02 15:04".
func shortRun(run string) string {
	if len(run) >= 16 {
		return run[5:10] + " " + run[11:16]
	}
	return run
}
