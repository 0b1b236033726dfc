package suites

import (
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Monitoring is the [monitoring] table: what benchrun records beside the
// samples (each service's metrics scraped during every case, PromQL
// queries over each case's window) and what it exposes (its live metrics,
// a push to a Pushgateway). docs/monitoring.md walks through it.
type Monitoring struct {
	Scrape         *bool    `toml:"scrape" doc:"Scrape each service's Prometheus endpoint during every case (default true): a vllm service or vllm emulator at <url>/metrics, any other service only when it sets metrics_url."`
	ScrapeInterval Duration `toml:"scrape_interval" doc:"Time between scrapes; default 1s, at least 100ms."`
	Listen         string   `toml:"listen" doc:"Serve benchrun's live metrics (/metrics) on this host:port during the run, e.g. \"127.0.0.1:9464\"; --metrics-listen overrides."`
	Pushgateway    string   `toml:"pushgateway" doc:"Pushgateway URL: when the run ends, push each case's summary and the run status, grouped by suite, case and job id."`

	Prometheus string            `toml:"prometheus" doc:"Prometheus server URL: after each case, run the queries over the case's window and keep the series in telemetry/<case>/promql.jsonl."`
	QueryStep  Duration          `toml:"query_step" doc:"Resolution of the range queries; default 1s, at least 100ms."`
	GPU        bool              `toml:"gpu" doc:"Add the DCGM exporter queries (gpu_util, gpu_fb_used, gpu_fb_free, gpu_temp, gpu_power, gpu_energy): the GPU table and energy per output token."`
	Node       bool              `toml:"node" doc:"Add the node_exporter queries (node_cpu_busy, node_memory_used, node_network_receive, node_network_transmit): the node table."`
	Queries    map[string]string `toml:"queries" doc:"PromQL queries by name, run over each case's window; a name of the gpu or node set replaces that query."`
}

// DefaultQueryStep is the default query_step.
const DefaultQueryStep = Duration(time.Second)

// GPUQueries are the queries gpu = true adds: the DCGM exporter's series
// (REFERENCE §11) in its units (%, MiB, °C, W, mJ). Analysis reads them by
// name for the GPU table.
var GPUQueries = map[string]string{
	"gpu_util":    "DCGM_FI_DEV_GPU_UTIL",
	"gpu_fb_used": "DCGM_FI_DEV_FB_USED",
	"gpu_fb_free": "DCGM_FI_DEV_FB_FREE",
	"gpu_temp":    "DCGM_FI_DEV_GPU_TEMP",
	"gpu_power":   "DCGM_FI_DEV_POWER_USAGE",
	"gpu_energy":  "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
}

// NodeQueries are the queries node = true adds: node_exporter's CPU,
// memory and network, one series per instance (ratio, bytes, bytes/s).
// irate over 1m uses the last two samples of any scrape interval up to
// 30s.
var NodeQueries = map[string]string{
	"node_cpu_busy":         `1 - avg by (instance) (irate(node_cpu_seconds_total{mode="idle"}[1m]))`,
	"node_memory_used":      `node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes`,
	"node_network_receive":  `sum by (instance) (irate(node_network_receive_bytes_total{device!="lo"}[1m]))`,
	"node_network_transmit": `sum by (instance) (irate(node_network_transmit_bytes_total{device!="lo"}[1m]))`,
}

// PromQLQueries returns the queries run after each case, by name: the gpu
// and node sets when enabled, then the suite's own (which replace a set's
// query of the same name). Nil without a Prometheus server.
func (m *Monitoring) PromQLQueries() map[string]string {
	if m.Prometheus == "" {
		return nil
	}
	q := map[string]string{}
	if m.GPU {
		maps.Copy(q, GPUQueries)
	}
	if m.Node {
		maps.Copy(q, NodeQueries)
	}
	maps.Copy(q, m.Queries)
	if len(q) == 0 {
		return nil
	}
	return q
}

// Monitoring defaults.
const (
	DefaultScrapeInterval = Duration(time.Second)
	// MinScrapeInterval is the shortest scrape_interval (AIPerf's default).
	MinScrapeInterval = Duration(100 * time.Millisecond)
)

// ScrapeOn reports whether services are scraped during cases.
func (m *Monitoring) ScrapeOn() bool { return m.Scrape == nil || *m.Scrape }

// MetricsURL returns the Prometheus endpoint scraped for sv while it
// serves at url: its metrics_url, else url + /metrics for a vllm service
// or a vllm emulator; "" when sv has none (Ollama and Chroma have no
// /metrics) or scraping is off.
func (s *Suite) MetricsURL(sv *Service, url string) string {
	if !s.Monitoring.ScrapeOn() {
		return ""
	}
	if sv.MetricsURL != "" {
		return sv.MetricsURL
	}
	if url == "" {
		return ""
	}
	if sv.Kind == "vllm" || (sv.Kind == "emulator" && sv.Emulator.Flavor != "ollama") {
		return strings.TrimRight(url, "/") + "/metrics"
	}
	return ""
}

func (d *decoder) validateMonitoring(s *Suite) {
	m := &s.Monitoring
	p := []string{"monitoring"}
	if m.ScrapeInterval == 0 {
		m.ScrapeInterval = DefaultScrapeInterval
	}
	if m.QueryStep == 0 {
		m.QueryStep = DefaultQueryStep
	}
	for _, k := range [][2]string{{"pushgateway", m.Pushgateway}, {"prometheus", m.Prometheus}} {
		if u := k[1]; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			d.problem(child(p, k[0]), "monitoring.%s %q must start with http:// or https://", k[0], u)
		}
	}
	d.validateQueries(m, p)
	if m.Listen != "" {
		if _, port, err := net.SplitHostPort(m.Listen); err != nil || port == "" {
			d.problem(child(p, "listen"), "monitoring.listen %q: want host:port, e.g. \"127.0.0.1:9464\" (\":0\" picks a port)", m.Listen)
		}
	}
	for i := range s.Services {
		sv := &s.Services[i]
		if u := sv.MetricsURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			d.problem([]string{"service", fmt.Sprint(i), "metrics_url"}, "service %q: metrics_url %q must start with http:// or https://", sv.Name, u)
		}
	}
}

var queryNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validateQueries checks the PromQL keys: queries need a server to run
// on, and each names a series (letters, digits, '_'). The PromQL itself
// is checked by the server: a query it refuses is a warning of the run.
func (d *decoder) validateQueries(m *Monitoring, p []string) {
	if m.Prometheus == "" {
		for _, k := range []struct {
			key string
			set bool
		}{{"gpu", m.GPU}, {"node", m.Node}, {"queries", len(m.Queries) > 0}} {
			if k.set {
				d.problem(child(p, k.key), "monitoring.%s needs monitoring.prometheus, the server to run the queries on", k.key)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m.Queries)) {
		switch {
		case !queryNameRE.MatchString(k):
			d.problem(child(child(p, "queries"), k), "monitoring.queries: name %q: use letters, digits and '_' (it names the series)", k)
		case strings.TrimSpace(m.Queries[k]) == "":
			d.problem(child(child(p, "queries"), k), "monitoring.queries.%s is empty", k)
		}
	}
}
