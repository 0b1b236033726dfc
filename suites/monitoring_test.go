package suites

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMonitoringDefaults(t *testing.T) {
	s, err := Parse("s.toml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	m := s.Monitoring
	if !m.ScrapeOn() || time.Duration(m.ScrapeInterval) != time.Second {
		t.Fatalf("defaults: %+v", m)
	}
	if got := s.MetricsURL(&s.Services[0], "http://127.0.0.1:8000/"); got != "http://127.0.0.1:8000/metrics" {
		t.Errorf("emulator metrics url %q", got)
	}
	for _, sv := range []Service{{Kind: "ollama"}, {Kind: "emulator", Emulator: EmulatorSection{Flavor: "ollama"}}, {Kind: "command"}} {
		if got := s.MetricsURL(&sv, "http://h:1"); got != "" {
			t.Errorf("%s/%s: metrics url %q, want none", sv.Kind, sv.Emulator.Flavor, got)
		}
	}
	if got := s.MetricsURL(&Service{Kind: "command", MetricsURL: "http://h:2/m"}, "http://h:1"); got != "http://h:2/m" {
		t.Errorf("metrics_url %q", got)
	}
	off, err := Parse("s.toml", []byte(minimal+"[monitoring]\nscrape = false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if off.MetricsURL(&off.Services[0], "http://h:1") != "" {
		t.Errorf("scrape = false still scrapes: %+v", off.Monitoring)
	}
}

func TestMonitoringValidation(t *testing.T) {
	src := minimal + `
[monitoring]
scrape_interval = "10ms"
listen = "9464"
pushgateway = "localhost:9091"
`
	src = strings.Replace(src, `kind = "emulator"`, "kind = \"emulator\"\nmetrics_url = \"ftp://x\"", 1)
	_, err := Parse("s.toml", []byte(src))
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	text := ps.Error()
	for _, want := range []string{
		`s.toml:7: service "llm": metrics_url "ftp://x" must start with http://`,
		`s.toml:13: monitoring.scrape_interval: 10ms is below the minimum 100ms`,
		`s.toml:14: monitoring.listen "9464": want host:port`,
		`s.toml:15: monitoring.pushgateway "localhost:9091" must start with http://`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("problems do not say %q:\n%s", want, text)
		}
	}
}
