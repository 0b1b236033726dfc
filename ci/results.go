package ci

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/baselines"
	"github.com/benchrun/benchrun/report"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

func reportCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "re-render every report of a results directory from its samples",
		ArgsUsage: "DIR",
		Description: "Re-analyses DIR/samples with the suite as run (DIR/suite.toml), compares with\n" +
			"the baselines as they are now, and rewrites summary.json, report.html,\n" +
			"report.md, junit.xml and metrics.txt. Nothing is re-run. The exit code is\n" +
			"the run's verdict, as for `benchrun suite`.\n\n" +
			"Example:\n   benchrun report results/nightly/20261123T020000Z",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return withExitCode(errors.New("report: name exactly one results directory"), ExitUsage)
			}
			e := newEnv(c, stdout, stderr)
			dir := c.Args().First()
			sum, err := analyse(dir, c.String("baselines"), e)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			if err := render(e, dir, sum); err != nil {
				return withExitCode(err, ExitError)
			}
			return outcome(sum, interruptedRun(dir))
		},
	}
}

func compareCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "compare a results directory with the baselines or with another results directory",
		ArgsUsage: "DIR [BASE_DIR]",
		Description: "With one directory, compares it with the stored baselines (--baselines or the\n" +
			"suite's). With two, compares DIR against BASE_DIR as if BASE_DIR were the\n" +
			"baseline. Prints the verdict table; exit code 1 on a regression or failed\n" +
			"threshold. Nothing is written.\n\n" +
			"Examples:\n   benchrun compare results/nightly/today\n   benchrun compare results/nightly/today results/nightly/yesterday",
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return withExitCode(errors.New("compare: name one results directory, or two"), ExitUsage)
			}
			e := newEnv(c, stdout, stderr)
			dir := c.Args().Get(0)
			var sum *analysis.Summary
			var err error
			if c.NArg() == 1 {
				sum, err = analyse(dir, c.String("baselines"), e)
			} else {
				sum, err = compareDirs(dir, c.Args().Get(1), e)
			}
			if err != nil {
				return withExitCode(err, ExitError)
			}
			m, _ := results.ReadManifest(dir)
			if err := report.WriteTerminal(stdout, &report.Input{Dir: dir, Manifest: m, Summary: sum}, e.color); err != nil {
				return err
			}
			return outcome(sum, interruptedRun(dir))
		},
	}
}

// compareDirs re-analyses dir with its thresholds and compares it with
// base as its baseline.
func compareDirs(dir, base string, e *env) (*analysis.Summary, error) {
	s, err := suites.Load(filepath.Join(dir, suiteCopy))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	cur, err := analyse(dir, noBaselines, e) // thresholds only
	if err != nil {
		return nil, err
	}
	for i := range cur.Cases {
		cur.Cases[i].Checks = thresholdChecks(cur.Cases[i].Checks)
	}
	bs, braw, err := analysis.SummarizeDir(base, analysis.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", base, err)
	}
	bm, err := results.ReadManifest(base)
	if err != nil {
		return nil, err
	}
	bsuite, err := suites.Load(filepath.Join(base, suiteCopy))
	if err != nil {
		// Without the base's suite its cases have no fingerprints, and
		// every comparison would quietly be "incomparable".
		return nil, fmt.Errorf("%s: the suite copy does not load, so its cases cannot be matched: %w", base, err)
	}
	bcases := map[string]suites.Case{}
	for _, cs := range bsuite.Cases() {
		bcases[cs.ID] = cs
	}
	for i := range bs.Cases {
		if cs, ok := bcases[bs.Cases[i].ID]; ok {
			bs.Cases[i].Fingerprint = caseFingerprint(bm.Fingerprint, bsuite, cs)
		}
	}
	_, craw, err := analysis.SummarizeDir(dir, analysis.Options{})
	if err != nil {
		return nil, err
	}
	benches := map[string]*suites.Benchmark{}
	for i := range s.Benchmarks {
		benches[s.Benchmarks[i].Name] = &s.Benchmarks[i]
	}
	for i := range cur.Cases {
		c := &cur.Cases[i]
		b := benches[c.Benchmark]
		if b == nil || b.Regression.Disable || c.Verdict == analysis.Skipped || len(c.Errors) > 0 {
			continue
		}
		var entry *baselines.Entry
		for j := range bs.Cases {
			if bs.Cases[j].ID == c.ID && len(bs.Cases[j].Errors) == 0 {
				entry = baselines.NewEntry(&bs.Cases[j], braw[c.ID], bs.Cases[j].Fingerprint)
			}
		}
		c.Checks = append(c.Checks, baselines.Compare(c, craw[c.ID], entry, compareOptions(s, b))...)
	}
	cur.Rollup()
	return cur, nil
}

func thresholdChecks(cks []analysis.Check) []analysis.Check {
	var out []analysis.Check
	for _, ck := range cks {
		if ck.Kind == "threshold" {
			out = append(out, ck)
		}
	}
	return out
}

func baselineCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:            "baseline",
		Usage:           "promote, show and list stored baselines",
		HideHelpCommand: true,
		Description: "Baselines are reviewable JSON files, one per suite, in a directory kept in git\n" +
			"(--baselines, else the suite's baselines key, else baselines/).\n\n" +
			"Examples:\n   benchrun baseline promote results/demo\n   benchrun baseline list\n   benchrun baseline show demo",
		Subcommands: []*cli.Command{
			{
				Name:      "promote",
				Usage:     "make a results directory the baseline of its suite",
				ArgsUsage: "DIR",
				Description: "Writes or updates <baselines>/<suite>.json atomically from DIR and prints what\n" +
					"changed. A failed or incomplete run is refused unless --force.\n\n" +
					"Example:\n   benchrun baseline promote results/demo",
				Flags: []cli.Flag{&cli.BoolFlag{Name: "force", Usage: "promote a failed or incomplete run (errored cases are still left out)"}},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return withExitCode(errors.New("baseline promote: name exactly one results directory"), ExitUsage)
					}
					dir := c.Args().First()
					bdir := baselinesFor(c.String("baselines"), dir)
					changes, err := baselines.Promote(dir, bdir, baselines.PromoteOptions{Force: c.Bool("force")})
					if err != nil {
						return withExitCode(err, ExitError)
					}
					writeChanges(stdout, changes)
					fmt.Fprintf(stdout, "baselines written to %s\n", baselines.Path(bdir, suiteName(dir)))
					return nil
				},
			},
			{
				Name:        "list",
				Usage:       "list the baseline files",
				Description: "Example:\n   benchrun baseline list --baselines baselines",
				Action: func(c *cli.Context) error {
					bdir := c.String("baselines")
					if bdir == "" {
						bdir = "baselines"
					}
					infos, err := baselines.List(bdir)
					if err != nil {
						return withExitCode(err, ExitError)
					}
					t := newTable(stdout)
					t.AppendHeader(table.Row{"suite", "benchmarks", "cases", "latest run", "file"})
					for _, fi := range infos {
						t.AppendRow(table.Row{fi.Suite, fi.Benchmarks, fi.Cases, fi.Latest, fi.Path})
					}
					t.Render()
					return nil
				},
			},
			{
				Name:        "show",
				Usage:       "print the baselines of a suite",
				ArgsUsage:   "SUITE",
				Description: "Example:\n   benchrun baseline show demo",
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return withExitCode(errors.New("baseline show: name one suite"), ExitUsage)
					}
					bdir := c.String("baselines")
					if bdir == "" {
						bdir = "baselines"
					}
					f, err := baselines.Load(bdir, c.Args().First())
					if err != nil {
						return withExitCode(err, ExitError)
					}
					if len(f.Benchmarks) == 0 {
						return withExitCode(fmt.Errorf("no baselines for suite %q in %s", c.Args().First(), bdir), ExitError)
					}
					writeBaselines(stdout, f)
					return nil
				},
			},
		},
	}
}

func newTable(w io.Writer) table.Writer {
	t := table.NewWriter()
	t.SetOutputMirror(w)
	t.SetStyle(table.StyleLight)
	return t
}

// baselinesFor picks the baselines directory of a results directory.
func baselinesFor(flag, dir string) string {
	if flag != "" {
		return flag
	}
	m, err := results.ReadManifest(dir)
	if err != nil {
		return "baselines"
	}
	s, err := suites.Load(filepath.Join(dir, suiteCopy))
	if err != nil {
		return "baselines"
	}
	return baselinesDir("", s, m.SuiteFile)
}

func suiteName(dir string) string {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return ""
	}
	return m.Suite
}

func writeChanges(w io.Writer, changes []baselines.Change) {
	t := newTable(w)
	t.AppendHeader(table.Row{"case", "change", "metric", "old", "new"})
	for _, ch := range changes {
		if ch.Action == baselines.NotPromoted {
			t.AppendRow(table.Row{ch.Case, "not promoted", ch.Reason, "", ""})
			continue
		}
		if len(ch.Headline) == 0 {
			t.AppendRow(table.Row{ch.Case, ch.Action, "", "", ""})
		}
		for i, h := range ch.Headline {
			id, action := ch.Case, ch.Action
			if i > 0 {
				id, action = "", ""
			}
			old := "—"
			if h.HasOld {
				old = analysis.FormatValue(h.Old, h.Unit)
			}
			t.AppendRow(table.Row{id, action, h.Name, old, analysis.FormatValue(h.New, h.Unit)})
		}
	}
	t.Render()
}

func writeBaselines(w io.Writer, f *baselines.File) {
	t := newTable(w)
	t.AppendHeader(table.Row{"benchmark", "case", "metric", "value", "n", "promoted from"})
	benches := make([]string, 0, len(f.Benchmarks))
	for b := range f.Benchmarks {
		benches = append(benches, b)
	}
	sort.Strings(benches)
	for _, b := range benches {
		ids := make([]string, 0, len(f.Benchmarks[b]))
		for id := range f.Benchmarks[b] {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			e := f.Benchmarks[b][id]
			first := true
			for _, name := range baselines.DefaultMetrics() {
				metric, stat, _ := strings.Cut(name, ".")
				m, ok := e.Metrics[metric]
				if !ok {
					continue
				}
				if stat == "" {
					stat = m.DefaultStat()
				}
				v, ok := m.Stat(stat)
				if !ok {
					continue
				}
				bb, cc, from := "", "", ""
				if first {
					bb, cc, from = b, id, e.Run.Start
					if e.Run.SlurmJob != "" {
						from += " (job " + e.Run.SlurmJob + ")"
					}
				}
				first = false
				n := ""
				if m.Kind == analysis.KindDistribution {
					n = fmt.Sprint(m.Count)
				}
				t.AppendRow(table.Row{bb, cc, name, analysis.FormatValue(v, m.Unit), n, from})
			}
		}
	}
	t.Render()
}

func exportCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write per-case statistics and raw samples for spreadsheets and notebooks",
		ArgsUsage: "DIR",
		Description: "CSV writes cases.csv and samples.csv; JSON writes cases.json and samples.jsonl.\n" +
			"Values are in base units (seconds, tokens, bytes).\n\n" +
			"Example:\n   benchrun export --format csv --to /tmp/nightly-csv results/nightly/today",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "csv", Usage: "csv or json"},
			&cli.StringFlag{Name: "to", Usage: "directory to write into (default DIR/export)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return withExitCode(errors.New("export: name exactly one results directory"), ExitUsage)
			}
			f := c.String("format")
			if f != "csv" && f != "json" {
				return withExitCode(fmt.Errorf("export: --format %q: want csv or json", f), ExitUsage)
			}
			dir := c.Args().First()
			in, err := report.Load(dir)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			to := c.String("to")
			if to == "" {
				to = filepath.Join(dir, "export")
			}
			paths, err := report.Export(in, to, f)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			for _, p := range paths {
				fmt.Fprintln(stdout, p)
			}
			return nil
		},
	}
}
