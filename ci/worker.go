package ci

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

// workerCommand is what a client node runs inside an allocation: its share
// of one case's load, written to its own samples file. The inside-job run
// launches it with srun; people do not call it.
func workerCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:   "worker",
		Hidden: true,
		Usage:  "run one client's share of a case (launched by the inside-job run)",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "worker", Usage: "this worker's index"},
			&cli.IntFlag{Name: "workers", Value: 1, Usage: "number of workers"},
			&cli.StringFlag{Name: "results", Required: true, Usage: "results directory"},
			&cli.StringFlag{Name: "case", Required: true, Usage: "case id"},
			&cli.Int64Flag{Name: "start-ns", Required: true, Usage: "case start, Unix nanoseconds: offset zero of every sample"},
			&cli.StringFlag{Name: "metrics-listen", Usage: "serve this worker's live metrics at http://`ADDR`/metrics (the monitor role)"},
		},
		Action: func(c *cli.Context) error {
			ctx, stopSignal := signal.NotifyContext(c.Context, workerStopSignal) // as SIGTERM: stop, count
			defer stopSignal()
			e := newEnv(c, stdout, stderr)
			dir := c.String("results")
			node := workerNode()
			e.log = e.log.With("job_id", os.Getenv("SLURM_JOB_ID"), "node", node, "case", c.String("case"), "worker", c.Int("worker"))
			s, cs, err := workerCase(dir, c.String("case"))
			if err != nil {
				return err
			}
			ep, err := readEndpoints(dir)
			if err != nil {
				return withExitCode(fmt.Errorf("worker: %w", err), ExitError)
			}
			url, ok := ep[cs.Benchmark.Service]
			if !ok {
				return withExitCode(fmt.Errorf("worker: no endpoint for service %q", cs.Benchmark.Service), ExitError)
			}
			drv, _, err := newDriver(s, *cs, url)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			if p, ok := drv.(runner.Preparer); ok {
				if err := p.Prepare(ctx); err != nil {
					return withExitCode(fmt.Errorf("worker: preparing: %w", err), ExitError)
				}
			}
			load := caseLoad(*cs, drv)
			load.Worker, load.Workers = c.Int("worker"), c.Int("workers")
			sched, err := caseSchedule(s, *cs, load)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			path := filepath.Join(dir, results.SamplesDir, results.CaseFileName(cs.ID), fmt.Sprintf("%s-%d.jsonl", results.CaseFileName(node), load.Worker))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return withExitCode(err, ExitError)
			}
			w, err := results.CreateSampleFile(path)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			defer closeWorkerSamples(e, path, w)
			// Offsets are monotonic: the wall-clock start is read once.
			wallStart := time.Unix(0, c.Int64("start-ns"))
			start := time.Now().Add(time.Until(wallStart))
			if late := time.Since(start); late > 0 {
				e.log.Warn("worker started after the case start; its schedule begins late", "late", late.Round(time.Millisecond))
			}
			label := fmt.Sprintf("%s/%d", node, load.Worker)
			var prog runner.Progress
			observe, stopLive := serveWorkerLive(e, c.String("metrics-listen"), s.Suite.Name, cs.ID, &prog, 2*s.Monitoring.ScrapeInterval.D())
			defer stopLive()
			for rep := 0; rep < cs.Benchmark.Repetitions && ctx.Err() == nil; rep++ {
				st, err := runner.RunCase(ctx, runner.Case{ID: cs.ID, Load: load, Driver: drv, Rep: rep, Worker: label, Observe: observe, Schedule: sched}, start, w, &prog)
				if err != nil {
					return withExitCode(err, ExitError)
				}
				e.log.Info("worker finished", "rep", rep+1, "requests", st.Completed, "errors", st.Errors)
			}
			if ctx.Err() != nil {
				return withExitCode(errors.New("worker: stopped"), ExitInterrupted)
			}
			return nil
		},
	}
}

// workerStopSignal is how the run stops a worker step (stopWorkerStep):
// srun forwards SIGUSR2 to its task and lets it exit, where it answers
// SIGTERM and SIGINT by killing the step (SIGKILL: the worker could not
// write its sample count). The worker stops on it as on SIGTERM: its load
// ends, and the deferred close writes the samples and their count.
const workerStopSignal = syscall.SIGUSR2

// workerStopGrace is how long a worker step has to stop on
// workerStopSignal before srun gets SIGTERM (and kills it).
const workerStopGrace = 10 * time.Second

// stopWorkerStep asks the worker step run by srun process p to stop:
// workerStopSignal, forwarded to the worker, which stops its load and
// writes its samples and their count; if srun is still running after
// workerStopGrace, SIGTERM, on which srun kills the step (its samples file
// is then read without a count).
func stopWorkerStep(p *os.Process) error {
	if err := p.Signal(workerStopSignal); err != nil {
		return err
	}
	time.AfterFunc(workerStopGrace, func() { p.Signal(syscall.SIGTERM) })
	return nil
}

// workerCase loads the suite as run from the results directory dir and
// finds the case id in it.
func workerCase(dir, id string) (*suites.Suite, *suites.Case, error) {
	s, err := loadSuiteCopy(dir)
	if err != nil {
		return nil, nil, withExitCode(err, ExitError)
	}
	for _, x := range s.Cases() {
		if x.ID == id {
			return s, &x, nil
		}
	}
	if pc, ok := probeCase(s, dir, id); ok {
		return s, pc, nil
	}
	return nil, nil, withExitCode(fmt.Errorf("worker: no case %q in %s", id, dir), ExitUsage)
}

// probeCase rebuilds capacity-search probe id, which is not among the
// suite's cases: its load, requests and try are the params of its
// manifest entry, which the run wrote before it launched the workers
// (runSearch).
func probeCase(s *suites.Suite, dir, id string) (*suites.Case, bool) {
	m, err := results.ReadManifest(dir)
	if err != nil {
		return nil, false
	}
	for _, info := range m.Cases {
		if info.ID != id {
			continue
		}
		p, ok := analysis.ProbeOf(&analysis.Case{ID: id, Params: info.Params})
		if !ok {
			return nil, false
		}
		for _, cs := range s.Cases() {
			if cs.Benchmark.Name == info.Benchmark && isSearch(cs) {
				pc, err := suites.ProbeCase(cs, p.Load, p.Requests, p.Try)
				return &pc, err == nil && pc.ID == id
			}
		}
	}
	return nil, false
}

// closeWorkerSamples closes a worker's samples file and leaves the number
// of samples written beside it, for the run to record in the manifest
// (recordWorkerCounts).
func closeWorkerSamples(e *env, path string, w *results.SampleWriter) {
	if err := w.Close(); err != nil {
		e.log.Error("closing samples file", "file", path, "err", err)
	}
	if err := results.WriteSampleCount(path, w.Count()); err != nil {
		e.log.Error("writing the sample count", "file", path, "err", err)
	}
}
