package ci

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/baselines"
	"github.com/benchrun/benchrun/runner/results"
)

func baselineCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:            "baseline",
		Usage:           "promote, show and list stored baselines",
		HideHelpCommand: true,
		Description: "Baselines are reviewable JSON files, one per suite, in a directory kept in git\n" +
			"(--baselines, else the suite's baselines key, else baselines/).\n\n" +
			"Examples:\n   benchrun baseline promote results/demo\n   benchrun baseline list\n   benchrun baseline show demo",
		Subcommands: []*cli.Command{
			baselinePromoteCommand(stdout),
			baselineListCommand(stdout, stderr),
			baselineShowCommand(stdout),
		},
	}
}

func baselinePromoteCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
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
			changes, err := baselines.Promote(dir, bdir, baselines.PromoteOptions{Force: c.Bool("force"), Metrics: comparedMetrics(dir)})
			if err != nil {
				return withExitCode(err, ExitError)
			}
			writeChanges(stdout, changes)
			writePromotedRun(stdout, dir)
			fmt.Fprintf(stdout, "baselines written to %s\n", baselines.Path(bdir, suiteName(dir)))
			return nil
		},
	}
}

func baselineListCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
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
			return writeList(stdout, stderr, infos)
		},
	}
}

// writeList prints the baseline files that read, and each one that does
// not as "unreadable" with its error on stderr; any such file makes exit
// code 2, after the others were listed.
func writeList(stdout, stderr io.Writer, infos []baselines.FileInfo) error {
	t := newTable(stdout)
	t.AppendHeader(table.Row{"suite", "benchmarks", "cases", "latest run", "file"})
	bad := 0
	for _, fi := range infos {
		if fi.Err != nil {
			bad++
			fmt.Fprintf(stderr, "benchrun: %v\n", fi.Err)
			t.AppendRow(table.Row{"(unreadable)", "", "", "", fi.Path})
			continue
		}
		t.AppendRow(table.Row{fi.Suite, fi.Benchmarks, fi.Cases, fi.Latest, fi.Path})
	}
	t.Render()
	if bad > 0 {
		return withExitCode(fmt.Errorf("%d of %d baseline files cannot be read", bad, len(infos)), ExitError)
	}
	return nil
}

func baselineShowCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
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
	s, err := loadSuiteCopy(dir)
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

// writePromotedRun names the run promoted from dir: its suite, start, and
// the SLURM and CI jobs it ran in (the promote job's commit message quotes
// it, so the baselines' history says where they came from).
func writePromotedRun(w io.Writer, dir string) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return // Promote read it a moment ago; nothing to add
	}
	line := fmt.Sprintf("run: suite %s, started %s", m.Suite, m.Start.UTC().Format(time.RFC3339))
	if m.Slurm != nil && m.Slurm.JobID != "" {
		line += ", SLURM job " + m.Slurm.JobID
	}
	if m.CI != nil {
		if m.CI.PipelineID != "" {
			line += ", pipeline " + m.CI.PipelineID
		}
		if m.CI.JobURL != "" {
			line += ", CI job " + m.CI.JobURL
		}
	}
	fmt.Fprintln(w, line)
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
			shown := e.Compared
			if len(shown) == 0 {
				shown = baselines.DefaultMetrics()
			}
			for _, name := range shown {
				_, _, m, v, ok := baselines.LookupSpec(e.Metrics, name)
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

// comparedMetrics gives, per benchmark of the suite copy in results
// directory dir, the metrics a comparison checks ([benchmark.regression]
// metrics, else the kind's defaults), so promote prints what later runs
// will be compared on; nil (the defaults) when the copy does not load.
func comparedMetrics(dir string) func(benchmark string) []string {
	s, err := loadSuiteCopy(dir)
	if err != nil {
		return nil
	}
	return func(name string) []string {
		for i := range s.Benchmarks {
			if b := &s.Benchmarks[i]; b.Name == name {
				return compareOptions(s, b).Metrics
			}
		}
		return nil
	}
}
