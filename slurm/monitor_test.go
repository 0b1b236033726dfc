package slurm

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPrometheusConfigGolden renders the monitor role's prometheus.yml for
// the "monitor" job of scriptJobs and checks it with Prometheus's own
// promtool, so a configuration Prometheus would refuse cannot pass.
func TestPrometheusConfigGolden(t *testing.T) {
	j := scriptJobs()["monitor"]
	nodes := []string{"gpu01", "cpu01", "cpu02", "cpu03"}
	cfg, err := j.PrometheusConfig(nodes, 500*time.Millisecond, []ScrapeTarget{
		{Service: "vllm", URL: "http://gpu01:8000/metrics"},
		{Service: "external", URL: "https://llm.example.org:8443/v1/metrics"},
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "monitor/prometheus.yml", cfg)
	for _, want := range []string{
		`targets: ["gpu01:8000"]`, // the service, at its endpoint
		`targets: ["gpu01:9401"]`, // the GPU exporter of the service node, at the configured port
		`targets: ["gpu01:9100", "cpu01:9100", "cpu02:9100", "cpu03:9100"]`, // node_exporter on every node
		`targets: ["gpu01:9464"]`, // the inside-job run on the batch host
		`targets: ["cpu01:9465", "cpu01:9466", "cpu02:9465", "cpu02:9466", "cpu03:9465", "cpu03:9466"]`, // two workers per client node
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("prometheus.yml lacks %s", want)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not found: .ci/deps.sh installs Debian's prometheus, which has it")
		}
		t.Skip("SKIPPING the promtool check: promtool not found (.ci/deps.sh installs Debian's prometheus)")
	}
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "config", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}
}

// TestMonitorSteps checks what the monitor role adds to the steps: the
// exporters and Prometheus first, pointed at the results directory, and a
// metrics port for every worker; and that without it nothing changes.
func TestMonitorSteps(t *testing.T) {
	j := scriptJobs()["monitor"]
	nodes := []string{"n0", "n1", "n2", "n3"}
	steps, err := j.Steps(nodes)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, s := range steps {
		kinds = append(kinds, s.Kind+"@"+s.Node)
	}
	want := "node-exporter@n0 node-exporter@n1 node-exporter@n2 node-exporter@n3 prometheus@n1 service@n0 client@n1 client@n1 client@n2 client@n2 client@n3 client@n3"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("steps:\n got %s\nwant %s", got, want)
	}
	prom := ShellJoin(steps[4].Argv)
	for _, w := range []string{"--config.file=/scratch/bench/results/monitored/monitor/prometheus.yml",
		"--storage.tsdb.path=/scratch/bench/results/monitored/monitor/prometheus/data", "--web.enable-admin-api",
		"--web.listen-address=0.0.0.0:9090", "/opt/prometheus/bin/prometheus"} {
		if !strings.Contains(prom, w) {
			t.Errorf("prometheus step %s lacks %s", prom, w)
		}
	}
	if steps[4].URL != "http://n1:9090" || steps[7].MetricsPort != 9466 || !strings.Contains(ShellJoin(steps[7].Argv), "--metrics-listen=0.0.0.0:9466") {
		t.Errorf("prometheus url %s, second worker port %d argv %s", steps[4].URL, steps[7].MetricsPort, ShellJoin(steps[7].Argv))
	}

	j.Config.Monitor.NodeExporter = NoNodeExporter
	steps, _ = j.Steps(nodes)
	if steps[0].Kind != StepPrometheus {
		t.Errorf("node_exporter = %q still starts %s", NoNodeExporter, steps[0].Kind)
	}

	j.Config.Monitor = nil
	steps, _ = j.Steps(nodes)
	for _, s := range steps {
		if s.Kind == StepPrometheus || s.Kind == StepNodeExporter || s.MetricsPort != 0 || strings.Contains(ShellJoin(s.Argv), "metrics-listen") {
			t.Errorf("without the monitor role: %+v", s)
		}
	}
	if _, err := j.PrometheusConfig(nodes, time.Second, nil); err == nil {
		t.Error("PrometheusConfig without the monitor role: want an error")
	}
}
