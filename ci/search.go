package ci

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

// The capacity search (docs/capacity.md) as part of the execute step:
// each probe is a case of the run, added to the manifest when it starts
// and kept with its samples; analysis judges it and picks the next one.

// isSearch reports whether cs belongs to a [benchmark.search] benchmark.
func isSearch(cs suites.Case) bool { return cs.Benchmark.Search != nil }

// runSearch runs the probes of search benchmark case cs until the search
// ends, the budget is spent, or the run stops or fails.
func (r *caseRun) runSearch(ctx context.Context, cs suites.Case) {
	spec := cs.Benchmark.Search.SearchSpec()
	s := analysis.NewSearch(spec)
	deadline := time.Now().Add(cs.Benchmark.Search.Budget.D())
	for {
		load, n, try, ok := s.Next()
		if !ok || ctx.Err() != nil || r.state != runGoing || r.down[cs.Benchmark.Service] != nil || r.failed[cs.Benchmark.Service] != nil {
			return
		}
		if time.Now().After(deadline) {
			r.e.log.Warn("search budget spent: no new probe", "benchmark", cs.Benchmark.Name)
			return
		}
		pc, err := suites.ProbeCase(cs, load, n, try)
		if err != nil {
			r.e.log.Error("search", "err", err)
			return
		}
		// A trace replay's probe measures whole loops of the trace: its
		// params say how many requests that is (suites.ProbeCase).
		n, _ = strconv.Atoi(pc.Params["requests"])
		i := r.rec.add(results.CaseInfo{ID: pc.ID, Benchmark: cs.Benchmark.Name, Kind: cs.Benchmark.Kind,
			Params: pc.Params, Samples: r.pl.samples(pc.ID), Status: results.StatusPending, Repetitions: 1})
		r.runProbe(ctx, i, pc, analysis.NewProbeWatch(spec, n))
		c, _, err := analysis.SummarizeCaseIn(r.dir, *r.rec.caseInfo(i), analysis.Options{})
		if err != nil {
			c.Errors = append(c.Errors, err.Error())
		}
		p := analysis.Probe{Case: pc.ID, Load: load, Requests: n, Try: try}
		p.Verdict, p.Detail = analysis.JudgeProbe(&c, spec)
		s.Record(p)
		r.e.log.Info("probe", "case", pc.ID, "verdict", p.Verdict, "detail", p.Detail)
	}
}

// capacityCases adds to r's summary the capacity case of every search
// benchmark of the suite, from its probe cases (analysis.CapacityCase).
func capacityCases(r *run) {
	for i := range r.s.Benchmarks {
		b := &r.s.Benchmarks[i]
		if b.Search == nil {
			continue
		}
		var probes []*analysis.Case
		for j := range r.sum.Cases {
			if c := &r.sum.Cases[j]; c.Benchmark == b.Name {
				if _, ok := analysis.ProbeOf(c); ok {
					probes = append(probes, c)
				}
			}
		}
		c := analysis.CapacityCase(b.Name, b.Kind, b.Search.SearchSpec(), probes)
		c.Fingerprint = map[string]string{}
		for _, cs := range r.s.Cases() {
			if cs.Benchmark == b {
				c.Fingerprint = caseFingerprint(r.m.Fingerprint, r.s, cs)
				r.cases[c.ID] = cs
			}
		}
		r.sum.Cases = append(r.sum.Cases, c)
	}
}

// errEarlyStop is the cause of a probe's context when its watch stopped
// it: caseEnd records the probe done, not interrupted.
var errEarlyStop = errors.New("probe stopped early: an SLO is already missed")

// runProbe runs probe case i (pc) under its watch (analysis.ProbeWatch):
// the watch sees every sample (as it is written when this process runs
// the load; under SLURM as the workers' samples files grow, watchWorkers),
// and once an SLO is already missed the probe is canceled and its
// manifest entry carries the evidence (analysis.SettingEarlyStop), which
// makes it fail.
func (r *caseRun) runProbe(ctx context.Context, i int, pc suites.Case, w *analysis.ProbeWatch) {
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if r.e.probe == nil {
		r.e.probe = map[string]func(*results.Sample){}
	}
	r.e.probe[pc.ID] = func(s *results.Sample) {
		if w.Observe(s) {
			cancel(errEarlyStop)
		}
	}
	defer delete(r.e.probe, pc.ID)
	r.runOne(pctx, i, pc)
	if ev := w.Stopped(); ev != "" && ctx.Err() == nil {
		info := r.rec.caseInfo(i)
		if info.Settings == nil {
			info.Settings = map[string]string{}
		}
		info.Settings[analysis.SettingEarlyStop] = ev
		r.rec.save()
		r.e.log.Info("probe stopped early", "case", pc.ID, "why", ev)
	}
}

// workerPollInterval is how often the samples files of a probe's SLURM
// workers are read for its watch.
const workerPollInterval = 200 * time.Millisecond

// watchWorkers feeds the samples the SLURM workers of case id write under
// samplesDir to the case's probe watch (runProbe) as they appear, every
// workerPollInterval, so that a probe under SLURM stops early too (the
// watch cancels the case, which stops the worker steps). It returns the
// function that ends it; a case without a watch has nothing to end.
func (e *env) watchWorkers(id, samplesDir string) (stop func()) {
	watch := e.probe[id]
	if watch == nil {
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		read := map[string]int64{} // bytes of each file already fed
		tick := time.NewTicker(workerPollInterval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				files, _ := filepath.Glob(filepath.Join(samplesDir, "*.jsonl"))
				for _, f := range files {
					read[f] += feedNewSamples(f, read[f], watch)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// feedNewSamples calls fn for each sample of the complete lines written
// to path after its first off bytes, and returns the bytes it consumed (a
// line still being written is left for the next call).
func feedNewSamples(path string, off int64, fn func(*results.Sample)) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, off, 1<<62))
	end := bytes.LastIndexByte(b, '\n')
	if err != nil || end < 0 {
		return 0
	}
	results.ScanSamples(bytes.NewReader(b[:end+1]), func(s *results.Sample) error {
		fn(s)
		return nil
	})
	return int64(end + 1)
}
