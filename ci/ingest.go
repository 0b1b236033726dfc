package ci

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/runner/parse"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

// ingestCommand is `benchrun ingest io500|exec`: it turns the output of a
// run benchrun did not start into a results directory, so that a site's
// history can be reported and promoted to baselines.
func ingestCommand(stdout, stderr io.Writer) *cli.Command {
	flags := func(extra ...cli.Flag) []cli.Flag {
		return append([]cli.Flag{
			&cli.StringFlag{Name: "suite", Usage: "the suite FILE the run belongs to: its benchmark's case id, thresholds and fingerprint make the ingested run comparable with the suite's own runs"},
			&cli.StringFlag{Name: "benchmark", Usage: "the benchmark of --suite the run is (default: the suite's only batch benchmark)"},
			ignoreFingerprintFlag(),
		}, extra...)
	}
	return &cli.Command{
		Name:  "ingest",
		Usage: "turn an existing batch benchmark output into a results directory (reports, baselines)",
		Subcommands: []*cli.Command{
			{
				Name:      "io500",
				Usage:     "ingest an io500 results directory, result_summary.txt, result.txt or stdout",
				ArgsUsage: "PATH",
				Description: "Reads PATH with benchrun's io500 parsers (every release's format; the scores are\n" +
					"recomputed and checked), writes a results directory with one sample, and renders\n" +
					"summary.json and every report, as `benchrun report` does.\n\n" +
					"Example:\n   benchrun ingest io500 -o results/io500/2024-05-03 /lustre/io500/results/2024.05.03-09.25.44",
				Flags:  flags(),
				Action: func(c *cli.Context) error { return ingest(c, stdout, stderr, "io500") },
			},
			{
				Name:      "exec",
				Usage:     "ingest the output FILE of a batch benchmark with a named parser",
				ArgsUsage: "FILE",
				Description: "Reads FILE with --parser (io500, ior, mdtest, regex with --pattern; json needs a\n" +
					"--suite whose exec benchmark declares its metrics) and writes a results directory.\n\n" +
					"Example:\n   benchrun ingest exec --parser ior -o results/ior/old ior-2024-05-03.txt",
				Flags: flags(
					&cli.StringFlag{Name: "parser", Usage: "io500, ior, mdtest, json or regex (default: the --suite benchmark's)"},
					&cli.StringSliceFlag{Name: "pattern", Usage: "regex: a pattern with named groups (?P<metric>...); repeatable"},
				),
				Action: func(c *cli.Context) error { return ingest(c, stdout, stderr, "exec") },
			},
		},
	}
}

// ingest is both subcommands: the suite, the parsed run, the results
// directory, then the pipeline from analyse on.
func ingest(c *cli.Context, stdout, stderr io.Writer, kind string) error {
	if c.NArg() != 1 {
		return withExitCode(fmt.Errorf("ingest %s: name exactly one PATH", kind), ExitUsage)
	}
	src := c.Args().First()
	s, cs, err := ingestSuite(c, kind)
	if err != nil {
		return withExitCode(err, ExitUsage)
	}
	if c.String("suite") == "" {
		// The suite written for the run: its copy is in the results
		// directory.
		defer os.RemoveAll(filepath.Dir(s.File))
	}
	run, err := ingestRun(c, s, cs, src)
	if err != nil {
		return withExitCode(fmt.Errorf("ingest %s: %w", src, err), ExitError)
	}
	dir := resultsDir(c.String("output"), s, time.Now())
	if exists(filepath.Join(dir, results.ManifestFile)) {
		return withExitCode(fmt.Errorf("ingest: %s is already a results directory", dir), ExitUsage)
	}
	if err := writeIngested(s, cs, dir, src, run); err != nil {
		return withExitCode(err, ExitError)
	}
	ignore, err := ignoredFingerprint(c)
	if err != nil {
		return err
	}
	p := &pipeline{e: newEnv(c, stdout, stderr), dir: dir, baselines: c.String("baselines"), ignoreFingerprint: ignore}
	return p.conclude(nil)
}

// ingestSuite returns the suite and case the ingested run belongs to: the
// --suite benchmark's only case, or a suite written for it.
func ingestSuite(c *cli.Context, kind string) (*suites.Suite, suites.Case, error) {
	file := c.String("suite")
	if file == "" {
		text, err := generatedSuite(c, kind)
		if err != nil {
			return nil, suites.Case{}, err
		}
		dir, err := os.MkdirTemp("", "benchrun-ingest-")
		if err != nil {
			return nil, suites.Case{}, err
		}
		file = filepath.Join(dir, "ingested.toml")
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			os.RemoveAll(dir)
			return nil, suites.Case{}, err
		}
	}
	s, err := suites.Load(file)
	if err != nil {
		if c.String("suite") == "" {
			os.RemoveAll(filepath.Dir(file))
		}
		return nil, suites.Case{}, err
	}
	var found []suites.Case
	for _, cs := range s.Cases() {
		if isBatch(cs) && (c.String("benchmark") == "" || cs.Benchmark.Name == c.String("benchmark")) {
			found = append(found, cs)
		}
	}
	if len(found) != 1 {
		return nil, suites.Case{}, fmt.Errorf("ingest: %s has %d batch benchmark cases to match (name one with --benchmark; a swept benchmark cannot take an ingested run)", file, len(found))
	}
	if k := found[0].Benchmark.Kind; k != kind && !(kind == "exec" && k == "io500") {
		return nil, suites.Case{}, fmt.Errorf("ingest %s: benchmark %q is of kind %s", kind, found[0].Benchmark.Name, k)
	}
	return s, found[0], nil
}

// generatedSuite is the suite of an ingested run without --suite: one
// batch benchmark that says it is not to be run.
func generatedSuite(c *cli.Context, kind string) (string, error) {
	name := c.String("benchmark")
	if name == "" {
		name = kind
	}
	head := fmt.Sprintf("# written by `benchrun ingest %s`: the run was not started by benchrun; running this suite does nothing useful\n"+
		"[suite]\nname = %q\n\n[[benchmark]]\nname = %q\nkind = %q\n", kind, name, name, kind)
	if kind == "io500" {
		return head + "[benchmark.workload]\ncommand = [\"false\"]\nlauncher = \"local\"\n[benchmark.workload.config.global]\ndatadir = \"(ingested)\"\n", nil
	}
	p := c.String("parser")
	if p == "" {
		return "", errors.New("ingest exec: --parser is required without --suite")
	}
	text := head + fmt.Sprintf("[benchmark.workload]\ncommand = [\"false\"]\nlauncher = \"local\"\nparser = %q\n", p)
	if pats := c.StringSlice("pattern"); len(pats) > 0 {
		text += "patterns = ["
		for i, pt := range pats {
			if i > 0 {
				text += ", "
			}
			text += fmt.Sprintf("%q", pt)
		}
		text += "]\n"
	}
	if p == "ior" || p == "mdtest" {
		text += "[benchmark.regression]\ndisable = true # name regression.metrics in a --suite to compare\n"
	}
	return text, nil
}

// ingestRun parses src as the case's parser reads it: a directory as an
// io500 results directory, a file with the benchmark's parser (--parser
// overrides the one of --suite).
func ingestRun(c *cli.Context, s *suites.Suite, cs suites.Case, src string) (*batchRun, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		r, _, err := parse.ReadIO500Dir(src)
		if err != nil {
			return nil, err
		}
		return io500Run(r), nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	parser, opts := "io500", parse.Options{}
	if w, ok := cs.Workload.(*suites.ExecWorkload); ok {
		parser, opts = w.Parser, w.Spec()
	}
	if p := c.String("parser"); p != "" {
		parser = p
	}
	if parser == "io500" {
		r, err := parse.ParseIO500(src, data)
		if err != nil {
			return nil, err
		}
		return io500Run(r), nil
	}
	ms, err := parse.Parse(parser, src, data, opts)
	if err != nil {
		return nil, err
	}
	return &batchRun{metrics: ms}, nil
}

// writeIngested writes the results directory of an ingested run: the
// suite copy, the source under batch/<case>/ingested, one sample and the
// manifest.
func writeIngested(s *suites.Suite, cs suites.Case, dir, src string, run *batchRun) error {
	if err := prepareDir(s, dir); err != nil {
		return err
	}
	if err := copyTree(src, filepath.Join(dir, BatchDir, results.CaseFileName(cs.ID), "ingested")); err != nil {
		return fmt.Errorf("keeping a copy of %s: %w", src, err)
	}
	m := newManifest(s)
	m.Cases = pendingCases(s, results.SamplePath)
	var info *results.CaseInfo
	for i := range m.Cases {
		if m.Cases[i].ID == cs.ID {
			info = &m.Cases[i]
		} else {
			m.Cases[i].Status = results.StatusSkipped
		}
	}
	st, _ := os.Stat(src)
	end := st.ModTime().UTC()
	took := batchSeconds(run)
	info.Start, info.End, info.Status, info.Repetitions = end.Add(-took), end, results.StatusDone, 1
	info.Settings = map[string]string{"ingested_from": src, results.SettingSamples: results.SamplesRuns}
	sm := results.Sample{Done: max(took, time.Nanosecond), Values: map[string]float64{}}
	declareBatchMetrics(info, run, sm.Values)
	info.Warnings = append(info.Warnings, run.warnings...)
	path := filepath.Join(dir, info.Samples)
	w, err := results.CreateSampleFile(path)
	if err != nil {
		return err
	}
	if err := w.Write(&sm); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	info.RecordSamples(path, w.Count())
	m.Start, m.End = info.Start, info.End
	return results.WriteJSONAtomic(filepath.Join(dir, results.ManifestFile), m)
}

// batchSeconds is how long an ingested run took, as far as its metrics
// say (the sum of io500's phase times), else 0.
func batchSeconds(run *batchRun) time.Duration {
	total := 0.0
	for _, m := range run.metrics {
		if strings.HasSuffix(m.Name, "_time") && m.Unit == parse.UnitSeconds {
			total += m.Value
		}
	}
	return time.Duration(total * float64(time.Second))
}

// copyTree copies the file or directory src to dst (regular files only).
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		if rel == "." {
			to = filepath.Join(dst, filepath.Base(src))
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
}
