package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/emulate"
	"github.com/benchrun/benchrun/runner/live"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

// The Grafana dashboard shipped in examples/grafana/benchrun.json
// (docs/monitoring.md, "Grafana") is checked against the code: its
// structure, every metric name in its PromQL against what benchrun's live
// registry and the vLLM emulator expose, and — with Prometheus installed —
// every query evaluated by a real Prometheus scraping both.

const dashboardFile = "examples/grafana/benchrun.json"

type dashboard struct {
	Title         string `json:"title"`
	UID           string `json:"uid"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashPanel `json:"panels"`
}

type dashPanel struct {
	ID         int                       `json:"id"`
	Type       string                    `json:"type"`
	Title      string                    `json:"title"`
	Datasource map[string]string         `json:"datasource"`
	GridPos    *struct{ H, W, X, Y int } `json:"gridPos"`
	Targets    []struct {
		RefID      string            `json:"refId"`
		Expr       string            `json:"expr"`
		Datasource map[string]string `json:"datasource"`
	} `json:"targets"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// promqlNames returns the metric names an expression selects: identifiers
// left once strings, label matchers, ranges, grouping clauses and function
// calls are taken out.
func promqlNames(expr string) []string {
	for _, re := range []string{`"(\\.|[^"\\])*"`, `\{[^}]*\}`, `\[[^\]]*\]`, `\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`} {
		expr = regexp.MustCompile(re).ReplaceAllString(expr, " ")
	}
	keywords := map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true,
		"group_left": true, "group_right": true}
	var names []string
	for _, m := range regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*\s*\(?`).FindAllString(expr, -1) {
		m = strings.TrimSpace(m)
		if strings.HasSuffix(m, "(") || keywords[strings.ToLower(m)] {
			continue
		}
		names = append(names, m)
	}
	return names
}

func TestPromqlNames(t *testing.T) {
	got := promqlNames(`histogram_quantile(0.95, sum by (le, case) (rate(vllm:e2e_request_latency_seconds_bucket{model_name=~"$model", x="a}b"}[$__rate_interval]))) / on (instance) group_left up and sum(benchrun_requests_total)`)
	if want := []string{"vllm:e2e_request_latency_seconds_bucket", "up", "benchrun_requests_total"}; !slices.Equal(got, want) {
		t.Errorf("promqlNames = %q, want %q", got, want)
	}
}

// scrapedNames returns the sample names a scrape of url shows (a
// histogram as NAME_bucket, NAME_sum and NAME_count).
func scrapedNames(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := expfmt.SampleDecoder{Dec: expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header)), Opts: &expfmt.DecodeOptions{}}
	names := map[string]bool{}
	for {
		var v model.Vector
		if err := dec.Decode(&v); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		for _, s := range v {
			names[string(s.Metric[model.MetricNameLabel])] = true
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s exposes no metrics", url)
	}
	return names
}

// liveRegistry returns benchrun's live metrics of suite "s" with every
// series present: a case running, one ok, one failed and one warm-up
// sample observed.
func liveRegistry() *live.Metrics {
	m := live.New("s")
	m.StartCase("chat", &runner.Progress{})
	m.Observe("chat", &results.Sample{Sent: time.Millisecond, FirstToken: 20 * time.Millisecond, Done: 40 * time.Millisecond, InputTokens: 8, OutputTokens: 4})
	m.Observe("chat", &results.Sample{Sent: time.Millisecond, Done: 2 * time.Millisecond, Error: "http_5xx"})
	m.Observe("chat", &results.Sample{Warmup: true})
	return m
}

// emulatorServer serves a vLLM emulator that has answered one request.
func emulatorServer(t *testing.T) *httptest.Server {
	t.Helper()
	o := emulate.DefaultOptions(emulate.FlavorVLLM)
	o.Model, o.PrefillBase, o.DecodeBase = "dash-model", time.Millisecond, time.Millisecond
	em, err := emulate.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(em.NewServer().Handler)
	t.Cleanup(func() { em.Close(); srv.Close() })
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"dash-model","messages":[{"role":"user","content":"hi"}],"max_tokens":4}`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return srv
}

func TestGrafanaDashboard(t *testing.T) {
	d := loadDashboard(t)
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 30 {
		t.Errorf("title %q, uid %q, schemaVersion %d: want a title, a uid and a current schema version", d.Title, d.UID, d.SchemaVersion)
	}
	dsVar := ""
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && v.Query == "prometheus" {
			dsVar = v.Name
		}
	}
	if dsVar == "" {
		t.Fatal("no Prometheus datasource variable in templating.list")
	}
	ref := "${" + dsVar + "}"
	ids := map[int]bool{}
	var exprs []string
	for _, p := range d.Panels {
		if ids[p.ID] || p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("panel %q: id %d repeated or no gridPos", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || len(p.Targets) == 0 || p.Datasource["uid"] != ref || p.Datasource["type"] != "prometheus" {
			t.Errorf("panel %q: want a title, targets and the datasource %s, got %d targets, %v", p.Title, ref, len(p.Targets), p.Datasource)
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" || tg.RefID == "" || tg.Datasource["uid"] != ref {
				t.Errorf("panel %q: target %+v: want expr, refId and the datasource variable", p.Title, tg)
			}
			exprs = append(exprs, tg.Expr)
		}
	}

	liveSrv := httptest.NewServer(promhttp.HandlerFor(liveRegistry().Registry(), promhttp.HandlerOpts{}))
	defer liveSrv.Close()
	exposed := scrapedNames(t, liveSrv.URL)
	for n := range scrapedNames(t, emulatorServer(t).URL+"/metrics") {
		exposed[n] = true
	}
	used := map[string]bool{}
	for _, e := range exprs {
		for _, n := range promqlNames(e) {
			used[n] = true
			if !exposed[n] {
				t.Errorf("the dashboard queries %s, which neither benchrun's live metrics nor the vLLM emulator expose (in %s)", n, e)
			}
		}
	}
	// The dashboard shows both sides, each in full.
	for _, want := range []string{"benchrun_requests_total", "benchrun_requests_in_flight", "benchrun_request_duration_seconds_bucket",
		"benchrun_time_to_first_token_seconds_bucket", "benchrun_tokens_total", "benchrun_generator_lag_seconds_bucket",
		"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc", "vllm:time_to_first_token_seconds_bucket",
		"vllm:e2e_request_latency_seconds_bucket", "vllm:generation_tokens_total"} {
		if !used[want] {
			t.Errorf("the dashboard has no panel for %s", want)
		}
	}
}

// TestGrafanaQueriesInPrometheus evaluates every query of the dashboard,
// its variables set as a user's "All" would, in a real Prometheus that
// scrapes benchrun's live metrics and the vLLM emulator: each must parse
// and return series.
func TestGrafanaQueriesInPrometheus(t *testing.T) {
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but prometheus is not installed (.ci/deps.sh installs it)")
		}
		t.Skip("SKIPPING: prometheus not installed (Debian package prometheus; .ci/deps.sh installs it)")
	}
	m := liveRegistry()
	liveSrv := httptest.NewServer(promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{}))
	defer liveSrv.Close()
	llm := emulatorServer(t)
	port, err := suites.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	host := func(u string) string { p, _ := url.Parse(u); return p.Host }
	cfg := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("global: {scrape_interval: 100ms}\nscrape_configs:\n  - job_name: benchrun\n    static_configs: [{targets: [%q]}]\n  - job_name: vllm\n    static_configs: [{targets: [%q]}]\n",
		host(liveSrv.URL), host(llm.URL))), 0o644)
	cmd := exec.Command(prom, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	query := func(q string) (n int, err error) {
		resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var r struct {
			Status, Error string
			Data          struct{ Result []json.RawMessage }
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return 0, err
		}
		if r.Status != "success" {
			return 0, fmt.Errorf("%s", r.Error)
		}
		return len(r.Data.Result), nil
	}
	// Two seconds of scrapes of both targets, with load between them, so
	// that rates and increases have points to work with.
	deadline := time.Now().Add(20 * time.Second)
	for {
		n, _ := query(`count_over_time(up{job=~"benchrun|vllm"}[1m]) > 20`)
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus did not scrape both targets for 2 s in 20 s\n%s", log.String())
		}
		m.Observe("chat", &results.Sample{Sent: time.Millisecond, FirstToken: 30 * time.Millisecond, Done: 50 * time.Millisecond, InputTokens: 8, OutputTokens: 4})
		http.Post(llm.URL+"/v1/completions", "application/json", strings.NewReader(`{"model":"dash-model","prompt":"hi","max_tokens":2}`))
		time.Sleep(100 * time.Millisecond)
	}
	vars := strings.NewReplacer("$__rate_interval", "10s", "$suite", ".*", "$model", ".*")
	for _, p := range loadDashboard(t).Panels {
		for _, tg := range p.Targets {
			q := vars.Replace(tg.Expr)
			n, err := query(q)
			switch {
			case err != nil:
				t.Errorf("panel %q: %s: %v", p.Title, q, err)
			case n == 0:
				t.Errorf("panel %q: %s returns no series", p.Title, q)
			}
		}
	}
}
