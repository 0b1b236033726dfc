package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// withTelemetry is the nightly fixture with server figures on two cases,
// one of them partial (an endpoint without the queue histogram).
func withTelemetry(t *testing.T) *Input {
	in := load(t, "nightly")
	f := func(v float64) *float64 { return &v }
	in.Summary.Cases[0].Telemetry = &analysis.Telemetry{
		Sources: []analysis.TelemetrySource{{Source: "llm", Kind: "scrape", URL: "http://node1:8000/metrics", Points: 1200, Attempts: 60}},
		Server: &analysis.ServerFigures{
			TTFT:    &analysis.ServerLatency{Count: 120, Mean: 0.041, P50: 0.04, P95: 0.06, ClientMean: 0.0523, Overhead: 0.0113},
			E2E:     &analysis.ServerLatency{Count: 120, Mean: 0.301, P50: 0.3, P95: 0.45, ClientMean: 0.3127, Overhead: 0.0117},
			Queue:   &analysis.ServerLatency{Count: 120, Mean: 0.0004},
			Running: &analysis.Gauge{Peak: 1, Mean: 0.98, N: 60}, Waiting: &analysis.Gauge{Peak: 0, Mean: 0, N: 60},
			KVCache: &analysis.Gauge{Peak: 0.031, Mean: 0.02, N: 60}, PrefixCacheHitRate: f(0.25), Preemptions: f(0), GenerationTokens: f(2880),
		}}
	in.Summary.Cases[1].Telemetry = &analysis.Telemetry{
		Server: &analysis.ServerFigures{
			TTFT:    &analysis.ServerLatency{Count: 200, Mean: 0.07, ClientMean: 0.083, Overhead: 0.013},
			Waiting: &analysis.Gauge{Peak: 3, Mean: 0.5, N: 50}}}
	return in
}

func TestTelemetryGolden(t *testing.T) {
	in := withTelemetry(t)
	golden(t, "telemetry/report.md", render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteMarkdown(b, in) }))
	html := string(render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteHTML(b, in) }))
	for _, want := range []string{
		"<h3>Server side (the service&#39;s /metrics over each case)</h3>",
		"<th>ttft overhead</th>",
		`<td>users=1</td><td class="num">41 ms</td><td class="num">52.3 ms</td><td class="num">11.3 ms</td>`,
		`<td class="num">3 / 0.5</td>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
}

// TestNoTelemetryNoTable: a run without telemetry shows no server-side
// table, rather than one of dashes or zeros.
func TestNoTelemetryNoTable(t *testing.T) {
	md := string(render(t, load(t, "nightly"), func(b *bytes.Buffer, in *Input) error { return WriteMarkdown(b, in) }))
	if strings.Contains(md, "Server side") {
		t.Fatal("a server-side table without telemetry")
	}
}
