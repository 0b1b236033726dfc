package slurm

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Monitor defaults: the ports each exporter listens on by convention.
const (
	DefaultPrometheusPort   = 9090
	DefaultNodeExporterPort = 9100
	DefaultGPUExporterPort  = 9400 // NVIDIA's DCGM exporter
	DefaultBenchrunPort     = 9464 // benchrun's live /metrics inside the job
	DefaultPrometheus       = "prometheus"
	DefaultNodeExporter     = "prometheus-node-exporter" // Debian's name; upstream's is node_exporter
	// NoNodeExporter as Monitor.NodeExporter starts no node_exporter (a
	// site that runs one on every node already).
	NoNodeExporter = "none"
)

// Monitor layout inside the results directory.
const (
	// MonitorDir holds what the monitor role leaves: the generated
	// configuration and Prometheus's storage.
	MonitorDir = "monitor"
	// PrometheusConfigFile is the generated prometheus.yml, under MonitorDir.
	PrometheusConfigFile = "prometheus.yml"
	// PrometheusDataDir is Prometheus's TSDB while the job runs, under
	// MonitorDir.
	PrometheusDataDir = "prometheus/data"
	// PrometheusSnapshotDir is where the TSDB snapshot taken at the end of
	// the run is kept, under MonitorDir: a TSDB directory of its own that
	// `prometheus --storage.tsdb.path=DIR` opens.
	PrometheusSnapshotDir = "prometheus/snapshot"
)

// Monitor is the [slurm.monitor] table: when present, the job starts its
// own Prometheus on the first client node and a node_exporter on every
// node, each as an srun step, before the services. Prometheus scrapes the
// services' metrics endpoints, the GPU exporters of the service nodes,
// every node_exporter and benchrun itself (the inside-job run and each
// client worker); the run keeps a TSDB snapshot in the results directory.
//
//	[slurm.monitor]
//	gpu_exporter_port = 9400
type Monitor struct {
	// Prometheus is the prometheus executable on the nodes; DefaultPrometheus
	// (found on PATH) when empty.
	Prometheus string `toml:"prometheus" json:"prometheus,omitempty"`
	// Port is Prometheus's web port; DefaultPrometheusPort when 0.
	Port int `toml:"port" json:"port,omitempty"`
	// NodeExporter is the node_exporter executable on the nodes;
	// DefaultNodeExporter when empty, NoNodeExporter to start none (the
	// nodes are still scraped at NodeExporterPort).
	NodeExporter     string `toml:"node_exporter" json:"node_exporter,omitempty"`
	NodeExporterPort int    `toml:"node_exporter_port" json:"node_exporter_port,omitempty"`
	// GPUExporterPort is where a GPU exporter (the site's DCGM exporter,
	// not started by benchrun) answers on each node of a service with
	// GPUs; DefaultGPUExporterPort when 0.
	GPUExporterPort int `toml:"gpu_exporter_port" json:"gpu_exporter_port,omitempty"`
	// BenchrunPort is where the inside-job benchrun serves its live
	// metrics on the batch host (node 0); client worker k of a node serves
	// on BenchrunPort+1+k. DefaultBenchrunPort when 0.
	BenchrunPort int `toml:"benchrun_port" json:"benchrun_port,omitempty"`
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

// PrometheusPort returns Port or its default.
func (m *Monitor) PrometheusPort() int { return orDefault(m.Port, DefaultPrometheusPort) }

// NodePort returns NodeExporterPort or its default.
func (m *Monitor) NodePort() int { return orDefault(m.NodeExporterPort, DefaultNodeExporterPort) }

// GPUPort returns GPUExporterPort or its default.
func (m *Monitor) GPUPort() int { return orDefault(m.GPUExporterPort, DefaultGPUExporterPort) }

// LivePort returns BenchrunPort or its default.
func (m *Monitor) LivePort() int { return orDefault(m.BenchrunPort, DefaultBenchrunPort) }

func (m *Monitor) prometheus() string {
	if m.Prometheus == "" {
		return DefaultPrometheus
	}
	return m.Prometheus
}

func (m *Monitor) nodeExporter() string {
	if m.NodeExporter == "" {
		return DefaultNodeExporter
	}
	return m.NodeExporter
}

// validate checks the table; messages name the key as in the suite. Port
// ranges are checked when the job is rendered (Job.validateMonitor); the
// suite format bounds them first.
func (m *Monitor) validate() []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	type port struct {
		key       string
		set, port int
	}
	ports := []port{{"port", m.Port, m.PrometheusPort()}, {"node_exporter_port", m.NodeExporterPort, m.NodePort()},
		{"gpu_exporter_port", m.GPUExporterPort, m.GPUPort()}, {"benchrun_port", m.BenchrunPort, m.LivePort()}}
	for i, a := range ports {
		for _, b := range ports[i+1:] {
			if a.port != b.port {
				continue
			}
			// Name the key the suite sets, at its line.
			if a.set == 0 {
				a, b = b, a
			}
			add("slurm.monitor.%s %d: the same port as %s", a.key, a.port, b.key)
		}
	}
	for _, e := range []struct{ key, v string }{{"prometheus", m.Prometheus}, {"node_exporter", m.NodeExporter}} {
		if hasControl(e.v) || strings.HasPrefix(e.v, "-") {
			add("slurm.monitor.%s %q: want an executable name or path", e.key, e.v)
		}
	}
	return errs
}

// validateMonitor checks the monitor role against the job's other roles:
// the ports of its steps must not collide with a service's on a node they
// may share, nor the workers' ports run past 65535.
func (j *Job) validateMonitor() []error {
	m := j.Config.Monitor
	if m == nil {
		return nil
	}
	var errs []error
	for _, p := range []struct {
		key  string
		port int
	}{{"port", m.Port}, {"node_exporter_port", m.NodeExporterPort}, {"gpu_exporter_port", m.GPUExporterPort}, {"benchrun_port", m.BenchrunPort}} {
		if p.port < 0 || p.port > 65535 {
			errs = append(errs, fmt.Errorf("slurm.monitor.%s %d: want 1-65535 (0 for the default)", p.key, p.port))
		}
	}
	per := max(j.Clients.PerNode, 1)
	if m.LivePort()+per > 65535 {
		errs = append(errs, fmt.Errorf("slurm.monitor.benchrun_port %d: the client workers serve on the %d ports after it, past 65535", m.LivePort(), per))
	}
	mine := map[int]string{m.PrometheusPort(): "port", m.NodePort(): "node_exporter_port", m.GPUPort(): "gpu_exporter_port"}
	for k := 0; k <= per; k++ {
		mine[m.LivePort()+k] = "benchrun_port"
	}
	for _, s := range j.Services {
		if key, ok := mine[s.Port]; ok {
			errs = append(errs, fmt.Errorf("slurm.monitor.%s: service %q listens on port %d too", key, s.Name, s.Port))
		}
	}
	return errs
}

// Step kinds of the monitor role.
const (
	StepNodeExporter = "node-exporter"
	StepPrometheus   = "prometheus"
)

// monitorNode is the allocation index Prometheus runs on: the first client
// node.
func (j *Job) monitorNode() int { return j.clientNodes()[0] }

// PrometheusConfigPath is the generated prometheus.yml of the job.
func (j *Job) PrometheusConfigPath() string {
	return filepath.Join(j.ResultsDir, MonitorDir, PrometheusConfigFile)
}

// monitorSteps returns the monitor role's steps on nodes: a node_exporter
// on every node (unless NoNodeExporter), then Prometheus on the first
// client node. Their URLs are what answers when each is ready.
func (j *Job) monitorSteps(at func(int) (string, error), nodes []string) ([]Step, error) {
	m := j.Config.Monitor
	var steps []Step
	if m.nodeExporter() != NoNodeExporter {
		for _, node := range nodes {
			port := m.NodePort()
			steps = append(steps, Step{Kind: StepNodeExporter, Node: node, URL: fmt.Sprintf("http://%s:%d", node, port),
				Argv: StepCommand(node, []string{m.nodeExporter(), "--web.listen-address=0.0.0.0:" + strconv.Itoa(port)},
					StepOptions{Name: "node-exporter"})})
		}
	}
	node, err := at(j.monitorNode())
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	port := m.PrometheusPort()
	argv := []string{m.prometheus(),
		"--config.file=" + j.PrometheusConfigPath(),
		"--storage.tsdb.path=" + filepath.Join(j.ResultsDir, MonitorDir, PrometheusDataDir),
		"--web.listen-address=0.0.0.0:" + strconv.Itoa(port),
		// The snapshot at the end of the run: POST /api/v1/admin/tsdb/snapshot.
		"--web.enable-admin-api",
	}
	steps = append(steps, Step{Kind: StepPrometheus, Node: node, URL: fmt.Sprintf("http://%s:%d", node, port),
		Argv: StepCommand(node, argv, StepOptions{Name: "prometheus"})})
	return steps, nil
}

// ScrapeTarget is one service endpoint the job's Prometheus scrapes: the
// service's name and its full metrics URL (http://node1:8000/metrics).
type ScrapeTarget struct {
	Service string
	URL     string
}

// PrometheusConfig renders the prometheus.yml of the monitor role on the
// allocation nodes: one scrape job per service target (job
// "service-NAME", with the service's metrics path), "gpu" (the GPU
// exporter on each node of a service that has GPUs), "node" (node_exporter
// on every node) and "benchrun" (the inside-job run on node 0, label
// role="run"; each client worker, role="worker"), all every interval.
// Strings are written as JSON strings, which YAML reads as they are.
func (j *Job) PrometheusConfig(nodes []string, interval time.Duration, services []ScrapeTarget) (string, error) {
	m := j.Config.Monitor
	if m == nil {
		return "", fmt.Errorf("no [slurm.monitor] table")
	}
	steps, err := j.Steps(nodes)
	if err != nil {
		return "", err
	}
	if interval <= 0 {
		interval = time.Second
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	line("# Generated by benchrun for the monitor role of this SLURM job (docs/monitoring.md).")
	line("global:")
	line("  scrape_interval: %dms", interval.Milliseconds())
	line("  scrape_timeout: %dms", min(interval, 10*time.Second).Milliseconds())
	line("scrape_configs:")
	type group struct {
		labels  [][2]string
		targets []string
	}
	job := func(name, scheme, path string, groups ...group) {
		line("  - job_name: %s", q(name))
		line("    scheme: %s", q(scheme))
		line("    metrics_path: %s", q(path))
		line("    static_configs:")
		for _, g := range groups {
			line("      - targets: [%s]", joinQuoted(q, g.targets))
			if len(g.labels) > 0 {
				var kv []string
				for _, l := range g.labels {
					kv = append(kv, q(l[0])+": "+q(l[1]))
				}
				line("        labels: {%s}", strings.Join(kv, ", "))
			}
		}
	}
	for _, t := range services {
		u, err := url.Parse(t.URL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return "", fmt.Errorf("service %q: metrics URL %q: want http(s)://HOST:PORT/PATH", t.Service, t.URL)
		}
		path := u.EscapedPath()
		if path == "" {
			path = "/metrics"
		}
		job("service-"+t.Service, u.Scheme, path, group{[][2]string{{"service", t.Service}}, []string{u.Host}})
	}
	var gpu []string
	seen := map[int]bool{} // services packed on one node share its exporter
	for _, s := range j.Services {
		if s.GPUs > 0 || j.Config.GPUsPerNode > 0 {
			for _, i := range s.Nodes {
				if !seen[i] {
					seen[i] = true
					gpu = append(gpu, fmt.Sprintf("%s:%d", nodes[i], m.GPUPort()))
				}
			}
		}
	}
	if len(gpu) > 0 {
		job("gpu", "http", "/metrics", group{targets: gpu})
	}
	var nodeTargets []string
	for _, n := range nodes {
		nodeTargets = append(nodeTargets, fmt.Sprintf("%s:%d", n, m.NodePort()))
	}
	job("node", "http", "/metrics", group{targets: nodeTargets})
	var workers []string
	for _, st := range steps {
		if st.Kind == StepClient {
			workers = append(workers, fmt.Sprintf("%s:%d", st.Node, st.MetricsPort))
		}
	}
	job("benchrun", "http", "/metrics",
		group{[][2]string{{"role", "run"}}, []string{fmt.Sprintf("%s:%d", nodes[0], m.LivePort())}},
		group{[][2]string{{"role", "worker"}}, workers})
	return b.String(), nil
}

func joinQuoted(q func(string) string, xs []string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = q(x)
	}
	return strings.Join(out, ", ")
}
