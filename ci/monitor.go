package ci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/live"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm"
	"github.com/benchrun/benchrun/suites"
)

// The monitor role of a SLURM job ([slurm.monitor], docs/monitoring.md "In
// a SLURM job"): before the services start, the inside-job run writes
// monitor/prometheus.yml and starts a node_exporter on every node and
// Prometheus on the first client node as srun steps; it serves its own
// live metrics on 0.0.0.0:benchrun_port, and each client worker on the
// port the step gives it. After the services have stopped, it takes a
// TSDB snapshot through Prometheus's admin API into
// monitor/prometheus/snapshot, stops the monitor steps and, the snapshot
// being whole, removes the working TSDB. Nothing of it can fail a run: a
// monitor step that does not start, or a snapshot that fails, is a
// warning.

// monitorRole is the running monitor role of an allocation.
type monitorRole struct {
	job        slurm.Job
	prometheus *runner.Process // nil when it did not start
	procs      runner.Services
	interval   time.Duration
}

// monitorJob returns the job of the placement when it has the monitor role.
func monitorJob(pl placement) (slurm.Job, bool) {
	ap, ok := pl.(*allocationPlacement)
	if !ok || ap.job.Config.Monitor == nil {
		return slurm.Job{}, false
	}
	return ap.job, true
}

// monitorLiveAddr is where the inside-job run serves its live metrics when
// the monitor role is on: every address, on the port the generated
// configuration scrapes; else addr.
func monitorLiveAddr(pl placement, addr string) string {
	if j, ok := monitorJob(pl); ok {
		return "0.0.0.0:" + strconv.Itoa(j.Config.Monitor.LivePort())
	}
	return addr
}

// monitorTargets returns the metrics endpoints of the services s starts or
// reaches, at the URLs the placement gives them (the URLs endpoints.json
// records). A service is listed whether or not benchrun itself scrapes it
// (monitoring.scrape): the job's Prometheus records the whole night.
func monitorTargets(s *suites.Suite, steps []slurm.Step) []slurm.ScrapeTarget {
	var out []slurm.ScrapeTarget
	for i := range s.Services {
		sv := &s.Services[i]
		if !usedService(s, sv.Name) {
			continue
		}
		url := sv.URL
		for _, st := range steps {
			if st.Kind == slurm.StepService && st.Service == sv.Name {
				url = st.URL
			}
		}
		// A suite without [monitoring] settings: the service's metrics
		// endpoint as benchrun would scrape it with scraping on.
		if m := (&suites.Suite{}).MetricsURL(sv, url); m != "" {
			out = append(out, slurm.ScrapeTarget{Service: sv.Name, URL: m})
		}
	}
	return out
}

// startMonitor starts the monitor role when the placement has it; nil
// otherwise. The steps that do not start are warnings.
func (r *caseRun) startMonitor(ctx context.Context) *monitorRole {
	j, ok := monitorJob(r.pl)
	if !ok {
		return nil
	}
	ap := r.pl.(*allocationPlacement)
	mr := &monitorRole{job: j, interval: r.s.Monitoring.ScrapeInterval.D()}
	cfg, err := j.PrometheusConfig(ap.nodes, mr.interval, monitorTargets(r.s, ap.steps))
	if err == nil {
		err = os.MkdirAll(filepath.Join(r.dir, slurm.MonitorDir, slurm.PrometheusDataDir), 0o755)
	}
	if err == nil {
		err = os.WriteFile(j.PrometheusConfigPath(), []byte(cfg), 0o644)
	}
	if err != nil {
		r.e.log.Warn("monitor: no Prometheus in this job", "err", err)
		return mr
	}
	// Every step at once: one node_exporter per node must not make a
	// large allocation wait for each in turn.
	var wg sync.WaitGroup
	for _, st := range ap.steps {
		if st.Kind != slurm.StepNodeExporter && st.Kind != slurm.StepPrometheus {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := r.startMonitorStep(ctx, st)
			if p != nil && st.Kind == slurm.StepPrometheus {
				mr.prometheus = p // the only Prometheus step
			}
			mr.procs.Add(p)
		}()
	}
	wg.Wait()
	if mr.prometheus != nil {
		r.e.log.Info("monitor: Prometheus scraping the job", "url", mr.prometheus.Service.URL, "config", j.PrometheusConfigPath())
	}
	return mr
}

// startMonitorStep starts one step of the monitor role and waits until it
// answers; nil, with a warning, when it does not.
func (r *caseRun) startMonitorStep(ctx context.Context, st slurm.Step) *runner.Process {
	probe := st.URL + "/metrics"
	if st.Kind == slurm.StepPrometheus {
		probe = st.URL + "/-/ready"
	}
	svc := runner.Service{Name: "monitor-" + st.Kind + "-" + st.Node, Kind: st.Kind, Command: st.Argv, URL: st.URL, Log: r.e.log,
		LogPath: filepath.Join(r.dir, results.LogsDir, fmt.Sprintf("monitor-%s-%s.log", st.Kind, st.Node)),
		Probe:   runner.Probe{URL: probe, Timeout: time.Minute}}
	p, err := runner.StartService(ctx, svc)
	if err != nil {
		r.e.log.Warn("monitor: a step did not start; the run goes on without it", "step", st.Kind, "node", st.Node, "err", err)
		return nil
	}
	return p
}

// stop ends the monitor role after the services have stopped: one more
// scrape interval so the last values are in, the TSDB snapshot, then the
// steps. hard (a second stop signal) skips the wait and the snapshot.
func (mr *monitorRole) stop(log interface{ Warn(string, ...any) }, dir string, hard context.Context) {
	if mr == nil {
		return
	}
	snapped := false
	if mr.prometheus != nil && hard.Err() == nil {
		select {
		case <-time.After(mr.interval + 100*time.Millisecond):
		case <-hard.Done():
		}
		ctx, cancel := context.WithTimeout(hard, 30*time.Second)
		err := snapshotTSDB(ctx, mr.prometheus.Service.URL, filepath.Join(dir, slurm.MonitorDir))
		cancel()
		if err != nil {
			log.Warn("monitor: no TSDB snapshot; the working TSDB is kept instead", "dir", filepath.Join(dir, slurm.MonitorDir, slurm.PrometheusDataDir), "err", err)
		}
		snapped = err == nil
	}
	ctx, cancel := context.WithTimeout(hard, 30*time.Second)
	defer cancel()
	if err := mr.procs.StopAll(ctx); err != nil {
		log.Warn("monitor: stopping the monitor steps", "err", err)
		return
	}
	if snapped {
		// The snapshot holds every sample: the working TSDB repeats it.
		os.RemoveAll(filepath.Join(dir, slurm.MonitorDir, slurm.PrometheusDataDir))
	}
}

// snapshotTSDB asks the Prometheus at base for a snapshot of its TSDB
// (POST /api/v1/admin/tsdb/snapshot, which needs --web.enable-admin-api)
// and moves it, from the snapshots directory of its storage under
// monitorDir, to monitorDir/prometheus/snapshot.
func snapshotTSDB(ctx context.Context, base, monitorDir string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/admin/tsdb/snapshot", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var answer struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || resp.StatusCode != http.StatusOK || answer.Status != "success" {
		return fmt.Errorf("snapshot: HTTP %d: %s %s", resp.StatusCode, answer.Error, truncate(string(body), 200))
	}
	name := filepath.Base(answer.Data.Name)
	if name == "." || name == "/" || name == "" {
		return errors.New("snapshot: Prometheus named no snapshot")
	}
	from := filepath.Join(monitorDir, slurm.PrometheusDataDir, "snapshots", name)
	to := filepath.Join(monitorDir, slurm.PrometheusSnapshotDir)
	if err := os.RemoveAll(to); err != nil {
		return err
	}
	return os.Rename(from, to)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// serveWorkerLive serves a client worker's live metrics at addr for the
// monitor role's Prometheus (nothing when addr is empty) and returns the
// case's observer and a stop function. stop keeps serving until one scrape
// has come after the case ended, at most linger, so that the worker's
// final counts are recorded before the process exits.
func serveWorkerLive(e *env, addr, suite, caseID string, p *runner.Progress, linger time.Duration) (observe func(*results.Sample), stop func()) {
	if addr == "" {
		return nil, func() {}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		e.log.Warn("live metrics: cannot listen; the worker goes on without them", "addr", addr, "err", err)
		return nil, func() {}
	}
	m := live.New(suite)
	m.StartCase(caseID, p)
	var scraped atomic.Int64 // Unix nanoseconds of the last scrape
	h := promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		began := time.Now().UnixNano()
		h.ServeHTTP(w, r)
		scraped.Store(began) // once the answer is written
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func(s *results.Sample) { m.Observe(caseID, s) }, func() {
		m.EndCase(caseID)
		ended := time.Now().UnixNano()
		for deadline := time.Now().Add(linger); time.Now().Before(deadline) && scraped.Load() <= ended; {
			time.Sleep(20 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
}

// writeMonitorPlan prints, for `benchrun plan`, the monitor role's steps
// and the prometheus.yml it would generate, on the stand-in node names of
// planNodes (the real names are known inside the job only): NODEi, node i
// of SLURM_JOB_NODELIST, or with components (a heterogeneous job, or the
// role tables) PARTITION-k, as in the job steps printed above it, whose
// list already holds the monitor's steps.
func writeMonitorPlan(w io.Writer, s *suites.Suite) error {
	j, err := planJob(s)
	if err != nil {
		return err
	}
	nodes := planNodes(j)
	steps, err := j.Steps(nodes)
	if err != nil {
		return withExitCode(fmt.Errorf("%s: monitor role: %w", s.File, err), ExitUsage)
	}
	cfg, err := j.PrometheusConfig(nodes, s.Monitoring.ScrapeInterval.D(), monitorTargets(s, steps))
	if err != nil {
		return withExitCode(fmt.Errorf("%s: monitor role: %w", s.File, err), ExitUsage)
	}
	if len(j.Components) > 0 {
		fmt.Fprintf(w, "\nmonitor role, inside the job (node names as in the job steps above, where its steps are listed); started before the services:\n")
	} else {
		fmt.Fprintf(w, "\nmonitor role, inside the job (NODEi is node i of SLURM_JOB_NODELIST); started before the services:\n")
	}
	for _, st := range steps {
		switch {
		case (st.Kind == slurm.StepNodeExporter || st.Kind == slurm.StepPrometheus) && len(j.Components) == 0:
			fmt.Fprintf(w, "  %s on %s: %s\n", st.Kind, st.Node, shellJoin(st.Argv))
		case st.Kind == slurm.StepPrometheus:
			fmt.Fprintf(w, "  prometheus on %s, port %d\n", st.Node, j.Config.Monitor.PrometheusPort())
		case st.Kind == slurm.StepClient:
			fmt.Fprintf(w, "  client worker %d on %s serves live metrics on port %d\n", st.Worker, st.Node, st.MetricsPort)
		}
	}
	m := j.Config.Monitor
	fmt.Fprintf(w, "  benchrun (the inside-job run, on %s, the batch host) serves live metrics on port %d\n", nodes[0], m.LivePort())
	fmt.Fprintf(w, "  at the end: POST /api/v1/admin/tsdb/snapshot, kept in %s\n",
		filepath.Join(j.ResultsDir, slurm.MonitorDir, slurm.PrometheusSnapshotDir))
	fmt.Fprintf(w, "\n%s:\n%s", j.PrometheusConfigPath(), cfg)
	return nil
}
