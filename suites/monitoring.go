package suites

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Monitoring is the [monitoring] table: what benchrun records beside the
// samples (each service's metrics scraped during every case) and what it
// exposes (its live metrics, a push to a Pushgateway). docs/monitoring.md
// walks through it.
type Monitoring struct {
	Scrape         *bool    `toml:"scrape" doc:"Scrape each service's Prometheus endpoint during every case (default true): a vllm service or vllm emulator at <url>/metrics, any other service only when it sets metrics_url."`
	ScrapeInterval Duration `toml:"scrape_interval" doc:"Time between scrapes; default 1s, at least 100ms."`
	Listen         string   `toml:"listen" doc:"Serve benchrun's live metrics (/metrics) on this host:port during the run, e.g. \"127.0.0.1:9464\"; --metrics-listen overrides."`
	Pushgateway    string   `toml:"pushgateway" doc:"Pushgateway URL: when the run ends, push each case's summary and the run status, grouped by suite, case and job id."`
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
	if u := m.Pushgateway; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		d.problem(child(p, "pushgateway"), "monitoring.pushgateway %q must start with http:// or https://", u)
	}
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
