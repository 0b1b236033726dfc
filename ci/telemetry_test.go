package ci

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// monitoredSuite writes the short demo suite with a [monitoring] table
// (and service keys) appended.
func monitoredSuite(t *testing.T, dir, serviceKeys, monitoring string) string {
	t.Helper()
	// Timing thresholds off: these tests share two cores with others.
	path := copySuite(t, dir, "suite.toml", `model = "demo-model"`, `model = "demo-model"`+"\n"+serviceKeys,
		`thresholds = ["ttft.p95 < 500ms", "error_rate < 1%", "output_tokens_per_second > 100"]`, `thresholds = ["error_rate < 1%"]`)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n[monitoring]\n" + monitoring + "\n"); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestScrapedTelemetryEndToEnd: a run against the vLLM emulator scrapes
// its /metrics during every case; the manifest lists each series file,
// the summary has the server's own TTFT and E2E beside the client's with
// the overhead, and the reports show them.
func TestScrapedTelemetryEndToEnd(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	suite := monitoredSuite(t, work, "", `scrape_interval = "200ms"`)
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
		if len(c.Telemetry) != 1 {
			t.Fatalf("case %s: telemetry %+v, want one scraped file", c.ID, c.Telemetry)
		}
		tf := c.Telemetry[0]
		if tf.Kind != results.TelemetryScrape || tf.Points == 0 || tf.Failures != 0 || tf.Attempts < 5 || !strings.HasSuffix(tf.URL, "/metrics") {
			t.Errorf("case %s: %+v: want ≥5 scrapes (2.5 s at 200 ms), no failure", c.ID, tf)
		}
		nonEmpty(t, filepath.Join(out, tf.Path))
	}
	s, err := analysis.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Cases {
		if c.Telemetry == nil || c.Telemetry.Server == nil || c.Telemetry.Server.TTFT == nil || c.Telemetry.Server.E2E == nil {
			t.Fatalf("case %s: no server figures: %+v", c.ID, c.Telemetry)
		}
		srv := c.Telemetry.Server
		ttft := c.Metrics[analysis.MetricTTFT]
		// The server saw at least the client's measured requests (and the
		// warm-up's); its TTFT starts after the client's send, so it is
		// no longer than the client's, give or take the jitter of a shared
		// machine.
		if srv.TTFT.Count < float64(ttft.Count) || srv.TTFT.ClientMean != ttft.Mean ||
			math.Abs(srv.TTFT.Overhead-(ttft.Mean-srv.TTFT.Mean)) > 1e-12 || srv.TTFT.Mean <= 0 || srv.TTFT.Mean > 1.5*ttft.Mean {
			t.Errorf("case %s: server ttft %+v vs client mean %v over %d requests", c.ID, srv.TTFT, ttft.Mean, ttft.Count)
		}
		if srv.Running == nil || srv.Running.Peak < 1 || srv.GenerationTokens == nil || *srv.GenerationTokens <= 0 {
			t.Errorf("case %s: gauges/counters %+v", c.ID, srv)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if !strings.Contains(string(md), "### Server side") || !strings.Contains(string(html), "ttft overhead") {
		t.Error("the reports do not show the server-side table")
	}
}

// TestScrapeUnreachableWarns: a metrics endpoint that does not answer is
// a warning on every case; the run completes and passes on its own
// numbers.
func TestScrapeUnreachableWarns(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	suite := monitoredSuite(t, work, `metrics_url = "http://127.0.0.1:1/metrics"`, `scrape_interval = "500ms"`)
	out := filepath.Join(work, "out")
	r := runBin(t, work, binEnv(), "suite", suite, "-o", out, "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d: an unreachable metrics endpoint must not fail the run\n%v", r.code, r)
	}
	s, err := analysis.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range s.Cases {
		if c.Telemetry == nil || c.Telemetry.Server != nil {
			t.Errorf("case %s: telemetry %+v: want the source listed, no figures", c.ID, c.Telemetry)
		}
		if !strings.Contains(strings.Join(c.Warnings, "\n"), "attempts failed") {
			t.Errorf("case %s: warnings %q do not say the scrapes failed", c.ID, c.Warnings)
		}
	}
}

// TestPromQLUnreachableWarns: a Prometheus server that does not answer is
// a warning on every case, naming the queries that gave nothing; the run
// completes and passes on its own numbers, with no GPU figure.
func TestPromQLUnreachableWarns(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	suite := monitoredSuite(t, work, "", `prometheus = "http://127.0.0.1:1"`+"\nquery_step = \"200ms\"\ngpu = true\nnode = true")
	out := filepath.Join(work, "out")
	r := runBin(t, work, binEnv(), "suite", suite, "-o", out, "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d: an unreachable Prometheus must not fail the run\n%v", r.code, r)
	}
	m, err := results.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	s, err := analysis.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range s.Cases {
		var tf *results.TelemetryFile
		for k := range m.Cases[i].Telemetry {
			if m.Cases[i].Telemetry[k].Kind == results.TelemetryPromQL {
				tf = &m.Cases[i].Telemetry[k]
			}
		}
		if tf == nil || tf.Attempts != 10 || tf.Failures != 10 || tf.Points != 0 {
			t.Fatalf("case %s: PromQL entry %+v, want 10 failed queries", c.ID, tf)
		}
		if c.Telemetry == nil || c.Telemetry.GPUs != nil || c.Telemetry.Energy != nil {
			t.Errorf("case %s: telemetry %+v: want no GPU figures", c.ID, c.Telemetry)
		}
		w := strings.Join(c.Warnings, "\n")
		if !strings.Contains(w, "10 of 10 attempts failed") || !strings.Contains(w, "no series from gpu_energy, gpu_fb_free") {
			t.Errorf("case %s: warnings %q do not say the queries failed", c.ID, c.Warnings)
		}
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	if strings.Contains(string(md), "### GPUs") || !strings.Contains(string(md), "attempts failed") {
		t.Error("report.md shows a GPU table from nothing, or not the warning")
	}
}
