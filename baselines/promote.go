package baselines

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// PromoteOptions tune Promote.
type PromoteOptions struct {
	// Force promotes a run whose verdict is fail or error, or that is
	// incomplete. Cases with verdict error or skipped are never promoted.
	Force bool
}

// Change actions.
const (
	Added       = "added"
	Updated     = "updated"
	Unchanged   = "unchanged"
	NotPromoted = "skipped" // the case errored or did not run
)

// Change is what Promote did to one case's entry.
type Change struct {
	Benchmark string
	Case      string
	Action    string     // Added, Updated, Unchanged or NotPromoted
	Headline  []Headline // old → new of the DefaultMetrics the case has
	Reason    string     // why NotPromoted
}

// Headline is one statistic before and after a promotion; Old is NaN-free:
// HasOld is false for a new entry or statistic.
type Headline struct {
	Name     string // "ttft.p95"
	Unit     string
	Old, New float64
	HasOld   bool
}

// Promote makes a results directory the baseline of its suite: it reads
// summary.json, manifest.json and the samples, builds one Entry per case
// (fingerprint = manifest fingerprint overlaid with the case's), writes
// <baselinesDir>/<suite>.json atomically (creating baselinesDir if it does
// not exist) and returns the changes sorted by benchmark and case. Entries
// of cases not in the run are kept. It refuses
// a run whose verdict is fail or error, or that is incomplete, unless
// o.Force.
func Promote(resultsDir, baselinesDir string, o PromoteOptions) ([]Change, error) {
	m, err := results.ReadManifest(resultsDir)
	if err != nil {
		return nil, fmt.Errorf("promote %s: %w", resultsDir, err)
	}
	s, err := analysis.ReadSummary(resultsDir)
	if err != nil {
		return nil, fmt.Errorf("promote %s: %w", resultsDir, err)
	}
	m.Settle() // a killed run (a case still running, no end) is incomplete too
	if !o.Force {
		if m.Incomplete {
			return nil, fmt.Errorf("promote %s: the run is incomplete (%s); use --force to promote it anyway", resultsDir, m.Reason)
		}
		if s.Verdict == analysis.Fail || s.Verdict == analysis.Error {
			return nil, fmt.Errorf("promote %s: the run's verdict is %s; use --force to promote it anyway", resultsDir, s.Verdict)
		}
	}
	suite := s.Suite
	if suite == "" {
		suite = m.Suite
	}
	f, err := Load(baselinesDir, suite)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = newFile(suite), nil // the first promotion creates the directory
	}
	if err != nil {
		return nil, err
	}
	infos := map[string]results.CaseInfo{}
	for _, ci := range m.Cases {
		infos[ci.ID] = ci
	}
	run := Run{BenchrunVersion: m.BenchrunVersion, BenchrunCommit: m.BenchrunCommit, SuiteSHA256: m.SuiteSHA256}
	if !m.Start.IsZero() {
		run.Start = m.Start.UTC().Format("2006-01-02T15:04:05Z")
	}
	if m.Slurm != nil {
		run.SlurmJob = m.Slurm.JobID
	}
	var changes []Change
	for i := range s.Cases {
		c := &s.Cases[i]
		ch := Change{Benchmark: c.Benchmark, Case: c.ID}
		if c.Verdict == analysis.Error || c.Verdict == analysis.Skipped {
			ch.Action, ch.Reason = NotPromoted, "verdict "+c.Verdict
			changes = append(changes, ch)
			continue
		}
		info, ok := infos[c.ID]
		if !ok {
			return nil, fmt.Errorf("promote %s: case %s is in summary.json but not in manifest.json", resultsDir, c.ID)
		}
		files, err := analysis.CaseSampleFiles(resultsDir, info)
		if err != nil {
			return nil, err
		}
		_, raw, err := analysis.SummarizeCase(info, files, analysis.Options{})
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("promote %s: case %s: samples missing, a baseline needs them: %w", resultsDir, c.ID, err)
			}
			return nil, fmt.Errorf("promote %s: %w", resultsDir, err)
		}
		e := NewEntry(c, raw, Fingerprint(m, c))
		e.Run = run
		old := f.Entry(c.Benchmark, c.ID)
		switch {
		case old == nil:
			ch.Action = Added
		case sameJSON(old, e):
			ch.Action = Unchanged
		default:
			ch.Action = Updated
		}
		ch.Headline = headlines(old, e)
		f.Set(c.Benchmark, c.ID, e)
		changes = append(changes, ch)
	}
	slices.SortStableFunc(changes, func(a, b Change) int {
		if c := strings.Compare(a.Benchmark, b.Benchmark); c != 0 {
			return c
		}
		return strings.Compare(a.Case, b.Case)
	})
	f.Suite = suite
	if err := Save(baselinesDir, f); err != nil {
		return nil, fmt.Errorf("promote %s: %w", resultsDir, err)
	}
	return changes, nil
}

func sameJSON(a, b *Entry) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func headlines(old, e *Entry) []Headline {
	var hs []Headline
	for _, spec := range DefaultMetrics() {
		name, stat, _ := strings.Cut(spec, ".")
		m, ok := e.Metrics[name]
		if !ok {
			continue
		}
		if stat == "" {
			stat = m.DefaultStat()
		}
		h := Headline{Name: name + "." + stat, Unit: m.Unit}
		h.New, _ = m.Stat(stat)
		if old != nil {
			if om, ok := old.Metrics[name]; ok {
				h.Old, h.HasOld = om.Stat(stat)
			}
		}
		hs = append(hs, h)
	}
	return hs
}

// CompareRuns compares every case of cur with the case of the same id in
// base (the `benchrun compare OLD NEW` path): each base case becomes a
// baseline entry with its fingerprint, as Promote would build it. Raws are
// keyed by case id and may be nil. The result maps case id to its checks.
func CompareRuns(base, cur *analysis.Summary, baseRaw, curRaw map[string]*analysis.Raw, o CompareOptions) map[string][]analysis.Check {
	byID := map[string]*analysis.Case{}
	for i := range base.Cases {
		byID[base.Cases[i].ID] = &base.Cases[i]
	}
	out := map[string][]analysis.Check{}
	for i := range cur.Cases {
		c := &cur.Cases[i]
		if c.Verdict == analysis.Skipped {
			continue
		}
		var e *Entry
		if b := byID[c.ID]; b != nil && b.Verdict != analysis.Skipped && b.Verdict != analysis.Error {
			e = NewEntry(b, baseRaw[b.ID], b.Fingerprint)
		}
		out[c.ID] = Compare(c, curRaw[c.ID], e, o)
	}
	return out
}

// CompareDirs compares the results directory cur with the results
// directory base: it summarises both from their samples (for the raw
// values), takes case metrics and verdicts from summary.json where present,
// sets each case's fingerprint (manifest overlaid with the case's), appends
// the regression checks to cur's cases and rolls the verdicts up. It
// returns cur's summary.
func CompareDirs(base, cur string, o CompareOptions) (*analysis.Summary, error) {
	bs, braw, err := summaryWithRaw(base)
	if err != nil {
		return nil, err
	}
	cs, craw, err := summaryWithRaw(cur)
	if err != nil {
		return nil, err
	}
	checks := CompareRuns(bs, cs, braw, craw, o)
	for i := range cs.Cases {
		cs.Cases[i].Checks = append(cs.Cases[i].Checks, checks[cs.Cases[i].ID]...)
	}
	cs.Rollup()
	return cs, nil
}

func summaryWithRaw(dir string) (*analysis.Summary, map[string]*analysis.Raw, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	fresh, raws, err := analysis.SummarizeDir(dir, analysis.Options{})
	if err != nil {
		return nil, nil, err
	}
	s, err := analysis.ReadSummary(dir)
	if errors.Is(err, fs.ErrNotExist) {
		s, err = fresh, nil
	}
	if err != nil {
		return nil, nil, err
	}
	for i := range s.Cases {
		s.Cases[i].Fingerprint = Fingerprint(m, &s.Cases[i])
	}
	return s, raws, nil
}
