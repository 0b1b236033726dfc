package ci

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/report"
	"github.com/benchrun/benchrun/runner/results"
)

// pagesRunFiles are the files of a run copied into the Pages site.
var pagesRunFiles = []string{results.ManifestFile, results.SummaryFile, report.HTMLFile, report.MarkdownFile, report.JUnitFile, report.MetricsFile}

func pagesCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "pages",
		Usage:     "build a static site indexing results directories (GitLab Pages)",
		ArgsUsage: "RESULTS...",
		Description: "Copies each run's reports into OUT/runs/<suite>-<start>/ and writes OUT/index.html:\n" +
			"every run under OUT/runs (those of earlier pipelines too, when OUT is kept\n" +
			"between pipelines), newest first, with its verdict, case counts and CI job.\n" +
			"OUT is -o (default public). RESULTS is a results directory or a directory of\n" +
			"them. A directory without\n" +
			"summary.json (a run killed before its reports) is named on stderr and left out.\n\n" +
			"Example:\n   benchrun pages -o public results/nightly",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return withExitCode(errors.New("pages: name at least one results directory"), ExitUsage)
			}
			out := c.String("output") // -o: the site directory
			if out == "" {
				out = "public"
			}
			for _, arg := range c.Args().Slice() {
				for _, dir := range runDirs(arg) {
					if err := copyRun(stderr, dir, filepath.Join(out, "runs")); err != nil {
						return withExitCode(err, ExitError)
					}
				}
			}
			n, err := writePagesIndex(out)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			fmt.Fprintf(stdout, "pages: %d runs in %s\n", n, filepath.Join(out, report.PagesFile))
			return nil
		},
	}
}

// runDirs is dir when it is a results directory (it has a manifest), else
// its subdirectories that are.
func runDirs(dir string) []string {
	if exists(filepath.Join(dir, results.ManifestFile)) {
		return []string{dir}
	}
	ms, _ := filepath.Glob(filepath.Join(dir, "*", results.ManifestFile))
	var out []string
	for _, m := range ms {
		out = append(out, filepath.Dir(m))
	}
	return out
}

// copyRun copies the reports of the run in dir into runs/<suite>-<start>/.
func copyRun(stderr io.Writer, dir, runs string) error {
	in, err := report.Load(dir)
	if err != nil {
		fmt.Fprintf(stderr, "pages: %s left out: %v\n", dir, err)
		return nil
	}
	name := in.Summary.Suite
	if in.Manifest != nil {
		name += "-" + in.Manifest.Start.UTC().Format("20060102T150405Z")
	}
	dst := filepath.Join(runs, name)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, f := range pagesRunFiles {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writePagesIndex writes out/index.html over every run in out/runs.
func writePagesIndex(out string) (int, error) {
	ents, err := os.ReadDir(filepath.Join(out, "runs"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	var runs []report.PagesRun
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		in, err := report.Load(filepath.Join(out, "runs", e.Name()))
		if err != nil {
			return 0, err
		}
		runs = append(runs, report.RunOfPages(in, strings.Join([]string{"runs", e.Name(), report.HTMLFile}, "/")))
	}
	err = results.WriteFileAtomic(filepath.Join(out, report.PagesFile), func(w io.Writer) error { return report.WritePages(w, runs) })
	return len(runs), err
}
