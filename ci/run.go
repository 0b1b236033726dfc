package ci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

// runCase runs every repetition of one case against the service at url,
// appending samples to the case's JSONL file as they complete.
func runCase(ctx context.Context, e *env, s *suites.Suite, cs suites.Case, url, dir string, info *results.CaseInfo, prog *runner.Progress) error {
	tuneLoadGC(os.Getenv)
	drv, hash, err := newDriver(s, cs, url)
	if err != nil {
		return err
	}
	info.DatasetHash = hash
	setChromaDataPath(s, cs, dir, drv)
	if p, ok := drv.(runner.Preparer); ok {
		if err := p.Prepare(ctx); err != nil {
			return fmt.Errorf("case %s: preparing: %w", cs.ID, err)
		}
	}
	if c, ok := drv.(runner.Cleaner); ok {
		defer cleanup(e, cs, c)
	}
	path := filepath.Join(dir, info.Samples)
	w, err := results.CreateSampleFile(path)
	if err != nil {
		return fmt.Errorf("case %s: %w", cs.ID, err)
	}
	defer recordSamples(e, info, path, w)
	load := caseLoad(cs, drv)
	sched, err := caseSchedule(s, cs, load)
	if err != nil {
		return fmt.Errorf("case %s: %w", cs.ID, err)
	}
	info.Load = &load
	info.Settings = caseSettings(cs)
	describeDriver(info, drv)
	start := time.Now()
	info.Start = start.UTC()
	host, _ := os.Hostname()
	for rep := 0; rep < cs.Benchmark.Repetitions; rep++ {
		if ctx.Err() != nil {
			break
		}
		e.log.Debug("case started", "case", cs.ID, "rep", rep+1, "of", cs.Benchmark.Repetitions)
		st, err := runRep(ctx, runner.Case{ID: cs.ID, Load: load, Driver: drv, Rep: rep, Worker: host, Observe: e.observer(cs.ID), Schedule: sched}, start, w, prog)
		if err != nil {
			return fmt.Errorf("case %s: %w", cs.ID, err)
		}
		e.log.Debug("case finished", "case", cs.ID, "rep", rep+1, "requests", st.Completed, "errors", st.Errors)
	}
	return nil
}

// runRep runs one repetition, between the driver's BeginRep and EndRep
// when it has them (runner.Repeater).
func runRep(ctx context.Context, c runner.Case, start time.Time, w *results.SampleWriter, prog *runner.Progress) (runner.CaseStats, error) {
	rp, ok := c.Driver.(runner.Repeater)
	rep := runner.Rep{Index: c.Rep, Start: start, Samples: w, Worker: c.Worker}
	if ok {
		if err := rp.BeginRep(ctx, rep); err != nil {
			return runner.CaseStats{}, err
		}
	}
	st, err := runner.RunCase(ctx, c, start, w, prog)
	if ok {
		if eerr := rp.EndRep(ctx, rep); err == nil && ctx.Err() == nil {
			err = eerr
		}
	}
	return st, err
}

// cleanup runs a driver's Cleanup after its case, even an interrupted one.
func cleanup(e *env, cs suites.Case, c runner.Cleaner) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Cleanup(ctx); err != nil {
		e.log.Warn("cleaning up after the case", "case", cs.ID, "err", err)
	}
}

// describeDriver records in the case's manifest entry what its driver
// declares: the unit and direction of its own metrics, and settings such
// as the server version.
func describeDriver(info *results.CaseInfo, drv runner.Driver) {
	if d, ok := drv.(interface {
		Metrics() map[string]results.MetricSpec
	}); ok {
		info.Metrics = d.Metrics()
	}
	if d, ok := drv.(interface{ Settings() map[string]string }); ok {
		for k, v := range d.Settings() {
			info.Settings[k] = v
		}
	}
}

// recordSamples closes a case's samples file and records in its manifest
// entry how many samples were written, so readers can tell a file cut
// short from a whole one. A killed process records nothing: its file is
// read as it is.
func recordSamples(e *env, info *results.CaseInfo, path string, w *results.SampleWriter) {
	if err := w.Close(); err != nil {
		e.log.Error("closing samples file", "file", path, "err", err)
	}
	info.RecordSamples(path, w.Count())
}

// caseLoad is the load of case cs run by drv (nil before a driver is
// prepared): a chroma load runs one operation per batch, which the
// prepared driver counts.
func caseLoad(cs suites.Case, drv runner.Driver) results.Load {
	switch w := cs.Workload.(type) {
	case *suites.LLMWorkload:
		return w.Load()
	case *suites.ChromaWorkload:
		var batches int64
		if l, ok := drv.(interface{ Requests() int64 }); ok {
			batches = l.Requests()
		}
		return w.Load(batches)
	}
	return results.Load{}
}

// caseSettings records what analysis needs beyond the samples.
func caseSettings(cs suites.Case) map[string]string {
	b := cs.Benchmark
	m := map[string]string{}
	if b.SLO.TTFT > 0 {
		m["slo_ttft"] = b.SLO.TTFT.D().String()
	}
	if b.SLO.TPOT > 0 {
		m["slo_tpot"] = b.SLO.TPOT.D().String()
	}
	if b.SLO.E2E > 0 {
		m["slo_e2e"] = b.SLO.E2E.D().String()
	}
	return m
}

// fingerprint describes the environment a run measured: baselines are
// compared only between runs whose fingerprints match.
func fingerprint(s *suites.Suite, host string) map[string]string {
	fp := map[string]string{
		"arch": runtime.GOOS + "/" + runtime.GOARCH,
		"cpu":  cpuModel(),
	}
	if p := os.Getenv("SLURM_JOB_PARTITION"); p != "" {
		fp["partition"] = p
	}
	for k, v := range s.Suite.Fingerprint {
		fp[k] = v
	}
	return fp
}

// caseFingerprint adds what is particular to one case: the service it
// drove and a hash of the suite parts that shape the measurement.
func caseFingerprint(global map[string]string, s *suites.Suite, cs suites.Case) map[string]string {
	fp := map[string]string{}
	for k, v := range global {
		fp[k] = v
	}
	sv := s.Service(cs.Benchmark.Service)
	if sv != nil {
		fp["service_kind"] = sv.Kind
		if sv.Model != "" {
			fp["model"] = sv.Model
		}
		if sv.Image != "" {
			fp["image"] = sv.Image
		}
	}
	if w, ok := cs.Workload.(*suites.LLMWorkload); ok && w.Model != "" {
		fp["model"] = w.Model
	}
	// Thresholds and regression settings do not change what is measured,
	// so they stay out of the hash.
	b := *cs.Benchmark
	b.Thresholds, b.Regression, b.Workload, b.Dataset = nil, suites.Regression{}, nil, nil
	parts, _ := json.Marshal([]any{b.Kind, b.Service, b.Repetitions, b.SLO, cs.Workload, cs.Dataset, svForHash(sv)})
	sum := sha256.Sum256(parts)
	fp["suite_sha256"] = hex.EncodeToString(sum[:8])
	return fp
}

func svForHash(sv *suites.Service) any {
	if sv == nil {
		return nil
	}
	c := *sv
	c.Port, c.URL, c.Readiness = 0, "", suites.Readiness{}
	return c
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
