package analysis

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// promqlRun writes a results directory with one case: 40 requests of
// 100 ms with 10 output tokens, scheduled every 50 ms from 1 s (measured
// window 1 s to 3.05 s), and the PromQL series of two GPUs (gpu 0 at
// 100 W and 40% utilisation, gpu 1 at 200 W and 90% from 2 s on) and one
// node, every 0.5 s from 0 to 4 s. queries are the queries the manifest
// says ran; failed marks them all failed with no points written.
func promqlRun(t *testing.T, queries map[string]string, failed bool) string {
	t.Helper()
	dir := t.TempDir()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	info := results.CaseInfo{ID: "chat/users=4", Benchmark: "chat", Kind: "openai", Status: results.StatusDone,
		Samples: results.SamplePath("chat/users=4"), Start: start, Repetitions: 1}
	os.MkdirAll(filepath.Join(dir, results.SamplesDir), 0o755)
	sw, err := results.CreateSampleFile(filepath.Join(dir, info.Samples))
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	for i := range n {
		at := time.Second + time.Duration(i)*50*time.Millisecond
		sw.Write(&results.Sample{Seq: int64(i), Scheduled: at, Sent: at, FirstToken: at + 40*time.Millisecond,
			LastToken: at + 100*time.Millisecond, Done: at + 100*time.Millisecond, OutputTokens: 10})
	}
	sw.Close()
	info.RecordSamples(info.Samples, n)
	tf := results.TelemetryFile{Source: "promql", Kind: results.TelemetryPromQL, URL: "http://prom:9090",
		Path: results.TelemetryPath(info.ID, "promql"), Start: start, Queries: queries, Attempts: len(queries), Step: 500 * time.Millisecond}
	pw, err := results.CreatePointFile(filepath.Join(dir, tf.Path))
	if err != nil {
		t.Fatal(err)
	}
	gpu := func(i string) map[string]string {
		return map[string]string{"gpu": i, "UUID": "GPU-" + i, "Hostname": "n1", "modelName": "H100", "DCGM_FI_DRIVER_VERSION": "550.54.15", "__name__": "X"}
	}
	node := map[string]string{"instance": "n1:9100"}
	for k := 0; k <= 8 && !failed; k++ {
		ts := time.Duration(k) * 500 * time.Millisecond
		s := ts.Seconds()
		util1 := 10.0
		if s >= 2 {
			util1 = 90
		}
		pw.Write(
			results.Point{T: ts, Metric: "gpu_util", Labels: gpu("0"), Value: 40},
			results.Point{T: ts, Metric: "gpu_util", Labels: gpu("1"), Value: util1},
			results.Point{T: ts, Metric: "gpu_power", Labels: gpu("0"), Value: 100},
			results.Point{T: ts, Metric: "gpu_power", Labels: gpu("1"), Value: 200},
			results.Point{T: ts, Metric: "gpu_temp", Labels: gpu("0"), Value: 40 + s},
			results.Point{T: ts, Metric: "gpu_fb_used", Labels: gpu("0"), Value: 1024},
			results.Point{T: ts, Metric: "gpu_fb_free", Labels: gpu("0"), Value: 3072},
			results.Point{T: ts, Metric: "gpu_energy", Labels: gpu("0"), Value: 5e9 + 100*s*1e3},
			results.Point{T: ts, Metric: "gpu_energy", Labels: gpu("1"), Value: 7e9 + 200*s*1e3},
			results.Point{T: ts, Metric: "node_cpu_busy", Labels: node, Value: 0.5},
			results.Point{T: ts, Metric: "node_memory_used", Labels: node, Value: 8 << 30},
		)
	}
	pw.Close()
	tf.Points, _ = pw.Count()
	if failed {
		tf.Failures, tf.Error = len(queries), "query gpu_util: Post \"http://prom:9090/api/v1/query_range\": connection refused"
	}
	info.Telemetry = []results.TelemetryFile{tf}
	m := &results.Manifest{Version: 1, Suite: "s", Start: start, End: start.Add(time.Minute), Cases: []results.CaseInfo{info}}
	if err := results.WriteJSONAtomic(filepath.Join(dir, results.ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	return dir
}

var testGPUQueries = map[string]string{"gpu_util": "U", "gpu_power": "P", "gpu_temp": "T", "gpu_fb_used": "F",
	"gpu_fb_free": "FF", "gpu_energy": "E", "node_cpu_busy": "C", "node_memory_used": "M", "node_network_receive": "R"}

func TestGPUTable(t *testing.T) {
	c := summarizeOne(t, promqlRun(t, testGPUQueries, false))
	tel := c.Telemetry
	if tel == nil || len(tel.GPUs) != 2 || len(tel.Nodes) != 1 {
		t.Fatalf("telemetry %+v", tel)
	}
	g0, g1 := tel.GPUs[0], tel.GPUs[1]
	if g0.GPU != "0" || g0.Host != "n1" || g0.UUID != "GPU-0" || g0.Model != "H100" || g0.Driver != "550.54.15" || g1.GPU != "1" {
		t.Errorf("identities %+v %+v", g0, g1)
	}
	// Two cases on the same GPUs, one on other GPUs, one without telemetry.
	other := Case{Telemetry: &Telemetry{GPUs: []GPUFigures{{Host: "n2", GPU: "0", Model: "A100"}}}}
	inv := GPUInventories([]Case{c, c, other, {}})
	if len(inv) != 2 || inv[0] != (GPUInventory{Host: "n1", Model: "H100", Driver: "550.54.15", Count: 2}) ||
		inv[1] != (GPUInventory{Host: "n2", Model: "A100", Count: 1}) {
		t.Errorf("inventory %+v", inv)
	}
	if inv := GPUInventories([]Case{{}}); inv != nil {
		t.Errorf("no telemetry: inventory %+v, want none", inv)
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	// The window [1, 3.05] holds the steps 1, 1.5, 2, 2.5, 3.
	near("gpu 0 util mean", g0.Util.Mean, 0.4)
	near("gpu 1 util peak", g1.Util.Peak, 0.9)
	near("gpu 1 util mean", g1.Util.Mean, (0.1*2+0.9*3)/5)
	near("gpu 0 temperature peak", g0.Temperature.Peak, 43)
	near("gpu 0 memory peak", g0.MemoryUsed.Peak, 1<<30)
	near("gpu 0 memory total", *g0.MemoryTotal, 4<<30)
	near("gpu 1 power mean", g1.Power.Mean, 200)
	// 100 W and 200 W over the 2.05 s window, interpolated between steps.
	near("gpu 0 energy", *g0.Energy, 100*2.05)
	near("gpu 1 energy", *g1.Energy, 200*2.05)
	near("energy", *tel.Energy, 300*2.05)
	near("energy per output token", *tel.EnergyPerOutputToken, 300*2.05/400)
	n := tel.Nodes[0]
	if n.Instance != "n1:9100" || n.CPUBusy.Mean != 0.5 || n.MemoryUsed.Peak != 8<<30 || n.NetReceive != nil {
		t.Errorf("node %+v", n)
	}
	if w := strings.Join(c.Warnings, "\n"); !strings.Contains(w, "no series from node_network_receive over the case") {
		t.Errorf("a query without series is not named: %q", w)
	}
	if c.Verdict == "error" {
		t.Errorf("verdict %s", c.Verdict)
	}
}

// TestGPUTablePrometheusDown: every query failed; the case is summarised
// with a warning and no GPU figure (never zeros).
func TestGPUTablePrometheusDown(t *testing.T) {
	c := summarizeOne(t, promqlRun(t, testGPUQueries, true))
	if c.Telemetry == nil || c.Telemetry.GPUs != nil || c.Telemetry.Energy != nil || c.Telemetry.EnergyPerOutputToken != nil {
		t.Fatalf("figures from nothing: %+v", c.Telemetry)
	}
	w := strings.Join(c.Warnings, "\n")
	if !strings.Contains(w, "9 of 9 attempts failed") || !strings.Contains(w, "connection refused") {
		t.Errorf("warnings %q", w)
	}
	if c.Metrics[MetricTTFT].Count != 40 || c.Verdict == "error" {
		t.Errorf("the case itself suffered: %s %+v", c.Verdict, c.Metrics[MetricTTFT])
	}
}

func TestCounterAt(t *testing.T) {
	pts := []tpoint{{0, 10}, {1, 20}, {2, 5}, {3, 15}} // a reset at 2: +5
	for _, c := range []struct{ t, want float64 }{{-1, 0}, {0, 0}, {0.5, 5}, {1, 10}, {1.5, 12.5}, {2, 15}, {2.5, 20}, {3, 25}, {9, 25}} {
		if got := counterAt(pts, c.t); got != c.want {
			t.Errorf("counterAt(%v) = %v, want %v", c.t, got, c.want)
		}
	}
}

// TestTimelineSeries: the timeline's telemetry series aggregate as the
// tables do (GPU utilisation averaged, power summed; waiting summed, KV
// cache the highest), over the whole case.
func TestTimelineSeries(t *testing.T) {
	_, raws, err := SummarizeDir(promqlRun(t, testGPUQueries, false), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := raws["chat/users=4"].Telemetry
	if ts == nil || len(ts.GPUUtil) != 9 || len(ts.GPUPower) != 9 || len(ts.Waiting) != 0 {
		t.Fatalf("series %+v", ts)
	}
	if p := ts.GPUUtil[0]; p.T != 0 || math.Abs(p.V-0.25) > 1e-12 {
		t.Errorf("util at 0 = %+v, want the mean of 40%% and 10%%", p)
	}
	if p := ts.GPUUtil[8]; p.T != 4 || math.Abs(p.V-0.65) > 1e-12 {
		t.Errorf("util at 4 s = %+v, want the mean of 40%% and 90%%", p)
	}
	if p := ts.GPUPower[3]; p.T != 1.5 || p.V != 300 {
		t.Errorf("power at 1.5 s = %+v, want 300 W (summed)", p)
	}
	_, raws, err = SummarizeDir(telemetryRun(t, 40, 0.01, func(i int) float64 { return float64(i) }), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts = raws["chat/users=4"].Telemetry
	if ts == nil || len(ts.Waiting) == 0 || len(ts.KVCache) != len(ts.Waiting) || ts.GPUUtil != nil {
		t.Fatalf("scraped series %+v", ts)
	}
	if p := ts.Waiting[2]; math.Abs(p.T-(2-0.005)) > 1e-9 || p.V != 2 {
		t.Errorf("waiting at the third scrape = %+v, want 2 at 1.995 s (the scraper started 5 ms early)", p)
	}
}

// TestEnergyNotFromPartialSeries: gpu 1's energy counter has no point
// after 2 s (its exporter died, a target down): its increase over the
// measured window [1, 3.05] cannot be known. Before, the counter was
// clamped to its points and gave 200 J for 410, so the energy per output
// token looked half as large; now gpu 1 and the run's total have no
// energy figure, and a warning says why. gpu 0's is unchanged.
func TestEnergyNotFromPartialSeries(t *testing.T) {
	dir := promqlRun(t, testGPUQueries, false)
	editTelemetry(t, dir, func(p results.Point) bool {
		return !(p.Metric == "gpu_energy" && p.Labels["gpu"] == "1" && p.T > 2*time.Second)
	}, nil)
	c := summarizeOne(t, dir)
	tel := c.Telemetry
	if tel == nil || len(tel.GPUs) != 2 {
		t.Fatalf("telemetry %+v", tel)
	}
	if e := tel.GPUs[0].Energy; e == nil || math.Abs(*e-100*2.05) > 1e-6 {
		t.Errorf("gpu 0 energy %v, want %v", e, 100*2.05)
	}
	if e := tel.GPUs[1].Energy; e != nil {
		t.Errorf("gpu 1 energy %v from a series that ends at 2 s", *e)
	}
	if tel.Energy != nil || tel.EnergyPerOutputToken != nil {
		t.Errorf("energy %v, per token %v: want none without gpu 1's", tel.Energy, tel.EnergyPerOutputToken)
	}
	if w := strings.Join(c.Warnings, "\n"); !strings.Contains(w, "gpu_energy") || !strings.Contains(w, "does not cover the measured window") {
		t.Errorf("warnings %q do not say why there is no energy", w)
	}
}

// TestNonFiniteValuesNamed: values a query or scrape gave as NaN or ±Inf
// are not stored (JSON has no such numbers); the figures come from the
// others, and a warning says how many were left out, so a query that
// gave only NaN does not read as one that matched nothing.
func TestNonFiniteValuesNamed(t *testing.T) {
	dir := promqlRun(t, testGPUQueries, false)
	editTelemetry(t, dir, nil, func(tf *results.TelemetryFile) { tf.Skipped = 9 })
	c := summarizeOne(t, dir)
	if w := strings.Join(c.Warnings, "\n"); !strings.Contains(w, "9 values were not finite") {
		t.Errorf("warnings %q do not name the non-finite values", w)
	}
	if c.Telemetry == nil || len(c.Telemetry.GPUs) != 2 {
		t.Errorf("figures from the finite values: %+v", c.Telemetry)
	}
}

// TestPromQLWarningsNamed: Prometheus's warnings with its answers (a
// partial response) are the case's warnings: the figures from those
// answers may cover less than they say.
func TestPromQLWarningsNamed(t *testing.T) {
	dir := promqlRun(t, testGPUQueries, false)
	editTelemetry(t, dir, nil, func(tf *results.TelemetryFile) {
		tf.Warnings = []string{"query gpu_energy: partial response: store 10.0.0.2:10901 unreachable"}
	})
	c := summarizeOne(t, dir)
	if w := strings.Join(c.Warnings, "\n"); !strings.Contains(w, "may be incomplete") || !strings.Contains(w, "query gpu_energy: partial response") {
		t.Errorf("warnings %q do not give Prometheus's warning", w)
	}
}
