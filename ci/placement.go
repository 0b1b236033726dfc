package ci

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm"
	"github.com/benchrun/benchrun/suites"
)

// ErrTimeLimit is the cancellation cause when SLURM's time-limit signal
// (USR1, --signal=B:USR1@grace) stops a run: load stops, unfinished cases
// are skipped, services stop, reports are written, and the run is an
// execution error.
var ErrTimeLimit = errors.New("SLURM time limit near (SIGUSR1)")

// ErrInterrupted is the cancellation cause of SIGINT and SIGTERM.
var ErrInterrupted = errors.New("interrupted")

// placement decides where services and load clients run: here
// (localPlacement) or on the nodes of a SLURM allocation
// (allocationPlacement).
type placement interface {
	// services returns what to start for sv: helper steps first (Ray),
	// the server last.
	services(sv *suites.Service, dir, exe string) ([]runner.Service, error)
	// node names the node a service runs on, "" when local.
	node(service string) string
	// samples is the case's samples path relative to the results dir.
	samples(caseID string) string
	// pre returns the argv of each of sv's pre steps, in order.
	pre(sv *suites.Service) [][]string
	// bound checks where sv's server step runs and which GPUs it got, once
	// it answers, and returns its binding record (zero when not checked).
	bound(sv *suites.Service) (slurm.Binding, error)
	// ready is called once every service answers.
	ready(dir string, urls map[string]string) error
	// counts returns the progress display's counters of a running case
	// (requests completed, failed); local counts what this process sends.
	counts(dir string, info *results.CaseInfo, local *runner.Progress) func() (completed, failed int64)
	runCase(ctx context.Context, e *env, s *suites.Suite, cs suites.Case, url, dir string, info *results.CaseInfo, prog *runner.Progress) error
}

var (
	_ placement = localPlacement{}
	_ placement = (*allocationPlacement)(nil)
)

// localPlacement runs services as child processes on loopback and the load
// in this process.
type localPlacement struct{}

func (localPlacement) services(sv *suites.Service, dir, exe string) ([]runner.Service, error) {
	port := 0
	if sv.URL == "" && sv.Port == 0 {
		p, err := suites.FreePort("127.0.0.1")
		if err != nil {
			return nil, err
		}
		port = p
	}
	log := filepath.Join(dir, results.LogsDir, sv.Name+".log")
	data := filepath.Join(dir, "data", sv.Name)
	return []runner.Service{sv.RunnerService(suites.ServiceOptions{Exe: exe, Port: port, LogPath: log, DataDir: data})}, nil
}

func (localPlacement) node(string) string                           { return "" }
func (localPlacement) bound(*suites.Service) (slurm.Binding, error) { return slurm.Binding{}, nil }
func (localPlacement) pre(sv *suites.Service) [][]string            { return shellSteps(sv.Pre) }
func (localPlacement) samples(id string) string                     { return results.SamplePath(id) }
func (localPlacement) ready(string, map[string]string) error        { return nil }

func (localPlacement) counts(_ string, _ *results.CaseInfo, local *runner.Progress) func() (int64, int64) {
	return func() (int64, int64) {
		snap := local.Snapshot()
		return snap.Completed, snap.Errors
	}
}

func (localPlacement) runCase(ctx context.Context, e *env, s *suites.Suite, cs suites.Case, url, dir string, info *results.CaseInfo, prog *runner.Progress) error {
	if isBatch(cs) {
		return runBatchCase(ctx, e, s, cs, dir, info)
	}
	return runCase(ctx, e, s, cs, url, dir, info, prog)
}

// allocationPlacement runs inside a SLURM allocation: each service as an
// srun step pinned to its nodes, the load as `benchrun worker` steps on the
// client nodes, each writing its own samples file.
type allocationPlacement struct {
	job   slurm.Job
	nodes []string // the allocation's, in SLURM's order
	steps []slurm.Step

	mu       sync.Mutex
	gpuOwner map[string]string // "node/device" → service, from the binding records
}

func newAllocationPlacement(s *suites.Suite, dir string) (*allocationPlacement, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	j, err := jobFor(s, dir, exe)
	if err != nil {
		return nil, err
	}
	nodes, err := slurm.AllocationNodes()
	if err != nil {
		return nil, err
	}
	steps, err := j.Steps(nodes)
	if err != nil {
		return nil, fmt.Errorf("placing roles on %s: %w", slurm.CompressHostlist(nodes), err)
	}
	if len(j.Components) > 0 {
		if err := os.MkdirAll(filepath.Join(dir, slurm.BindingDir), 0o755); err != nil {
			return nil, err
		}
	}
	return &allocationPlacement{job: j, nodes: nodes, steps: steps}, nil
}

func (a *allocationPlacement) services(sv *suites.Service, dir, exe string) ([]runner.Service, error) {
	if sv.URL != "" {
		return localPlacement{}.services(sv, dir, exe)
	}
	if len(a.job.Components) > 0 {
		// bound must read what this start's step writes, never a record
		// left in the directory by an earlier start.
		if err := os.Remove(a.job.BindingFile(sv.Name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	var out []runner.Service
	rs := sv.RunnerService(suites.ServiceOptions{Exe: exe})
	for _, st := range a.steps {
		if st.Service != sv.Name || st.Kind == slurm.StepPre {
			continue
		}
		log := filepath.Join(dir, results.LogsDir, fmt.Sprintf("%s-%s-%s.log", sv.Name, st.Kind, st.Node))
		svc := runner.Service{Name: sv.Name + "-" + st.Kind + "-" + st.Node, Kind: sv.Kind, Command: st.Argv, LogPath: log,
			Probe: runner.Probe{Timeout: rs.Probe.Timeout, Interval: rs.Probe.Interval}}
		if st.Kind == slurm.StepService {
			svc.Name = sv.Name
			svc.URL = st.URL
			svc.Probe.URL = st.URL + suites.DefaultReadinessPath(sv)
			svc.LogPath = filepath.Join(dir, results.LogsDir, fmt.Sprintf("%s-%s.log", sv.Name, st.Node))
		}
		out = append(out, svc)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("service %q has no step in the allocation", sv.Name)
	}
	return out, nil
}

func (a *allocationPlacement) node(service string) string {
	for _, st := range a.steps {
		if st.Service == service && st.Kind == slurm.StepService {
			return st.Node
		}
	}
	return ""
}

func (a *allocationPlacement) samples(id string) string {
	return filepath.Join(results.SamplesDir, results.CaseFileName(id))
}

func (a *allocationPlacement) ready(dir string, urls map[string]string) error {
	return writeEndpoints(dir, urls)
}

// counts counts the samples the case's workers have written so far: the
// load runs in their processes.
func (a *allocationPlacement) counts(dir string, info *results.CaseInfo, _ *runner.Progress) func() (int64, int64) {
	return func() (int64, int64) { return countSamples(filepath.Join(dir, info.Samples)) }
}

// workerLead is how far ahead of the launch the workers' shared start is:
// time for srun to start the steps and the workers to prepare their
// drivers, so that their schedules begin together at offset zero.
const workerLead = 2 * time.Second

// runCase launches one worker step per client and waits for all of them.
// Workers share the case start (--start-ns), workerLead ahead, so their
// schedules begin together and their sample offsets line up; clocks of
// the nodes are assumed synchronised (NTP/PTP, as on any cluster).
func (a *allocationPlacement) runCase(ctx context.Context, e *env, s *suites.Suite, cs suites.Case, url, dir string, info *results.CaseInfo, prog *runner.Progress) error {
	if isBatch(cs) {
		// One srun step with the case's MPI settings, started from here.
		return runBatchCase(ctx, e, s, cs, dir, info)
	}
	if cs.Benchmark.Kind == "chroma" {
		// Its drivers prepare, check and clean up their collection around
		// each repetition: one client, this process (on the allocation's
		// batch node), against the service's step; its samples file goes in
		// the case's samples directory.
		if err := os.MkdirAll(filepath.Join(dir, info.Samples), 0o755); err != nil {
			return err
		}
		info.Samples = filepath.Join(info.Samples, hostname()+".jsonl")
		return runCase(ctx, e, s, cs, url, dir, info, prog)
	}
	if err := os.MkdirAll(filepath.Join(dir, info.Samples), 0o755); err != nil {
		return err
	}
	// The workers build the same driver; building it here checks the
	// dataset once and records its hash.
	if _, hash, err := newDriver(s, cs, url); err != nil {
		return err
	} else {
		info.DatasetHash = hash
	}
	load := caseLoad(cs, nil)
	info.Load = &load
	info.Settings = caseSettings(cs)
	start := time.Now().Add(workerLead)
	info.Start = start.UTC()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, st := range a.steps {
		if st.Kind != slurm.StepClient {
			continue
		}
		argv := append(append([]string{}, st.Argv...), "--results", dir, "--case", cs.ID, "--start-ns", strconv.FormatInt(start.UnixNano(), 10))
		log := filepath.Join(dir, results.LogsDir, fmt.Sprintf("client-%s-%d.log", st.Node, st.Worker))
		lf, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = lf, lf
		// On cancellation (an early-stopped probe, a stopped run) the
		// worker stops through srun and leaves its sample count
		// (stopWorkerStep); WaitDelay is the last resort.
		cmd.Cancel = func() error { return stopWorkerStep(cmd.Process) }
		cmd.WaitDelay = 30 * time.Second
		e.log.Debug("worker step", "case", cs.ID, "node", st.Node, "worker", st.Worker, "argv", argv)
		if err := cmd.Start(); err != nil {
			lf.Close()
			return fmt.Errorf("case %s: starting worker on %s: %w", cs.ID, st.Node, err)
		}
		wg.Add(1)
		go func(st slurm.Step) {
			defer wg.Done()
			defer lf.Close()
			if err := cmd.Wait(); err != nil && ctx.Err() == nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("worker %d on %s: %w (see %s)", st.Worker, st.Node, err, log))
				mu.Unlock()
			}
		}(st)
	}
	stopWatch := e.watchWorkers(cs.ID, filepath.Join(dir, info.Samples))
	wg.Wait()
	stopWatch()
	if ctx.Err() == nil && len(errs) == 0 {
		errs = missingWorkers(a.steps, filepath.Join(dir, info.Samples))
	}
	recordWorkerCounts(e, info, filepath.Join(dir, info.Samples))
	if len(errs) > 0 {
		return fmt.Errorf("case %s: %w", cs.ID, errors.Join(errs...))
	}
	return nil
}

// recordWorkerCounts moves the sample counts the workers left beside
// their samples files in dir into the case's manifest entry. A worker that
// was killed left none: its file is read as it is.
func recordWorkerCounts(e *env, info *results.CaseInfo, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	for _, f := range files {
		n, err := results.ReadSampleCount(f)
		if err != nil {
			e.log.Warn("no sample count from the worker (killed?): its samples file is read unchecked", "file", f, "err", err)
			continue
		}
		info.RecordSamples(f, n)
		os.Remove(f + results.CountSuffix)
	}
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// countSamples counts the samples and the failed ones in the JSONL files
// under dir, for the progress display of remote workers.
func countSamples(dir string) (n, errs int64) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if strings.HasSuffix(dir, ".jsonl") {
		files = []string{dir} // a case this process ran (chroma)
	}
	for _, f := range files {
		fn, fe := countSampleFile(f)
		n, errs = n+fn, errs+fe
	}
	return n, errs
}

// countSampleFile counts the samples in one file, and those that failed.
func countSampleFile(f string) (n, errs int64) {
	results.ReadSampleFile(f, func(s *results.Sample) error {
		n++
		if !s.OK() {
			errs++
		}
		return nil
	})
	return n, errs
}
