package ci

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/benchrun/benchrun/report"
	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

// caseRun is the execute step here or inside a SLURM allocation: it
// starts the services where its placement puts them, runs the cases in
// order, stops the services, and records every step in the manifest.
type caseRun struct {
	e   *env
	s   *suites.Suite
	dir string
	pl  placement

	cases []suites.Case
	rec   *recorder
	// services holds every process started (servers, helpers), so that
	// finish stops them all on every path out of execute, a panic
	// included.
	services runner.Services
	// liveAddr is --metrics-listen: where live metrics are served
	// (serveLive), else the suite's monitoring.listen.
	liveAddr string
	procs    map[string][]*runner.Process // by service name: its helpers, then the server
	urls     map[string]string            // service name → the URL clients use
	prog     *report.Progress             // nil with --quiet
	sections *logSections                 // GitLab job-log sections, one per case
	state    runState
	// execErr is the execution error that failed the run (state
	// runFailed, or runStopped after it).
	execErr error
	// down holds the services that did not start, by name, with why:
	// their cases are errors, the other services' cases run.
	down map[string]error
	// failed holds the services that failed during a case (exited, or
	// stopped answering), by name, with why: their later cases are errors,
	// the other services' cases run. A failed service is not restarted.
	failed map[string]error
	// hard is done once a second stop signal asks for a hard stop
	// (hardStop): services are then killed without their stop grace.
	hard context.Context
}

// runState is where a run is between cases: it decides what happens to
// the next case.
type runState int

const (
	runGoing   runState = iota // the services are up: the next case runs
	runFailed                  // an execution error of the whole run (the placement failed): the next cases are errors
	runStopped                 // interrupted, or at the SLURM time limit: the next cases are skipped
)

// errTimeLimitStop is the execution error of a run stopped by the SLURM
// time limit.
var errTimeLimitStop = errors.New("stopped at the SLURM time limit: unfinished cases skipped, reports written")

// execute prepares the results directory, starts the services, runs the
// cases and stops the services; the manifest records each step.
//
// A panic in this goroutine (the placement, a case's setup, the recorder)
// is recovered by finish: the services are stopped, the manifest marked
// incomplete with the panic as its reason, and the run goes on to its
// reports as an execution error (exit 2) rather than crashing without
// them; the stack is logged. A panic in another goroutine (the load's)
// ends the process, and the reapers stop the services.
func (r *caseRun) execute(ctx context.Context) (x *execution, err error) {
	if err := prepareDir(r.s, r.dir); err != nil {
		return nil, withExitCode(err, ExitError)
	}
	r.cases = r.s.Cases()
	r.rec = newRecorder(r.e, r.s, r.dir, r.pl)
	r.e.log.Info("run started", "suite", r.s.Suite.Name, "dir", r.dir, "cases", len(r.cases))
	r.procs, r.urls, r.hard = map[string][]*runner.Process{}, map[string]string{}, hardStop(ctx)
	var mon *monitorRole
	// The monitor role stops after the services (finish), so that its
	// snapshot holds their end too.
	defer func() { mon.stop(r.e.log, r.dir, r.hard) }()
	defer func() { x = r.finish(ctx, x, recover()) }()
	defer r.serveLive(monitorLiveAddr(r.pl, r.liveAddr))()
	mon = r.startMonitor(ctx)
	r.startServices(ctx)
	if !r.e.json { // GitLab's section lines are not JSON
		r.sections = newLogSections(r.e.stderr)
		defer r.sections.end()
	}
	switch {
	case r.e.quiet:
	case r.e.json:
		r.prog = report.NewProgressLog(r.e.log, len(r.cases), r.e.progressEvery)
		defer r.prog.Stop()
	default:
		defer r.startProgress()()
	}
	r.runCases(ctx)
	return r.outcome(ctx), nil
}

// prepareDir creates the results directory of a run of s, with its
// samples and logs directories and the copy of the suite.
func prepareDir(s *suites.Suite, dir string) error {
	for _, sub := range []string{results.SamplesDir, results.LogsDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("results directory: %w", err)
		}
	}
	return copySuiteFile(s, dir)
}

// loadSuiteCopy loads the suite as run from results directory dir. Its
// relative dataset and trace paths resolve against the directory of the
// suite file the run was started with (the manifest's suite_file), as
// they did during the run, not against dir.
func loadSuiteCopy(dir string) (*suites.Suite, error) {
	path := filepath.Join(dir, suiteCopy)
	m, err := results.ReadManifest(dir)
	if err != nil || m.SuiteFile == "" {
		return suites.Load(path)
	}
	return suites.LoadCopy(path, filepath.Dir(m.SuiteFile))
}

// suiteCopy is the copy of the suite kept in the results directory, so
// `benchrun report DIR` knows the thresholds and settings the run had.
const suiteCopy = "suite.toml"

func copySuiteFile(s *suites.Suite, dir string) error {
	src, err := os.ReadFile(s.File)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, suiteCopy), src, 0o644); err != nil {
		return fmt.Errorf("results directory: %w", err)
	}
	return nil
}

// startServices starts every service a benchmark uses, in suite order,
// and tells the placement they are ready. A service that fails to start
// is recorded in r.down and the others still start: only its own cases
// become errors. A start cut short by a stop signal stops the run.
func (r *caseRun) startServices(ctx context.Context) {
	exe, _ := os.Executable()
	r.down = map[string]error{}
	for i := range r.s.Services {
		sv := &r.s.Services[i]
		if !usedService(r.s, sv.Name) {
			continue
		}
		stopped, err := r.startService(ctx, sv, exe)
		switch {
		case stopped:
			r.state = runStopped
			return
		case err != nil:
			r.e.log.Error("service did not start: its cases are errors, the other services' cases run", "service", sv.Name, "err", err)
			r.down[sv.Name] = err
		}
	}
	if err := r.pl.ready(r.dir, r.urls); err != nil {
		r.state, r.execErr = runFailed, err
	}
}

// downErr is the execution error of the services that did not start,
// nil when every one did.
func (r *caseRun) downErr() error {
	if len(r.down) == 0 {
		return nil
	}
	names := slices.Sorted(maps.Keys(r.down))
	return fmt.Errorf("%d service(s) did not start (%s): their cases are errors", len(names), strings.Join(names, ", "))
}

// startService starts sv's steps where the placement puts them (helpers
// such as a Ray head first, the server last) and waits until the server
// answers. stopped says the server's start was cut short by a stop signal.
func (r *caseRun) startService(ctx context.Context, sv *suites.Service, exe string) (stopped bool, err error) {
	specs, err := r.pl.services(sv, r.dir, exe)
	if err != nil {
		return false, fmt.Errorf("service %q: %w", sv.Name, err)
	}
	rs := specs[len(specs)-1]
	info := results.ServiceInfo{Name: sv.Name, Kind: sv.Kind, URL: rs.URL, External: rs.External, Node: r.pl.node(sv.Name)}
	if !rs.External {
		info.Log, _ = filepath.Rel(r.dir, rs.LogPath)
	}
	r.rec.service(info)
	if err := r.runPre(ctx, sv); err != nil {
		return ctx.Err() != nil, err
	}
	for _, helper := range specs[:len(specs)-1] {
		r.e.log.Info("starting service helper", "service", sv.Name, "step", helper.Name)
		helper.Log = r.e.log // an exit once ready is logged at once
		p, err := runner.StartService(ctx, helper)
		if err != nil {
			return false, err
		}
		r.services.Add(p)
		r.procs[sv.Name] = append(r.procs[sv.Name], p)
	}
	if err := installed(sv, rs); err != nil {
		return false, err
	}
	r.e.log.Info("starting service", "service", sv.Name, "url", rs.URL, "external", rs.External)
	rs.Log = r.e.log
	p, err := runner.StartService(ctx, rs)
	if err != nil {
		return ctx.Err() != nil, err
	}
	r.services.Add(p)
	r.procs[sv.Name] = append(r.procs[sv.Name], p)
	b, err := r.pl.bound(sv)
	if err != nil {
		return false, fmt.Errorf("service %q: %w", sv.Name, err)
	}
	r.rec.serviceDetail(sv.Name, func(si *results.ServiceInfo) { si.GPUs, si.StepGPUs = b.CUDAVisibleDevices, stepGPUs(b) })
	r.urls[sv.Name] = rs.URL
	r.rec.serverVersion(sv.Name, serverVersion(ctx, sv.Kind, rs.URL))
	r.e.log.Info("service ready", "service", sv.Name)
	return false, nil
}

// runCases moves every case out of pending, in order: run it while the
// run goes on, skip it once the run was stopped, fail it with the
// execution error once the run failed, and fail it with its service's
// error when that service did not start or failed in an earlier case.
func (r *caseRun) runCases(ctx context.Context) {
	i := -1 // the manifest's index: search benchmarks add their probes as they run
	for _, cs := range r.cases {
		if ctx.Err() != nil {
			r.state = runStopped
		}
		down := r.down[cs.Benchmark.Service]
		if down == nil {
			down = r.failed[cs.Benchmark.Service]
		}
		if isSearch(cs) {
			if r.state == runGoing && down == nil {
				r.runSearch(ctx, cs)
			}
			continue
		}
		i++
		switch {
		case r.state == runStopped:
			r.rec.notRun(i, results.StatusSkipped, "")
		case r.state == runFailed:
			r.rec.notRun(i, results.StatusError, r.execErr.Error())
		case down != nil:
			r.rec.notRun(i, results.StatusError, "not run: "+down.Error())
		default:
			r.runOne(ctx, i, cs)
		}
	}
}

// runOne runs the i-th case under the watch of its service (watchCase):
// running, then done or error. A case whose service failed during it is
// an error naming the service, with the samples it wrote before.
func (r *caseRun) runOne(ctx context.Context, i int, cs suites.Case) {
	r.rec.start(i)
	info := r.rec.caseInfo(i)
	var counters runner.Progress
	r.sections.start(fmt.Sprintf("benchrun: case %d/%d %s", i+1, len(r.cases), cs.ID))
	switch {
	case r.prog != nil && isBatch(cs):
		r.prog.StartCaseOf(cs.ID, "runs", batchCounts(r.dir, info))
	case r.prog != nil:
		r.prog.StartCaseDetail(cs.ID, "requests", r.pl.counts(r.dir, info, &counters), progressDetail(cs, &counters))
	}
	name := cs.Benchmark.Service
	stopScrape, queried := r.scrapeCase(ctx, cs, info), r.queryCase(ctx, cs, info)
	if m := r.e.live; m != nil {
		m.StartCase(cs.ID, &counters)
		defer m.EndCase(cs.ID)
	}
	cctx, release := r.watchCase(ctx, name, &counters)
	err := r.pl.runCase(cctx, r.e, r.s, cs, r.urls[name], r.dir, info, &counters)
	dead := serviceFailure(ctx, cctx)
	release()
	ended := time.Now()
	stopScrape()
	queried(ended)
	status, why, stop := caseEnd(ctx, err, ended.Sub(info.Start))
	if dead != nil {
		status, why = results.StatusError, fmt.Sprintf("%v; the case stopped after %s, samples so far kept", dead, ended.Sub(info.Start).Round(time.Millisecond))
		r.serviceFailed(name, cs.ID, dead)
	}
	switch {
	case stop:
		r.state = runStopped
	case err != nil:
		r.e.log.Error("case failed", "case", cs.ID, "err", err)
	}
	r.sections.end() // the case's end line stays visible when folded
	if r.prog != nil {
		r.prog.EndCase(string(status))
	}
	r.rec.end(i, ended, status, why)
}

// caseEnd is the state a running case ends in, given the run's context
// and runCase's error after it ran for ran: error at the SLURM time limit,
// done when the user stopped it (its samples so far count), error when it
// failed, else done. stop says the run stops after it.
func caseEnd(ctx context.Context, err error, ran time.Duration) (status results.Status, why string, stop bool) {
	switch {
	case errors.Is(context.Cause(ctx), errEarlyStop):
		return results.StatusDone, "", false // a search probe stopped early (runSearch)
	case errors.Is(context.Cause(ctx), ErrTimeLimit):
		return results.StatusError, fmt.Sprintf("stopped by the SLURM time limit (USR1) after %s; samples so far kept", ran.Round(time.Second)), true
	case ctx.Err() != nil:
		return results.StatusDone, results.Interrupted, true
	case err != nil:
		return results.StatusError, err.Error(), false
	}
	return results.StatusDone, "", false
}

// outcome records in the manifest why the run is incomplete, if it is,
// and tells the pipeline how the execution went.
func (r *caseRun) outcome(ctx context.Context) *execution {
	x := &execution{err: errors.Join(r.execErr, r.downErr(), r.failedErr())}
	switch {
	case r.state == runStopped && errors.Is(context.Cause(ctx), ErrTimeLimit):
		r.rec.incomplete("time limit: stopped on SIGUSR1")
		if x.err == nil {
			x.err = errTimeLimitStop
		}
	case r.state == runStopped:
		r.rec.incomplete(results.Interrupted)
		x.interrupted = true
	case r.state == runFailed:
		r.rec.incomplete(r.execErr.Error())
	}
	return x
}

// reasonHardStop is the manifest's reason of a run stopped by a second
// stop signal.
const reasonHardStop = "interrupted twice: in-flight requests canceled, services killed without their stop grace"

// finish ends the execute step on every path, x being what it told (nil
// after a panic, which is recovered: panicked records it). It stops every
// service started, at once and with SIGKILL of their process groups once a
// second stop signal came (the manifest then says so, and the run exits
// 130 as interrupted), and records the end of the run.
func (r *caseRun) finish(ctx context.Context, x *execution, recovered any) *execution {
	if recovered != nil {
		x = r.panicked(recovered)
	}
	stopCtx, cancel := context.WithTimeout(r.hard, 30*time.Second)
	defer cancel()
	if err := r.services.StopAll(stopCtx); err != nil {
		r.e.log.Warn("stopping services", "err", err)
	}
	if r.hard.Err() != nil && !errors.Is(context.Cause(ctx), ErrTimeLimit) {
		r.e.log.Warn("interrupted twice: services killed without their stop grace; reports are written from the samples on disk")
		r.rec.incomplete(reasonHardStop)
		x.interrupted = true
	}
	r.rec.close()
	return x
}

// panicked records a panic of the execute step, v: its stack in the log,
// the running case an error (its samples so far kept), the cases not
// reached errors, the run incomplete with the panic as its reason. The run
// is then an execution error whose reports are written from the samples
// on disk.
func (r *caseRun) panicked(v any) *execution {
	why := fmt.Sprintf("benchrun panicked: %v", v)
	r.e.log.Error("panic while running the suite: stopping the services, writing reports from what was measured",
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	r.rec.abort(why)
	return &execution{err: fmt.Errorf("%s (a bug: please report it with the log above); services stopped, reports written from the samples so far", why)}
}

func usedService(s *suites.Suite, name string) bool {
	for _, b := range s.Benchmarks {
		if b.Service == name {
			return true
		}
	}
	return false
}

// installHints say how to install the program a service kind starts by
// default.
var installHints = map[string]string{
	"chroma": "npm install -g chromadb@3.0.11 chromadb-js-bindings-linux-x64-gnu@1.0.5 (as root; these pinned versions run on Debian 12)",
}

// installed checks that the program a started service runs exists, and
// says how to install it when its kind has a hint.
func installed(sv *suites.Service, rs runner.Service) error {
	if rs.External || len(rs.Command) == 0 || len(sv.Command) > 0 {
		return nil
	}
	if _, err := exec.LookPath(rs.Command[0]); err != nil {
		if hint, ok := installHints[sv.Kind]; ok {
			return fmt.Errorf("service %q: %s is not installed; install it with: %s", sv.Name, rs.Command[0], hint)
		}
	}
	return nil
}

// startProgress starts the progress display of a run and returns what
// stops it. On a terminal the display draws on stderr itself and every
// other write to stderr (log records) goes through it, printed above it,
// so that its redraw never overwrites them.
func (r *caseRun) startProgress() (stop func()) {
	if !r.e.ttyProgress {
		r.prog = report.NewProgress(r.e.stderr, len(r.cases), report.ProgressOptions{Interval: r.e.progressEvery})
		return r.prog.Stop
	}
	r.prog = report.NewProgress(r.e.tty, len(r.cases), report.ProgressOptions{TTY: true, Width: r.e.ttyWidth})
	restore := func() {}
	if lw, ok := r.e.stderr.(*lineWriter); ok {
		restore = lw.divertTo(r.prog)
	}
	return func() { r.prog.Stop(); restore() }
}

// progressDetail is what the terminal shows of a case beyond its counts:
// its planned length when time bounds it (warm-up and duration of every
// repetition), and the live TTFT of the load this process drives (a
// live approximation, runner.Progress.TTFTQuantile; the workers of a
// SLURM allocation count elsewhere, so there it stays empty).
func progressDetail(cs suites.Case, c *runner.Progress) report.CaseDetail {
	d := report.CaseDetail{TTFT: func() (p50, p99 time.Duration) { return c.TTFTQuantile(0.5), c.TTFTQuantile(0.99) }}
	if w, ok := cs.Workload.(*suites.LLMWorkload); ok && w.Requests == 0 && w.Duration > 0 {
		d.Duration = time.Duration(max(cs.Benchmark.Repetitions, 1)) * (w.Warmup.D() + w.Duration.D())
	}
	return d
}
