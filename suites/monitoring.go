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
// queries for each case's window) and what it exposes (its live metrics,
// a push to a Pushgateway). docs/monitoring.md walks through it.
type Monitoring struct {
	Scrape         *bool             `toml:"scrape" doc:"Scrape each service's Prometheus endpoint during every case (default true): a vllm service or vllm emulator at <url>/metrics, any other service only when it sets metrics_url."`
	ScrapeInterval Duration          `toml:"scrape_interval" doc:"Time between scrapes; default 1s, at least 100ms."`
	Listen         string            `toml:"listen" doc:"Serve benchrun's live metrics (/metrics) on this host:port during the run, e.g. \"127.0.0.1:9464\"; --metrics-listen overrides."`
	Pushgateway    string            `toml:"pushgateway" doc:"Pushgateway URL: when the run ends, push each case's summary and the run status, grouped by suite, case and job id."`
	Prometheus     string            `toml:"prometheus" doc:"Prometheus server URL: after each case, run the queries over its window and keep the series."`
	QueryStep      Duration          `toml:"query_step" doc:"Resolution of the PromQL range queries; default 1s."`
	Queries        map[string]string `toml:"queries" doc:"PromQL queries by name, e.g. gpu_util = \"DCGM_FI_DEV_GPU_UTIL\"; default: the DCGM GPU set (gpu_util, fb_used, gpu_temp, power, energy) when prometheus is set."`
}

// Monitoring defaults.
const (
	DefaultScrapeInterval = Duration(time.Second)
	DefaultQueryStep      = Duration(time.Second)
	// MinScrapeInterval is the shortest scrape_interval (AIPerf's default).
	MinScrapeInterval = Duration(100 * time.Millisecond)
)

// DefaultQueries are the PromQL queries run when prometheus is set and
// queries is not: DCGM exporter GPU series (REFERENCE §11), in the units
// DCGM reports them (%, MiB, °C, W, mJ).
var DefaultQueries = map[string]string{
	"gpu_util": "DCGM_FI_DEV_GPU_UTIL",
	"fb_used":  "DCGM_FI_DEV_FB_USED",
	"gpu_temp": "DCGM_FI_DEV_GPU_TEMP",
	"power":    "DCGM_FI_DEV_POWER_USAGE",
	"energy":   "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
}

// ScrapeOn reports whether services are scraped during cases.
func (m *Monitoring) ScrapeOn() bool { return m.Scrape == nil || *m.Scrape }

// QueriesOrDefault returns the queries to run: the suite's, else
// DefaultQueries when a Prometheus server is given.
func (m *Monitoring) QueriesOrDefault() map[string]string {
	if len(m.Queries) > 0 || m.Prometheus == "" {
		return m.Queries
	}
	return DefaultQueries
}

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

var queryNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (d *decoder) validateMonitoring(s *Suite) {
	m := &s.Monitoring
	p := []string{"monitoring"}
	if m.ScrapeInterval == 0 {
		m.ScrapeInterval = DefaultScrapeInterval
	}
	if m.QueryStep == 0 {
		m.QueryStep = DefaultQueryStep
	}
	for key, u := range map[string]string{"pushgateway": m.Pushgateway, "prometheus": m.Prometheus} {
		if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			d.problem(child(p, key), "monitoring.%s %q must start with http:// or https://", key, u)
		}
	}
	if m.Listen != "" {
		if _, port, err := net.SplitHostPort(m.Listen); err != nil || port == "" {
			d.problem(child(p, "listen"), "monitoring.listen %q: want host:port, e.g. \"127.0.0.1:9464\" (\":0\" picks a port)", m.Listen)
		}
	}
	if len(m.Queries) > 0 && m.Prometheus == "" {
		d.problem(child(p, "queries"), "monitoring.queries need monitoring.prometheus, the server to run them on")
	}
	for _, k := range slices.Sorted(maps.Keys(m.Queries)) {
		switch {
		case !queryNameRE.MatchString(k):
			d.problem(child(child(p, "queries"), k), "monitoring.queries: name %q: use letters, digits and '_' (it names the series)", k)
		case strings.TrimSpace(m.Queries[k]) == "":
			d.problem(child(child(p, "queries"), k), "monitoring.queries.%s is empty", k)
		}
	}
	for i := range s.Services {
		sv := &s.Services[i]
		if u := sv.MetricsURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			d.problem([]string{"service", fmt.Sprint(i), "metrics_url"}, "service %q: metrics_url %q must start with http:// or https://", sv.Name, u)
		}
	}
}
