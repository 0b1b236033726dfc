package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// Output file names that WriteAll writes into a results directory.
const (
	HTMLFile     = "report.html"
	MarkdownFile = "report.md"
	JUnitFile    = "junit.xml"
	MetricsFile  = "metrics.txt"
)

// Input is everything a report is drawn from: the results directory
// (whose samples package analysis measures for the charts), its manifest
// and its summary. Manifest may be nil
// (a summary rendered on its own); Summary must not be.
type Input struct {
	Dir      string
	Manifest *results.Manifest
	Summary  *analysis.Summary
}

// Load reads DIR/manifest.json and DIR/summary.json. A missing manifest is
// tolerated (Manifest stays nil); a missing or malformed summary is an error.
func Load(dir string) (*Input, error) {
	in := &Input{Dir: dir}
	m, err := results.ReadManifest(dir)
	switch {
	case err == nil:
		m.Settle() // a killed run reads as cut short, with the reason
		in.Manifest = m
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, err
	}
	if in.Summary, err = analysis.ReadSummary(dir); err != nil {
		return nil, err
	}
	return in, nil
}

// WriteAll writes report.html, report.md, junit.xml and metrics.txt into
// in.Dir, each through a temporary file and a rename. It stops at the first
// error.
func WriteAll(in *Input) error {
	outputs := []struct {
		name  string
		write func(io.Writer) error
	}{
		{MarkdownFile, func(w io.Writer) error { return WriteMarkdown(w, in) }},
		{JUnitFile, func(w io.Writer) error { return WriteJUnit(w, in) }},
		{MetricsFile, func(w io.Writer) error { return WriteMetrics(w, in) }},
		{HTMLFile, func(w io.Writer) error { return WriteHTML(w, in) }},
	}
	for _, o := range outputs {
		if err := results.WriteFileAtomic(filepath.Join(in.Dir, o.name), o.write); err != nil {
			return fmt.Errorf("%s: %w", o.name, err)
		}
	}
	return nil
}

// benchmark is the cases of one benchmark, in summary order.
type benchmark struct {
	Name  string
	Cases []*analysis.Case
	// Knees are the summary's knees of this benchmark's sweeps.
	Knees []analysis.Knee
}

// benchmarks groups the summary's cases by benchmark, in order of first
// appearance, so every output lists them the same way.
func (in *Input) benchmarks() []benchmark {
	var out []benchmark
	idx := map[string]int{}
	for i := range in.Summary.Cases {
		c := &in.Summary.Cases[i]
		j, ok := idx[c.Benchmark]
		if !ok {
			j = len(out)
			idx[c.Benchmark] = j
			out = append(out, benchmark{Name: c.Benchmark})
		}
		out[j].Cases = append(out[j].Cases, c)
	}
	for _, k := range in.Summary.Knees {
		if j, ok := idx[k.Benchmark]; ok {
			out[j].Knees = append(out[j].Knees, k)
		}
	}
	return out
}

// caseInfo returns the manifest's record of case id, or nil.
func (in *Input) caseInfo(id string) *results.CaseInfo {
	if in.Manifest == nil {
		return nil
	}
	for i := range in.Manifest.Cases {
		if in.Manifest.Cases[i].ID == id {
			return &in.Manifest.Cases[i]
		}
	}
	return nil
}

// samplesPath returns the samples file of case id: the manifest's path when
// it has one, else the conventional results.SamplePath.
func (in *Input) samplesPath(id string) string {
	rel := results.SamplePath(id)
	if ci := in.caseInfo(id); ci != nil && ci.Samples != "" {
		rel = ci.Samples
	}
	if filepath.IsAbs(rel) {
		return rel
	}
	return filepath.Join(in.Dir, rel)
}

// measured returns what package analysis measures from the samples of case
// c for the charts (distributions, timeline, error classes), and, when they
// are missing or unreadable, why, for the page to say. A skipped case is
// not read.
func (in *Input) measured(c *analysis.Case) (*analysis.Raw, string) {
	info := results.CaseInfo{ID: c.ID, Status: results.StatusDone}
	if ci := in.caseInfo(c.ID); ci != nil {
		info = *ci
	} else if c.Verdict == analysis.Skipped {
		info.Status = results.StatusSkipped
	}
	_, raw, err := analysis.SummarizeCaseIn(in.Dir, info, analysis.Options{})
	switch {
	case errors.Is(err, fs.ErrNotExist) || err == nil && len(raw.Missing) > 0:
		if c.Verdict == analysis.Skipped {
			return nil, ""
		}
		return nil, c.ID + ": no samples file"
	case err != nil:
		return nil, err.Error()
	}
	return raw, ""
}

// incomplete reports whether the run was cut short, and why.
func (in *Input) incomplete() (bool, string) {
	if in.Manifest != nil && in.Manifest.Incomplete {
		return true, in.Manifest.Reason
	}
	return in.Summary.Incomplete, ""
}
