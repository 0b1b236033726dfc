package ci

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/report"
	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm"
	"github.com/benchrun/benchrun/suites"
)

func suiteCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "suite",
		Usage:     "run a suite end to end: services, load, analysis, baselines, reports",
		ArgsUsage: "FILE",
		Description: "Validates the suite, starts its services, waits until they are ready, runs\n" +
			"every case, stops the services, then analyses the samples, compares them with\n" +
			"the baselines and writes the reports. The exit code says how it went.\n\n" +
			"Example:\n   benchrun suite -o results/nightly nightly.toml",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "local", Usage: "run here even when the suite has a [slurm] section"},
			&cli.BoolFlag{Name: "inside-job", Hidden: true, Usage: "run inside the SLURM allocation (the job script's command)"},
			&cli.StringFlag{Name: "results", Hidden: true, Usage: "results directory (the job script's spelling of -o)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return withExitCode(errors.New("suite: name exactly one suite file"), ExitUsage)
			}
			e := newEnv(c, stdout, stderr)
			s, err := loadSuite(stderr, c.Args().First())
			if err != nil {
				return err
			}
			out := c.String("output")
			if r := c.String("results"); r != "" {
				out = r
			}
			dir := resultsDir(out, s, time.Now())
			if exists(filepath.Join(dir, results.ManifestFile)) {
				// Appending to another run's samples would mix two runs.
				return withExitCode(fmt.Errorf("results directory %s already holds a run; choose another -o or remove it", dir), ExitUsage)
			}
			var pl placement = localPlacement{}
			switch {
			case s.Slurm == nil || c.Bool("local"):
			case c.Bool("inside-job") || slurm.InAllocation():
				e.log = e.log.With("job_id", os.Getenv("SLURM_JOB_ID"), "node", hostname())
				e.insideJob = c.Bool("inside-job")
				ap, err := newAllocationPlacement(s, dir)
				if err != nil {
					return withExitCode(err, ExitError)
				}
				pl = ap
			default:
				return submit(c.Context, e, s, dir, c.String("baselines"))
			}
			res, err := execute(c.Context, e, s, dir, pl)
			if err != nil {
				return err
			}
			return finish(c.Context, e, dir, c.String("baselines"), res)
		},
	}
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

// execution is what execute leaves for the analysis: whether the run was
// cut short, and why.
type execution struct {
	interrupted bool
	timeLimit   bool  // interrupted by the SLURM time limit's USR1
	execErr     error // a service did not start, ...
}

// execute runs every case of s, streaming samples under dir. It returns an
// error only when nothing could be recorded at all (dir not writable).
func execute(ctx context.Context, e *env, s *suites.Suite, dir string, pl placement) (*execution, error) {
	for _, sub := range []string{results.SamplesDir, results.LogsDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, withExitCode(fmt.Errorf("results directory: %w", err), ExitError)
		}
	}
	src, err := os.ReadFile(s.File)
	if err != nil {
		return nil, withExitCode(err, ExitError)
	}
	if err := os.WriteFile(filepath.Join(dir, suiteCopy), src, 0o644); err != nil {
		return nil, withExitCode(fmt.Errorf("results directory: %w", err), ExitError)
	}
	m := newManifest(s)
	if id := os.Getenv("SLURM_JOB_ID"); id != "" {
		nodes, _ := slurm.AllocationNodes()
		m.Slurm = &results.SlurmInfo{JobID: id, Nodes: nodes, Partition: os.Getenv("SLURM_JOB_PARTITION")}
	}
	cases := s.Cases()
	for _, cs := range cases {
		m.Cases = append(m.Cases, results.CaseInfo{ID: cs.ID, Benchmark: cs.Benchmark.Name, Kind: cs.Benchmark.Kind,
			Params: cs.Params, Samples: pl.samples(cs.ID), Status: results.StatusPending, Repetitions: cs.Benchmark.Repetitions})
	}
	save := func() {
		if err := results.WriteJSONAtomic(filepath.Join(dir, results.ManifestFile), m); err != nil {
			e.log.Error("writing manifest", "err", err)
		}
	}
	save()
	e.log.Info("run started", "suite", s.Suite.Name, "dir", dir, "cases", len(cases))

	res := &execution{}
	exe, _ := os.Executable()
	services := map[string]*runner.Process{}
	urls := map[string]string{}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for name, p := range services {
			if err := p.Stop(stopCtx); err != nil {
				e.log.Warn("stopping service", "service", name, "err", err)
			}
		}
		m.End = time.Now().UTC()
		save()
	}()

	for i := range s.Services {
		sv := &s.Services[i]
		if !usedService(s, sv.Name) {
			continue
		}
		specs, err := pl.services(sv, dir, exe)
		if err != nil {
			res.execErr = err
			break
		}
		rs := specs[len(specs)-1] // helpers (Ray head, workers) first, the server last
		info := results.ServiceInfo{Name: sv.Name, Kind: sv.Kind, URL: rs.URL, External: rs.External, Node: pl.node(sv.Name)}
		if !rs.External {
			info.Log, _ = filepath.Rel(dir, rs.LogPath)
		}
		m.Services = append(m.Services, info)
		save()
		for _, helper := range specs[:len(specs)-1] {
			e.log.Info("starting service helper", "service", sv.Name, "step", helper.Name)
			p, err := runner.StartService(ctx, helper)
			if err != nil {
				res.execErr = err
				break
			}
			services[helper.Name] = p
		}
		if res.execErr != nil {
			break
		}
		e.log.Info("starting service", "service", sv.Name, "url", rs.URL, "external", rs.External)
		p, err := runner.StartService(ctx, rs)
		if err != nil {
			if ctx.Err() != nil {
				res.interrupted = true
			} else {
				res.execErr = err
			}
			break
		}
		services[sv.Name] = p
		urls[sv.Name] = rs.URL
		e.log.Info("service ready", "service", sv.Name)
	}

	if res.execErr == nil && !res.interrupted {
		if err := pl.ready(dir, urls); err != nil {
			res.execErr = err
		}
	}
	var prog *report.Progress
	if !e.quiet {
		prog = report.NewProgress(e.stderr, isTerminal(e.stderr), len(cases))
		defer prog.Stop()
	}
	for i, cs := range cases {
		ci := &m.Cases[i]
		if res.interrupted || ctx.Err() != nil {
			res.interrupted = true
			ci.Status = results.StatusSkipped
			continue
		}
		if res.execErr != nil {
			ci.Status = results.StatusError
			ci.Error = res.execErr.Error()
			continue
		}
		ci.Status = results.StatusRunning
		ci.Start = time.Now().UTC()
		save()
		var counters runner.Progress
		if prog != nil {
			counts := func() (int64, int64) {
				snap := counters.Snapshot()
				return snap.Completed, snap.Errors
			}
			if _, remote := pl.(*allocationPlacement); remote {
				// The load runs in worker processes: count their samples.
				counts = func() (int64, int64) { return countSamples(filepath.Join(dir, ci.Samples)) }
			}
			prog.StartCase(cs.ID, counts)
		}
		err := pl.runCase(ctx, e, s, cs, urls[cs.Benchmark.Service], dir, ci, &counters)
		ci.End = time.Now().UTC()
		switch {
		case errors.Is(context.Cause(ctx), ErrTimeLimit):
			res.interrupted = true
			ci.Status = results.StatusError
			ci.Error = fmt.Sprintf("stopped by the SLURM time limit (USR1) after %s; samples so far kept", ci.End.Sub(ci.Start).Round(time.Second))
		case ctx.Err() != nil:
			res.interrupted = true
			ci.Status = results.StatusDone
			ci.Error = results.Interrupted
		case err != nil:
			ci.Status = results.StatusError
			ci.Error = err.Error()
			e.log.Error("case failed", "case", cs.ID, "err", err)
		default:
			ci.Status = results.StatusDone
		}
		if prog != nil {
			prog.EndCase(string(ci.Status))
		}
		save()
	}
	if res.interrupted {
		m.Incomplete = true
		m.Reason = results.Interrupted
		if errors.Is(context.Cause(ctx), ErrTimeLimit) {
			m.Reason = "time limit: stopped on SIGUSR1"
			res.timeLimit = true
		}
	} else if res.execErr != nil {
		m.Incomplete = true
		m.Reason = res.execErr.Error()
	}
	return res, nil
}

func usedService(s *suites.Suite, name string) bool {
	for _, b := range s.Benchmarks {
		if b.Service == name {
			return true
		}
	}
	return false
}

// suiteCopy is the copy of the suite kept in the results directory, so
// `benchrun report DIR` knows the thresholds and settings the run had.
const suiteCopy = "suite.toml"

func newManifest(s *suites.Suite) *results.Manifest {
	v, commit := Version()
	host, _ := os.Hostname()
	file, err := filepath.Abs(s.File)
	if err != nil {
		file = s.File
	}
	return &results.Manifest{
		Version: results.ResultsVersion, Suite: s.Suite.Name, SuiteFile: file, SuiteSHA256: s.SHA256,
		BenchrunVersion: v, BenchrunCommit: commit, Host: host, Start: time.Now().UTC(),
		Fingerprint: fingerprint(s, host),
	}
}
