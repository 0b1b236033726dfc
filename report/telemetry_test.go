package report

import (
	"bytes"
	"encoding/json"
	"math"
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
		},
		GPUs: []analysis.GPUFigures{
			{Host: "gpu01", GPU: "0", UUID: "GPU-a", Model: "NVIDIA H100 80GB HBM3", Util: &analysis.Gauge{Peak: 0.97, Mean: 0.82, N: 60},
				MemoryUsed: &analysis.Gauge{Peak: 73400 << 20, Mean: 73300 << 20, N: 60}, MemoryTotal: f(81047 << 20),
				Temperature: &analysis.Gauge{Peak: 71, Mean: 66, N: 60}, Power: &analysis.Gauge{Peak: 612.5, Mean: 540.25, N: 60}, Energy: f(32415)},
			{Host: "gpu01", GPU: "1", Util: &analysis.Gauge{Peak: 0.95, Mean: 0.8, N: 60}, Power: &analysis.Gauge{Peak: 600, Mean: 530, N: 60}, Energy: f(31800)},
		},
		Nodes: []analysis.NodeFigures{{Instance: "gpu01:9100", CPUBusy: &analysis.Gauge{Peak: 0.42, Mean: 0.3, N: 60},
			MemoryUsed: &analysis.Gauge{Peak: 12 << 30, Mean: 11 << 30, N: 60}, NetReceive: &analysis.Gauge{Peak: 2 << 20, Mean: 1 << 20, N: 60}}},
		Energy: f(64215), EnergyPerOutputToken: f(22.3),
	}
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
		"<h3>GPUs (PromQL over each case)</h3>",
		`<td class="num">82% / 97%</td>`,
		`<td class="num">22.3 J/token</td>`,
		"<h3>Nodes (PromQL over each case)</h3>",
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

// TestTimelineChartGolden pins the timeline chart of one case: client
// throughput and latency from the samples' bins, the server's queue and
// KV cache, the GPUs' utilisation and power, on one time axis.
func TestTimelineChartGolden(t *testing.T) {
	nan := math.NaN()
	ts := analysis.Series{Width: 1, T: []float64{0, 1, 2}, OutputTokens: []float64{100, 350.5, 90},
		LatencyP50: []float64{0.25, 0.3125, nan}, Completed: []float64{3, 10, 2}, Errors: []float64{0, 0, 0}, InFlight: []float64{4, 4, 1}}
	tel := &analysis.TelemetrySeries{
		Waiting:  []analysis.TimePoint{{T: 0.1, V: 0}, {T: 1.1, V: 3}, {T: 2.1, V: 0}},
		KVCache:  []analysis.TimePoint{{T: 0.1, V: 0.25}, {T: 1.1, V: 1}, {T: 2.1, V: 0.0625}},
		GPUUtil:  []analysis.TimePoint{{T: 0, V: 0.5}, {T: 0.5, V: 0.95}, {T: 1, V: 0.97}, {T: 1.5, V: 0.96}, {T: 2, V: 0.4}},
		GPUPower: []analysis.TimePoint{{T: 0, V: 300}, {T: 0.5, V: 1200.25}, {T: 1, V: 1310}, {T: 1.5, V: 1290}, {T: 2, V: 500}},
	}
	c := &analysis.Case{ID: "chat/users=16", Params: map[string]string{"users": "16"}}
	spec := timelineChart("b0-timeline-1", c, ts, tel)
	if spec == nil || spec.ID != "b0-timeline-1" || !spec.Wide {
		t.Fatalf("spec %+v", spec)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, spec.Option, "", "  "); err != nil {
		t.Fatal(err)
	}
	b.WriteByte('\n')
	golden(t, "telemetry/timeline.json", b.Bytes())
	if timelineChart("x", c, analysis.Series{}, tel) != nil {
		t.Error("a timeline without client series")
	}
	// Without telemetry: the client's series only, no empty server lines.
	bare := string(timelineChart("x", c, ts, nil).Option)
	if strings.Contains(bare, "(server)") || strings.Contains(bare, "GPU power") || !strings.Contains(bare, "output tokens/s (client)") {
		t.Errorf("client-only timeline: %s", bare)
	}
}
