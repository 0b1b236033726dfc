package ci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm"
	"github.com/benchrun/benchrun/suites"
)

// promQuery runs an instant PromQL query against the Prometheus at base
// and returns the value of its first series, or -1 when it has none.
func promQuery(t *testing.T, base, q string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %v %s", q, err, b)
	}
	if len(r.Data.Result) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(fmt.Sprint(r.Data.Result[0].Value[1]), 64)
	if err != nil {
		t.Fatalf("query %s: value %v", q, r.Data.Result[0].Value)
	}
	return v
}

// reopenTSDB starts Prometheus, as docs/monitoring.md tells a user to, on
// a copy of the TSDB directory dir (opening one writes to it) and returns
// its URL.
func reopenTSDB(t *testing.T, prom, dir string) string {
	t.Helper()
	cp := filepath.Join(t.TempDir(), "tsdb")
	if out, err := exec.Command("cp", "-a", dir, cp).CombinedOutput(); err != nil {
		t.Fatalf("copying the snapshot: %v %s", err, out)
	}
	empty := filepath.Join(t.TempDir(), "empty.yml")
	if err := os.WriteFile(empty, []byte("scrape_configs: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return startDaemon(t, "/-/ready", prom, "--config.file="+empty, "--storage.tsdb.path="+cp,
		"--storage.tsdb.retention.time=100y", "--web.listen-address=127.0.0.1:PORT")
}

// TestSnapshotTSDB: a real Prometheus scrapes a vLLM emulator and a
// worker's live metrics; the worker's stop waits for a scrape after its
// case ended, so a count observed just before it is in the TSDB; the
// snapshot lands in monitor/prometheus/snapshot and a second Prometheus
// opened on it answers for both.
func TestSnapshotTSDB(t *testing.T) {
	prom := needBinary(t, "prometheus", "prometheus")
	llm := serveTestEmulator(t, "snap-model", nil)
	livePort, err := suites.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var prog runner.Progress
	observe, stopLive := serveWorkerLive(e, fmt.Sprintf("127.0.0.1:%d", livePort), "snap", "chat", &prog, 5*time.Second)

	monitorDir := filepath.Join(t.TempDir(), slurm.MonitorDir)
	cfg := filepath.Join(monitorDir, slurm.PrometheusConfigFile)
	if err := os.MkdirAll(filepath.Join(monitorDir, slurm.PrometheusDataDir), 0o755); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(llm)
	writeFile(t, cfg, fmt.Sprintf(`global: {scrape_interval: 200ms}
scrape_configs:
  - job_name: service-llm
    static_configs: [{targets: [%q]}]
  - job_name: benchrun
    static_configs: [{targets: ["127.0.0.1:%d"], labels: {role: worker}}]
`, u.Host, livePort))
	base := startDaemon(t, "/-/ready", prom, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(monitorDir, slurm.PrometheusDataDir),
		"--web.listen-address=127.0.0.1:PORT", "--web.enable-admin-api")

	for i := 0; i < 3; i++ {
		resp, err := http.Post(llm+"/v1/chat/completions", "application/json",
			bytes.NewBufferString(`{"model":"snap-model","messages":[{"role":"user","content":"hi"}],"max_tokens":4}`))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	deadline := time.Now().Add(20 * time.Second)
	for promQuery(t, base, `vllm:e2e_request_latency_seconds_count{job="service-llm"}`) != 3 || promQuery(t, base, `up{job="benchrun"}`) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("Prometheus did not scrape the emulator's 3 requests and the worker in 20 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Observed after Prometheus has scraped the worker, then the case
	// ends: only the wait for one more scrape gets these into the TSDB.
	for i := 0; i < 7; i++ {
		observe(&results.Sample{Scheduled: 0, Sent: time.Millisecond, Done: 50 * time.Millisecond, OutputTokens: 4})
	}
	stopLive()

	if err := snapshotTSDB(context.Background(), base, monitorDir); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(monitorDir, slurm.PrometheusSnapshotDir)
	if blocks, _ := filepath.Glob(filepath.Join(snap, "*", "meta.json")); len(blocks) == 0 {
		t.Fatalf("no TSDB block in %s", snap)
	}
	re := reopenTSDB(t, prom, snap)
	if v := promQuery(t, re, `max_over_time(vllm:e2e_request_latency_seconds_count{job="service-llm"}[1h])`); v != 3 {
		t.Errorf("the reopened snapshot has vllm:e2e_request_latency_seconds_count = %v, want 3", v)
	}
	if v := promQuery(t, re, `max_over_time(benchrun_requests_total{case="chat",outcome="ok",role="worker"}[1h])`); v != 7 {
		t.Errorf("the reopened snapshot has benchrun_requests_total = %v, want 7 (the worker's last count)", v)
	}

	// A Prometheus without the admin API refuses: an error, not a silent
	// empty snapshot.
	plain := startDaemon(t, "/-/ready", prom, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(t.TempDir(), "d"),
		"--web.listen-address=127.0.0.1:PORT")
	if err := snapshotTSDB(context.Background(), plain, t.TempDir()); err == nil || !strings.Contains(err.Error(), "HTTP") {
		t.Errorf("snapshot without --web.enable-admin-api: %v, want an HTTP error", err)
	}
}

// TestMonitorPlan: `benchrun plan` prints the monitor role's steps and the
// generated prometheus.yml, whose service target is the endpoint the job
// places.
func TestMonitorPlan(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.toml")
	writeFile(t, path, `[suite]
name = "mon"
output = "`+dir+`/r"
[[service]]
name = "llm"
kind = "emulator"
port = 8000
[[benchmark]]
name = "chat"
service = "llm"
[monitoring]
scrape_interval = "250ms"
[slurm]
nodes = 2
[slurm.monitor]
node_exporter = "none"
`)
	s, err := suites.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := writePlan(&b, s); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"#   monitor: prometheus on node 1, port 9090",
		"  prometheus on NODE1: srun --overlap --nodelist=NODE1 -N1 -n1 --job-name=prometheus prometheus --config.file=" + dir + "/r/monitor/prometheus.yml",
		"  client worker 0 on NODE1 serves live metrics on port 9465",
		"kept in " + dir + "/r/monitor/prometheus/snapshot",
		"scrape_interval: 250ms",
		`targets: ["NODE0:8000"]`,
		`targets: ["NODE0:9100", "NODE1:9100"]`, // scraped although none is started: the site's own
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "node-exporter on") {
		t.Errorf("node_exporter = \"none\" still plans node_exporter steps:\n%s", out)
	}
}

// TestMonitorPlanHetjob: in a heterogeneous job the monitor plan names the
// nodes as the job steps do (PARTITION-k: node numbers of
// SLURM_JOB_NODELIST mean nothing there), Prometheus runs on the first
// client node, and two services packed on one GPU node give one GPU
// exporter target, not two.
func TestMonitorPlanHetjob(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.toml")
	writeFile(t, path, `[suite]
name = "mon"
output = "`+dir+`/r"
[[service]]
name = "a"
kind = "emulator"
gpus = 1
[[service]]
name = "b"
kind = "emulator"
gpus = 1
[[benchmark]]
name = "ca"
service = "a"
[[benchmark]]
name = "cb"
service = "b"
[slurm]
time = "00:10:00"
[slurm.services]
partition = "gpu"
gpus_per_node = 4
[slurm.clients]
partition = "cpu"
nodes = 2
[slurm.monitor]
`)
	s, err := suites.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := writePlan(&b, s); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"#   monitor: prometheus on node 1, port 9090",
		"  prometheus on cpu-0 (het-group 1), http://cpu-0:9090\n    srun --het-group=1 --overlap --nodelist=cpu-0 ",
		"monitor role, inside the job (node names as in the job steps above",
		"  prometheus on cpu-0, port 9090\n",
		"  client worker 1 on cpu-1 serves live metrics on port 9465",
		"  benchrun (the inside-job run, on gpu-0, the batch host) serves live metrics on port 9464",
		`targets: ["gpu-0:8000"]`,
		`targets: ["gpu-0:8001"]`,
		`targets: ["gpu-0:9400"]` + "\n",
		`targets: ["gpu-0:9100", "cpu-0:9100", "cpu-1:9100"]`,
		`targets: ["cpu-0:9465", "cpu-1:9465"]`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "NODE0") || strings.Contains(out, "NODE1") {
		t.Errorf("a heterogeneous job's plan names nodes NODEi:\n%s", out)
	}
}
