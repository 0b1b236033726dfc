package baselines

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// PromoteOptions tune Promote.
type PromoteOptions struct {
	// Force promotes a run whose verdict is fail or error, or that is
	// incomplete. Cases with verdict error or skipped are never promoted.
	Force bool
	// Metrics gives the metric.stat list a benchmark is compared on, for
	// the headline of each change; nil, or nil for a benchmark, means
	// DefaultMetrics.
	Metrics func(benchmark string) []string
	// Now is the promotion time recorded in each entry's Run.Promoted;
	// zero means time.Now.
	Now time.Time
}

// Action is what Promote did to one case's entry.
type Action string

// Actions of a Change.
const (
	Added       Action = "added"
	Updated     Action = "updated"
	Unchanged   Action = "unchanged"
	NotPromoted Action = "skipped" // the case errored or did not run
)

// Change is what Promote did to one case's entry.
type Change struct {
	Benchmark string
	Case      string
	Action    Action
	Headline  []Headline // old → new of the metrics the case is compared on (PromoteOptions.Metrics) that it has
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
	if m.CI != nil {
		run.CIJobURL, run.CommitSHA, run.Ref = m.CI.JobURL, m.CI.CommitSHA, m.CI.Ref
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
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
		if why := invalidIO500(c); why != "" && !o.Force {
			ch.Action, ch.Reason = NotPromoted, why
			changes = append(changes, ch)
			continue
		}
		info, ok := infos[c.ID]
		_, derived := c.Metrics[analysis.MetricCapacity]
		var raw *analysis.Raw
		switch {
		case !ok && derived:
			// A capacity case (analysis.CapacityCase) has no samples of its
			// own: summary.json made it from its probes' samples.
		case !ok:
			return nil, fmt.Errorf("promote %s: case %s is in summary.json but not in manifest.json", resultsDir, c.ID)
		default:
			var why string
			raw, why, err = promoteRaw(resultsDir, c, info)
			if err != nil {
				return nil, err
			}
			if why != "" {
				ch.Action, ch.Reason = NotPromoted, why
				changes = append(changes, ch)
				continue
			}
		}
		e := NewEntry(c, raw, Fingerprint(m, c))
		e.Run = run
		var specs []string
		if o.Metrics != nil {
			specs = o.Metrics(c.Benchmark)
		}
		e.Compared = specs
		old := f.Entry(c.Benchmark, c.ID)
		switch {
		case old == nil:
			ch.Action = Added
		case sameRun(old, e):
			ch.Action = Unchanged
			e.Run.Promoted = old.Run.Promoted // the same run promoted again keeps its date
		default:
			ch.Action = Updated
		}
		if e.Run.Promoted == "" {
			e.Run.Promoted = now.UTC().Format(time.RFC3339)
		}
		ch.Headline = headlines(old, e, specs)
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

// invalidIO500 says why case c, an IO500 case with a run that IO500
// marked invalid, is no baseline ("" when it is one): with the suite's
// invalid = "warn" such a run passes, and as a baseline it would make a
// valid run's change look like a regression or hide a real one. The
// metric "valid" is 1 for each valid run, 0 for an invalid one.
func invalidIO500(c *analysis.Case) string {
	v, ok := c.Metrics["valid"]
	if c.Kind != "io500" || !ok || v.Min >= 1 {
		return ""
	}
	which := "some of its runs"
	if v.Max < 1 {
		which = "its runs"
	}
	return "IO500 marked " + which + " invalid (valid.mean " + strconv.FormatFloat(v.Mean, 'g', 3, 64) + "): not a baseline; use --force to promote it anyway"
}

// sameRun reports whether entries a and b are equal apart from when they
// were promoted and the metrics the suite then compared.
func sameRun(a, b *Entry) bool {
	x, y := *a, *b
	x.Run.Promoted, y.Run.Promoted = "", ""
	x.Compared, y.Compared = nil, nil
	return sameJSON(&x, &y)
}

func sameJSON(a, b *Entry) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// headlines are the old → new values of specs (metric.stat; nil:
// DefaultMetrics) that entry e has.
func headlines(old, e *Entry, specs []string) []Headline {
	if len(specs) == 0 {
		specs = DefaultMetrics()
	}
	var hs []Headline
	for _, spec := range specs {
		name, stat, m, v, ok := LookupSpec(e.Metrics, spec)
		if !ok {
			continue
		}
		h := Headline{Name: name + "." + stat, Unit: m.Unit, New: v}
		if old != nil {
			if om, ok := old.Metrics[name]; ok {
				h.Old, h.HasOld = om.Stat(stat)
			}
		}
		hs = append(hs, h)
	}
	return hs
}

// promoteRaw re-reads case c's samples for its baseline entry; why is set
// when they no longer hold what the summary was made from.
func promoteRaw(resultsDir string, c *analysis.Case, info results.CaseInfo) (raw *analysis.Raw, why string, err error) {
	files, err := analysis.CaseSampleFiles(resultsDir, info)
	if err != nil {
		return nil, "", err
	}
	now, raw, err := analysis.SummarizeCase(info, files, analysis.Options{})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("promote %s: case %s: samples missing, a baseline needs them: %w", resultsDir, c.ID, err)
		}
		return nil, "", fmt.Errorf("promote %s: %w", resultsDir, err)
	}
	if len(now.Errors) > 0 {
		// The samples no longer hold what the summary was made from
		// (damaged since): a baseline from them would be wrong.
		return nil, now.Errors[0], nil
	}
	return raw, "", nil
}
