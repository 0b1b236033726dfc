package ci

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

// TestPromQLWithRealPrometheus: Debian's Prometheus scrapes, every
// 200 ms, the emulated vLLM, the DCGM exporter emulator (two GPUs that
// follow the vLLM's load), a real node_exporter and benchrun's live
// /metrics; a short demo run with gpu and node queries stores the series
// of each case, derives the GPU and node tables and the energy per output
// token, and shows them in summary.json and report.md beside the
// client-vs-server overhead from the scrape.
func TestPromQLWithRealPrometheus(t *testing.T) {
	t.Parallel()
	prom := needBinary(t, "prometheus", "prometheus")
	nodeExp := needBinary(t, "prometheus-node-exporter", "prometheus-node-exporter")
	// The end-to-end run pushes to a real Pushgateway too.
	gw := startDaemon(t, "/-/ready", needBinary(t, "prometheus-pushgateway", "prometheus-pushgateway"), "--web.listen-address=127.0.0.1:PORT")
	work := t.TempDir()
	vllmPort, err := suites.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	livePort, err := suites.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dcgm := startBin(t, work, "emulate", "dcgm", "--port", "0", "--gpus", "2", "--hostname", "gpu01", "--gpu-driver", "535.104.05", "--seed", "3",
		"--follow", fmt.Sprintf("http://127.0.0.1:%d/metrics", vllmPort), "--tick", "50ms")
	dcgmURL := dcgm.listening(t)
	node := startDaemon(t, "/metrics", nodeExp, "--web.listen-address=127.0.0.1:PORT", "--collector.disable-defaults",
		"--collector.cpu", "--collector.meminfo", "--collector.netdev")
	target := func(url string) string { return strings.TrimPrefix(url, "http://") }
	cfg := fmt.Sprintf(`global:
  scrape_interval: 200ms
  scrape_timeout: 200ms
scrape_configs:
  - job_name: vllm
    static_configs: [{targets: ["127.0.0.1:%d"]}]
  - job_name: dcgm
    static_configs: [{targets: [%q]}]
  - job_name: node
    static_configs: [{targets: [%q]}]
  - job_name: benchrun
    static_configs: [{targets: ["127.0.0.1:%d"]}]
`, vllmPort, target(dcgmURL), target(node), livePort)
	cfgPath := filepath.Join(work, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	promURL := startDaemon(t, "/-/ready", prom, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(work, "tsdb"),
		"--web.listen-address=127.0.0.1:PORT")
	waitTargets(t, promURL, 4)

	suite := monitoredSuite(t, work, fmt.Sprintf("port = %d", vllmPort), fmt.Sprintf(`scrape_interval = "200ms"
listen = "127.0.0.1:%d"
prometheus = %q
pushgateway = %q
query_step = "200ms"
gpu = true
node = true
  [monitoring.queries]
  live_ok = 'sum by (case) (benchrun_requests_total{outcome="ok"})'
  vllm_running = 'vllm:num_requests_running'`, livePort, promURL, gw))
	out := filepath.Join(work, "out")
	r := runBin(t, work, binEnv(), "suite", suite, "-o", out, "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d\n%v", r.code, r)
	}
	m, err := results.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.Cases {
		checkPromQLFile(t, out, c)
	}
	s, err := analysis.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Cases {
		checkGPUFigures(t, c)
	}
	// The environment names the service node's GPUs from the DCGM labels.
	if want := (analysis.GPUInventory{Host: "gpu01", Model: "NVIDIA H100 80GB HBM3", Driver: "535.104.05", Count: 2}); len(s.GPUs) != 1 || s.GPUs[0] != want {
		t.Errorf("summary gpus %+v, want [%+v]", s.GPUs, want)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	for _, want := range []string{`id="b0-timeline-0"`, `id="b0-timeline-1"`, "GPU power W (sum)", "GPU util % (mean)", "KV cache % (server)", "<h3>GPUs (PromQL over each case)</h3>",
		"GPUs on gpu01 (DCGM)", "2 × NVIDIA H100 80GB HBM3, driver 535.104.05"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	pushed := get(gw + "/metrics")
	for _, want := range [][]string{{"benchrun_run_verdict{", `verdict="pass"`, `suite="demo"`, "} 1"}, {"benchrun_ttft_seconds{", `case="chat/users=16"`}} {
		if len(grepLines(pushed, want...)) == 0 {
			t.Errorf("the pushgateway's /metrics has no line with %q", want)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	t.Logf("report.md GPU and node rows:\n%s", strings.Join(append(grepLines(string(md), "| gpu01 |"), grepLines(string(md), "| all |")...), "\n"))
	for _, want := range []string{"### GPUs (PromQL over each case)", "| users=16 | gpu01 | 1 | NVIDIA H100 80GB HBM3 |", "J/token |",
		"## Environment", "- GPUs on gpu01 (DCGM): 2 × NVIDIA H100 80GB HBM3, driver 535.104.05",
		"### Nodes (PromQL over each case)", "### Server side", "ttft overhead"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// checkPromQLFile checks a case's PromQL series file: every query
// answered, the DCGM series with their labels, benchrun's own live
// metrics as Prometheus scraped them.
func checkPromQLFile(t *testing.T, out string, c results.CaseInfo) {
	t.Helper()
	var tf *results.TelemetryFile
	for i := range c.Telemetry {
		if c.Telemetry[i].Kind == results.TelemetryPromQL {
			tf = &c.Telemetry[i]
		}
	}
	if tf == nil || tf.Failures != 0 || tf.Attempts != 12 || tf.Points == 0 || tf.Step.Milliseconds() != 200 {
		t.Fatalf("case %s: PromQL entry %+v, want 12 queries answered at a 200ms step", c.ID, tf)
	}
	seen := map[string]bool{}
	if _, err := results.ScanPointFile(filepath.Join(out, tf.Path), func(p results.Point) error {
		switch p.Metric {
		case "gpu_util":
			if p.Labels["Hostname"] == "gpu01" && p.Labels["UUID"] != "" && p.Labels["job"] == "dcgm" {
				seen["gpu_util/"+p.Labels["gpu"]] = true
			}
		case "live_ok":
			if p.Labels["case"] == c.ID && p.Value > 0 {
				seen["live_ok"] = true
			}
		case "vllm_running":
			seen["vllm_running"] = seen["vllm_running"] || p.Value > 0
		default:
			seen[p.Metric] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"gpu_util/0", "gpu_util/1", "gpu_power", "gpu_energy", "gpu_temp", "gpu_fb_used", "gpu_fb_free",
		"node_cpu_busy", "node_memory_used", "live_ok", "vllm_running"} {
		if !seen[want] {
			t.Errorf("case %s: no %s series in %s (benchrun's live metrics and vLLM's through Prometheus)", c.ID, want, tf.Path)
		}
	}
}

// checkGPUFigures checks a case's GPU and node tables and energy per
// token against the emulated GPUs' model and the case's own tokens.
func checkGPUFigures(t *testing.T, c analysis.Case) {
	t.Helper()
	tel := c.Telemetry
	if tel == nil || len(tel.GPUs) != 2 || len(tel.Nodes) != 1 || tel.Energy == nil || tel.EnergyPerOutputToken == nil {
		t.Fatalf("case %s: telemetry %+v, want 2 GPUs, a node and energy", c.ID, tel)
	}
	for _, g := range tel.GPUs {
		// The GPUs follow the emulated vLLM's KV-cache usage: busy during
		// the case, between the idle (70 W) and the maximum (700 W) power.
		if g.Model != "NVIDIA H100 80GB HBM3" || g.Util == nil || g.Util.Peak < 0.2 || g.Power == nil ||
			g.Power.Mean <= 70 || g.Power.Peak > 700 || g.Temperature == nil || g.MemoryUsed == nil || g.MemoryTotal == nil || g.Energy == nil {
			t.Errorf("case %s: gpu %s: %+v", c.ID, g.GPU, g)
			continue
		}
		// Energy is the power integrated over the window: between the
		// lowest and highest power over its length.
		if e, w := *g.Energy, c.Seconds; e < 60*w || e > 1.05*g.Power.Peak*w+10 {
			t.Errorf("case %s: gpu %s: %g J over %g s with power %+v", c.ID, g.GPU, e, w, g.Power)
		}
	}
	tokens := c.Metrics[analysis.MetricOutputTokensPerSecond].Value * c.Seconds
	if got := *tel.Energy / *tel.EnergyPerOutputToken; math.Abs(got-tokens) > 1e-6*tokens {
		t.Errorf("case %s: energy per token implies %g output tokens, the case has %g", c.ID, got, tokens)
	}
	if n := tel.Nodes[0]; n.CPUBusy == nil || n.MemoryUsed == nil || n.MemoryUsed.Peak <= 0 {
		t.Errorf("case %s: node %+v", c.ID, n)
	}
	if srv := tel.Server; srv == nil || srv.TTFT == nil || srv.TTFT.ClientMean <= 0 || srv.TTFT.Overhead != srv.TTFT.ClientMean-srv.TTFT.Mean {
		t.Errorf("case %s: no client-vs-server overhead: %+v", c.ID, srv)
	}
}

// waitTargets waits until Prometheus has its n scrape targets (its
// discovery hands them to the scrapers up to 5 s after the start) and
// has scraped the dcgm one.
func waitTargets(t *testing.T, promURL string, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		body := get(promURL + "/api/v1/targets")
		if strings.Count(body, `"scrapePool"`) >= n && strings.Contains(body, `"job":"dcgm"`) &&
			get(promURL+"/api/v1/query?query=DCGM_FI_DEV_GPU_UTIL") != "" &&
			strings.Contains(get(promURL+"/api/v1/query?query=DCGM_FI_DEV_GPU_UTIL"), `"gpu":"1"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus has not scraped its %d targets after 30s: %s", n, body)
		}
	}
}
