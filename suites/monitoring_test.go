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

func TestPromQLQueries(t *testing.T) {
	s, err := Parse("s.toml", []byte(minimal+"[monitoring]\nprometheus = \"http://p:9090\"\ngpu = true\nnode = true\n  [monitoring.queries]\n  gpu_power = \"sum(DCGM_FI_DEV_POWER_USAGE)\"\n  mine = \"up\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	q := s.Monitoring.PromQLQueries()
	if len(q) != len(GPUQueries)+len(NodeQueries)+1 || q["gpu_power"] != "sum(DCGM_FI_DEV_POWER_USAGE)" || q["mine"] != "up" ||
		q["gpu_util"] != "DCGM_FI_DEV_GPU_UTIL" || q["node_memory_used"] == "" {
		t.Errorf("queries %v", q)
	}
	if time.Duration(s.Monitoring.QueryStep) != time.Second {
		t.Errorf("query_step default %v", s.Monitoring.QueryStep)
	}
	none, err := Parse("s.toml", []byte(minimal+"[monitoring]\nprometheus = \"http://p:9090\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if q := none.Monitoring.PromQLQueries(); q != nil {
		t.Errorf("prometheus without gpu, node or queries runs %v", q)
	}
}

func TestPromQLValidation(t *testing.T) {
	src := minimal + `
[monitoring]
query_step = "1ms"
gpu = true
node = true
  [monitoring.queries]
  "gpu util" = "DCGM_FI_DEV_GPU_UTIL"
  empty = " "
`
	_, err := Parse("s.toml", []byte(src))
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems, got %v", err)
	}
	text := ps.Error()
	for _, want := range []string{
		`monitoring.query_step: 1ms is below the minimum 100ms`,
		`monitoring.gpu needs monitoring.prometheus`,
		`monitoring.node needs monitoring.prometheus`,
		`monitoring.queries needs monitoring.prometheus`,
		`monitoring.queries: name "gpu util"`,
		`monitoring.queries.empty is empty`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("problems do not say %q:\n%s", want, text)
		}
	}
	if _, err := Parse("s.toml", []byte(minimal+"[monitoring]\nprometheus = \"p:9090\"\n")); err == nil || !strings.Contains(err.Error(), `monitoring.prometheus "p:9090" must start with http://`) {
		t.Errorf("prometheus without scheme: %v", err)
	}
}
