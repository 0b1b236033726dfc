package ci

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/baselines"
	"github.com/benchrun/benchrun/report"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm"
	"github.com/benchrun/benchrun/suites"
)

// pipeline is benchrun's one path from a suite to an exit code, one method
// per step:
//
//	validate → plan → execute → analyse → compare → render → exit code
//
// `benchrun suite` runs every step; `benchrun report DIR` starts at
// analyse on a run already in DIR; `benchrun compare [BASE] DIR` does
// too, and its render step prints the table only (tableOnly). The steps after execute read only
// files of the results directory, so a run re-renders without re-running,
// and the verdict is decided in one place, judge.
type pipeline struct {
	e   *env
	dir string // the results directory; set by plan, or given
	// baselines is --baselines: "" means the suite's, else baselines/.
	baselines string
	// baseDir, when set, is a results directory compared with as if it
	// were the baseline (`benchrun compare BASE DIR`).
	baseDir string
	// ignoreFingerprint is --ignore-fingerprint, added to the suite's
	// ignore_fingerprint.
	ignoreFingerprint []string
	// tableOnly renders the terminal table only, writing nothing
	// (`benchrun compare`).
	tableOnly bool
	// metricsListen is --metrics-listen: serve live metrics there during
	// the run (caseRun.serveLive).
	metricsListen string
	// push: push the summary and run status to the suite's Pushgateway
	// once the run is judged (`benchrun suite` outside a SLURM job).
	push bool
	// history is --history: the directory of the suites' histories; ""
	// means the history directory inside the baselines directory.
	history string
	// recordRun: append the judged run to its suite's history
	// (`benchrun suite`, on the side that is not the job's own run).
	recordRun bool
	// trendRuns is --trend-runs: the runs of the suite's history the
	// trend charts show (addTrends); 0 draws none.
	trendRuns int
}

// execution is what the execute step tells beyond the files it wrote.
type execution struct {
	interrupted bool  // the user stopped the run (SIGINT, SIGTERM): exit 130
	err         error // an execution error (a service did not start, the SLURM time limit, a failed job): exit 2
}

// executor runs the cases of a planned suite, leaving the samples and the
// manifest in the results directory. It returns an error only when
// nothing could be recorded (the directory is not writable, the job could
// not be submitted).
type executor interface {
	execute(ctx context.Context) (*execution, error)
}

// validate loads the suite at path; its problems are printed one per
// line (with --log-format json, one error record holding them) and make
// exit code 3.
func (p *pipeline) validate(path string) (*suites.Suite, error) {
	if !p.e.json {
		return loadSuite(p.e.stderr, path)
	}
	var problems strings.Builder
	s, err := loadSuite(&problems, path)
	if err != nil {
		p.e.log.Error("invalid suite", "path", path, "problems", strings.TrimSpace(problems.String()))
	}
	return s, err
}

// planFlags are the suite command's flags that decide where it runs.
type planFlags struct {
	output    string // -o, or --results inside the job
	local     bool   // run here even with a [slurm] section
	insideJob bool   // the job script's own run
}

// plan picks the results directory and where the run executes: here
// (no [slurm] section, or --local), on the nodes of the SLURM allocation
// it is in, or as a job submitted from here. Before anything starts it
// checks the suite's baselines (checkBaselines); the job's own run does
// not, its submitter did.
func (p *pipeline) plan(s *suites.Suite, f planFlags) (executor, error) {
	p.dir = resultsDir(f.output, s, time.Now())
	if exists(filepath.Join(p.dir, results.ManifestFile)) {
		// Appending to another run's samples would mix two runs.
		return nil, withExitCode(fmt.Errorf("results directory %s already holds a run; choose another -o or remove it", p.dir), ExitUsage)
	}
	if !f.insideJob {
		if err := p.checkBaselines(s); err != nil {
			return nil, err
		}
	}
	switch {
	case s.Slurm == nil || f.local:
		return &caseRun{e: p.e, s: s, dir: p.dir, pl: localPlacement{}, liveAddr: p.metricsListen}, nil
	case f.insideJob || slurm.InAllocation():
		p.e.log = p.e.log.With("job_id", os.Getenv("SLURM_JOB_ID"), "node", hostname())
		p.e.insideJob = f.insideJob
		ap, err := newAllocationPlacement(s, p.dir)
		if err != nil {
			return nil, withExitCode(err, ExitError)
		}
		return &caseRun{e: p.e, s: s, dir: p.dir, pl: ap, liveAddr: p.metricsListen}, nil
	}
	return &jobSubmission{e: p.e, s: s, dir: p.dir}, nil
}

// resultsDir picks the results directory: -o, else the suite's output,
// else results/<suite>/<UTC timestamp>.
func resultsDir(flag string, s *suites.Suite, now time.Time) string {
	switch {
	case flag != "":
		return flag
	case s.Suite.Output != "":
		return s.Path(s.Suite.Output)
	}
	return filepath.Join("results", s.Suite.Name, now.UTC().Format("20060102T150405Z"))
}

// conclude runs the steps after execute: analyse → compare → render →
// exit code. x is what execute told; nil for a run read back from its
// directory (`benchrun report`), which was interrupted if its manifest
// says so.
//
// A run that cannot be compared (its baseline file became unreadable or
// corrupt after the run started) is still reported: without comparison,
// the reason on every case that would have been compared, exit 2.
func (p *pipeline) conclude(x *execution) error {
	r, err := p.analyse()
	if err != nil {
		return withExitCode(err, ExitError)
	}
	if x == nil {
		x = &execution{interrupted: r.stopped()}
	}
	if err := p.compare(r); err != nil {
		p.notCompared(r, x, err)
	}
	judge(r, x)
	p.addTrends(r)
	if err := p.render(r); err != nil {
		return withExitCode(err, ExitError)
	}
	if p.recordRun && !p.e.insideJob && p.keepsHistory(r) {
		if err := p.recordHistory(r); err != nil {
			p.e.log.Error("history", "err", err) // the run's verdict stands; the history misses a night
		}
	}
	code := exitCode(r.sum, x)
	if p.push && !p.e.insideJob {
		p.pushResults(r, code)
	}
	return code
}

// run is a results directory read back: its manifest, the suite as run
// (DIR/suite.toml) and its cases by id, the summary of the samples and
// the raw values the significance tests need.
type run struct {
	m     *results.Manifest
	s     *suites.Suite
	cases map[string]suites.Case
	sum   *analysis.Summary
	raws  map[string]*analysis.Raw
}

// readRun summarises the results directory dir from its samples and sets
// each case's fingerprint.
func readRun(dir string) (*run, error) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("%s is not a results directory: %w", dir, err)
	}
	s, err := loadSuiteCopy(dir)
	if err != nil {
		var ps suites.Problems
		if errors.As(err, &ps) {
			return nil, fmt.Errorf("%s: the suite copy no longer validates:\n%w", dir, err)
		}
		return nil, err
	}
	sum, raws, err := analysis.SummarizeDir(dir, analysis.Options{})
	if err != nil {
		return nil, err
	}
	r := &run{m: m, s: s, cases: map[string]suites.Case{}, sum: sum, raws: raws}
	for _, cs := range s.Cases() {
		r.cases[cs.ID] = cs
	}
	for i := range sum.Cases {
		c := &sum.Cases[i]
		if cs, ok := r.cases[c.ID]; ok {
			c.Fingerprint = caseFingerprint(m.Fingerprint, s, cs)
			if v := caseSetting(m, c.ID, "server_version"); v != "" {
				c.Fingerprint["server_version"] = v // what the server said it runs (Chroma's /api/v2/version)
			}
		}
	}
	return r, nil
}

// stopped reports whether the user stopped the run, once or twice (exit
// 130, as `benchrun suite` gave).
func (r *run) stopped() bool {
	return r.m.Incomplete && (r.m.Reason == results.Interrupted || r.m.Reason == reasonHardStop)
}

// analyse reads p.dir back and checks the thresholds of the suite as run.
// A run killed before it could end (a case still running, no end time) is
// judged as cut short.
func (p *pipeline) analyse() (*run, error) {
	r, err := readRun(p.dir)
	if err != nil {
		return nil, err
	}
	if r.m.Settle() {
		p.e.log.Warn("the run did not finish", "dir", p.dir, "why", r.m.Reason)
	}
	for i := range r.sum.Cases {
		c := &r.sum.Cases[i]
		cs, ok := r.cases[c.ID]
		if !ok || c.Verdict == analysis.Skipped || len(c.Errors) > 0 {
			continue
		}
		ts, _ := analysis.ParseThresholds(cs.Benchmark.Thresholds) // validated at load
		analysis.CheckThresholds(c, ts)
	}
	capacityCases(r)
	r.sum.Incomplete = r.m.Incomplete
	return r, nil
}

// compare adds the regression checks, through baselines.CompareRun: against
// the stored baselines of the suite, or against p.baseDir.
func (p *pipeline) compare(r *run) error {
	base, err := p.baseline(r)
	if err != nil {
		return err
	}
	baselines.CompareRun(r.sum, r.raws, base, func(c *analysis.Case) (baselines.CompareOptions, bool) {
		cs, ok := r.cases[c.ID]
		if !ok || cs.Benchmark.Regression.Disable {
			return baselines.CompareOptions{}, false
		}
		o := compareOptions(r.s, cs.Benchmark)
		if isSearch(cs) {
			o.Metrics = []string{analysis.MetricCapacity} // a search is compared on its capacity; its probes are not compared
		}
		o.IgnoreFingerprint = append(slices.Clone(r.s.Suite.IgnoreFingerprint), p.ignoreFingerprint...)
		return o, true
	})
	if p.baseDir != "" {
		r.sum.Baseline.Run = p.baseDir
	} else {
		r.sum.Baseline.File = baselines.Path(baselinesDir(p.baselines, r.s, r.m.SuiteFile), r.s.Suite.Name)
	}
	return nil
}

// notCompared records that r could not be compared with its baselines
// because of err: a warning on every case that would have been compared
// (so every report shows why there is no regression check) and an
// execution error, so the run cannot pass.
func (p *pipeline) notCompared(r *run, x *execution, err error) {
	err = fmt.Errorf("not compared with the baselines: %w", err)
	p.e.log.Error("comparison", "err", err)
	for i := range r.sum.Cases {
		c := &r.sum.Cases[i]
		if cs, ok := r.cases[c.ID]; ok && cs.Benchmark.Regression.Disable || c.Verdict == analysis.Skipped {
			continue
		}
		c.Warnings = append(c.Warnings, err.Error())
	}
	x.err = errors.Join(x.err, err)
}

// baseline returns what r is compared with: the run in p.baseDir, or the
// stored baselines (nil before the first promote, when the directory is
// the suite's or the default one).
func (p *pipeline) baseline(r *run) (*baselines.File, error) {
	if p.baseDir != "" {
		b, err := readRun(p.baseDir)
		if err != nil {
			return nil, err
		}
		return baselines.FromRun(b.sum, b.raws), nil
	}
	f, missing, err := p.storedBaselines(r.s, r.m.SuiteFile)
	if missing != "" {
		// A first run, before any promote: every case is "no baseline",
		// and said so.
		p.e.log.Warn("no baselines directory: no case is compared; `benchrun baseline promote` creates it", "dir", missing)
	}
	return f, err
}

// checkBaselines is the plan step's check of the baselines a run of s
// will be compared with, before the first service starts: a --baselines
// directory that does not exist, or a baseline file of the suite that is
// unreadable or corrupt (file:line:col), is a usage error (exit 3), not a
// surprise after the whole load has run. Only this suite's file is read.
func (p *pipeline) checkBaselines(s *suites.Suite) error {
	_, _, err := p.storedBaselines(s, s.File)
	return withExitCode(err, ExitUsage)
}

// storedBaselines loads the baseline file of s from its baselines
// directory (baselinesDir; suiteFile is where the suite lives). A
// directory that does not exist is an error when named with --baselines;
// else it is a first run: no file, no error, and missing names the
// directory.
func (p *pipeline) storedBaselines(s *suites.Suite, suiteFile string) (f *baselines.File, missing string, err error) {
	bdir := baselinesDir(p.baselines, s, suiteFile)
	f, err = baselines.Load(bdir, s.Suite.Name)
	switch {
	case errors.Is(err, fs.ErrNotExist) && p.baselines == "":
		return nil, bdir, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", fmt.Errorf("--baselines %s: the directory does not exist", p.baselines)
	case err != nil:
		return nil, "", err // names the file or directory
	}
	return f, "", nil
}

// compareOptions maps a benchmark's regression settings onto baselines'.
func compareOptions(s *suites.Suite, b *suites.Benchmark) baselines.CompareOptions {
	o := baselines.CompareOptions{Metrics: b.Regression.Metrics, Tolerances: map[string]float64{}, PerRun: b.Batch()}
	if len(o.Metrics) == 0 {
		o.Metrics = b.DefaultRegressionMetrics() // nil: baselines' defaults
	}
	// A tolerance written as 0 is 0 (every significant change counts);
	// only one left out is the default.
	if s.Suite.Tolerance != nil {
		o.Tolerances["*"] = float64(*s.Suite.Tolerance)
	}
	if b.Regression.Tolerance != nil {
		o.Tolerances["*"] = float64(*b.Regression.Tolerance)
	}
	for k, v := range b.Regression.Tolerances {
		o.Tolerances[k] = float64(v)
	}
	return o
}

// baselinesDir picks the baselines directory: --baselines, else the
// suite's (relative to the suite file as run), else baselines/.
func baselinesDir(flag string, s *suites.Suite, suiteFile string) string {
	switch {
	case flag != "":
		return flag
	case s != nil && s.Suite.Baselines != "":
		if filepath.IsAbs(s.Suite.Baselines) {
			return s.Suite.Baselines
		}
		// The copy in the results directory is not where the suite lives:
		// resolve against the original file's directory.
		return filepath.Join(filepath.Dir(suiteFile), s.Suite.Baselines)
	}
	return "baselines"
}

// judge decides the verdicts, here and nowhere else. Each case's follows
// from its errors, checks and saturation labels (analysis rollup), a
// label doing what its benchmark's saturation key says (warn, fail or
// error), and a share of connect and client failures above its
// benchmark's max_infrastructure_errors making it an execution error; the
// run's is an error as well when execute reported an execution error,
// when the run was cut short by anything but the user (time limit, a lost
// node, a service that died, a killed process), or when no case ran and
// the user did not stop it (nothing was measured, so nothing can have
// passed).
func judge(r *run, x *execution) {
	for i := range r.sum.Cases {
		c := &r.sum.Cases[i]
		effect, limit := analysis.EffectWarn, analysis.DefaultInfrastructureLimit
		if cs, ok := r.cases[c.ID]; ok {
			effect = cs.Benchmark.Saturation
			if l := cs.Benchmark.MaxInfrastructureErrors; l != nil {
				limit = float64(*l)
			}
		}
		c.ApplyLabelEffect(effect)
		c.ApplyInfrastructureLimit(limit)
	}
	r.sum.Rollup()
	stopped := r.stopped()
	if x.err != nil || r.m.Incomplete && !stopped || noCaseRan(r.sum) && !stopped {
		r.sum.Verdict = analysis.Error
	}
}

// noCaseRan reports whether every case of sum was skipped.
func noCaseRan(sum *analysis.Summary) bool {
	for _, c := range sum.Cases {
		if c.Verdict != analysis.Skipped {
			return false
		}
	}
	return true
}

// render writes summary.json and every report into p.dir and prints the
// terminal table (inside a job, only the verdict line: the submit side
// prints the table) and where the reports are. With tableOnly it prints
// the table and writes nothing.
func (p *pipeline) render(r *run) error {
	sum := r.sum
	if p.tableOnly {
		return report.WriteTerminal(p.e.stdout, &report.Input{Dir: p.dir, Manifest: r.m, Summary: sum}, p.e.color)
	}
	if err := analysis.WriteSummary(p.dir, sum); err != nil {
		return err
	}
	in, err := report.Load(p.dir)
	if err != nil {
		return err
	}
	if err := report.WriteAll(in); err != nil {
		return err
	}
	if p.e.insideJob {
		fmt.Fprintf(p.e.stdout, "%s\n", report.VerdictLine(sum))
	} else if err := report.WriteTerminal(p.e.stdout, in, p.e.color); err != nil {
		return err
	}
	fmt.Fprintf(p.e.stdout, "reports: %s\n", filepath.Join(p.dir, report.HTMLFile))
	return nil
}

// exitCode maps the judged run to the CLI's error, and so its exit code:
// the execution error, else interrupted, else the verdict.
func exitCode(sum *analysis.Summary, x *execution) error {
	switch {
	case x.err != nil:
		return withExitCode(x.err, ExitError)
	case x.interrupted:
		return &exitError{code: ExitInterrupted, err: errors.New("interrupted: reports written from the samples so far and marked incomplete")}
	case sum.Verdict == analysis.Error:
		return errSilent{ExitError}
	case sum.Verdict == analysis.Fail:
		return errSilent{ExitFailed}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// caseSetting is the setting key of case id in manifest m, "" when none.
func caseSetting(m *results.Manifest, id, key string) string {
	for _, c := range m.Cases {
		if c.ID == id {
			return c.Settings[key]
		}
	}
	return ""
}
