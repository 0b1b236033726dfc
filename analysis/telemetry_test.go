package analysis

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

func TestBucketQuantile(t *testing.T) {
	b := map[float64]float64{0.1: 10, 0.2: 30, 0.5: 40, math.Inf(1): 40}
	for _, tc := range []struct{ q, want float64 }{
		{0.25, 0.1},   // rank 10: the end of the first bucket
		{0.5, 0.15},   // rank 20: half way through (0.1, 0.2]
		{0.75, 0.2},   // rank 30
		{1, 0.5},      // rank 40
		{0.125, 0.05}, // rank 5: from 0 in the first bucket
	} {
		if got := bucketQuantile(tc.q, b); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("q %v: %v, want %v", tc.q, got, tc.want)
		}
	}
	// A rank in the +Inf bucket: the highest finite bound.
	if got := bucketQuantile(0.99, map[float64]float64{1: 1, math.Inf(1): 10}); got != 1 {
		t.Errorf("+Inf bucket: %v, want 1", got)
	}
	if !math.IsNaN(bucketQuantile(0.5, nil)) || !math.IsNaN(bucketQuantile(0.5, map[float64]float64{1: 0})) {
		t.Error("no observations must be NaN, not 0")
	}
}

func TestIncreaseAcrossReset(t *testing.T) {
	if got := increase([]tpoint{{0, 5}, {1, 8}, {2, 2}, {3, 4}}); got != 3+2+2 {
		t.Fatalf("increase = %v, want 7 (a reset starts from zero)", got)
	}
}

// telemetryRun writes a results directory with one case: n requests of
// 100 ms (ttft 40 ms) scheduled every 50 ms from 1 s, and a scrape every
// second from 0 to 7 s in which the server saw ttft 30 ms, e2e 90 ms and
// queue time queue per request, and waiting requests growing as waiting(i).
func telemetryRun(t *testing.T, n int, queue float64, waiting func(i int) float64) string {
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
	for i := range n {
		at := time.Second + time.Duration(i)*50*time.Millisecond
		sw.Write(&results.Sample{Seq: int64(i), Scheduled: at, Sent: at, FirstToken: at + 40*time.Millisecond,
			LastToken: at + 100*time.Millisecond, Done: at + 100*time.Millisecond, OutputTokens: 10})
	}
	sw.Close()
	info.RecordSamples(info.Samples, int64(n))
	// The scraper started 5 ms before the case's start.
	tf := results.TelemetryFile{Source: "vllm", Kind: results.TelemetryScrape, URL: "http://x/metrics",
		Path: results.TelemetryPath(info.ID, "vllm"), Start: start.Add(-5 * time.Millisecond), Attempts: 8, Failures: 1, Error: "HTTP 503"}
	pw, err := results.CreatePointFile(filepath.Join(dir, tf.Path))
	if err != nil {
		t.Fatal(err)
	}
	scrapes := int(1+float64(n)*0.05) + 2
	for i := 0; i <= scrapes; i++ {
		ts := time.Duration(i) * time.Second
		// requests done by this scrape: those scheduled up to ts − 100 ms
		done := math.Max(0, math.Min(float64(n), math.Floor((ts.Seconds()-1.1)/0.05)+1))
		if i == scrapes {
			done = float64(n)
		}
		lab := map[string]string{"model_name": "m"}
		pt := func(name string, v float64, extra ...string) results.Point {
			l := map[string]string{"model_name": "m"}
			for k := 0; k+1 < len(extra); k += 2 {
				l[extra[k]] = extra[k+1]
			}
			return results.Point{T: ts, Metric: name, Labels: l, Value: v}
		}
		pts := []results.Point{
			{T: ts, Metric: "vllm:num_requests_waiting", Labels: lab, Value: waiting(i)},
			{T: ts, Metric: "vllm:num_requests_running", Labels: lab, Value: 4},
			{T: ts, Metric: "vllm:kv_cache_usage_perc", Labels: lab, Value: 0.25 + 0.01*float64(i)},
			pt("vllm:time_to_first_token_seconds_count", 5+done), pt("vllm:time_to_first_token_seconds_sum", 1+0.03*done),
			pt("vllm:time_to_first_token_seconds_bucket", 5+done, "le", "0.04"), pt("vllm:time_to_first_token_seconds_bucket", 5+done, "le", "+Inf"),
			pt("vllm:e2e_request_latency_seconds_count", 5+done), pt("vllm:e2e_request_latency_seconds_sum", 2+0.09*done),
			pt("vllm:request_queue_time_seconds_count", done), pt("vllm:request_queue_time_seconds_sum", queue*done),
			pt("vllm:generation_tokens_total", 10*done), pt("vllm:prompt_tokens_total", 100*done),
			pt("vllm:prefix_cache_queries_total", 100*done), pt("vllm:prefix_cache_hits_total", 25*done),
			pt("vllm:num_preemptions_total", 0),
		}
		if err := pw.Write(pts...); err != nil {
			t.Fatal(err)
		}
	}
	pw.Close()
	tf.Points, _ = pw.Count()
	info.Telemetry = []results.TelemetryFile{tf}
	m := &results.Manifest{Version: 1, Suite: "s", Start: start, End: start.Add(time.Minute), Cases: []results.CaseInfo{info}}
	if err := results.WriteJSONAtomic(filepath.Join(dir, results.ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	return dir
}

func summarizeOne(t *testing.T, dir string) Case {
	t.Helper()
	s, _, err := SummarizeDir(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s.Cases[0]
}

func TestTelemetryServerFigures(t *testing.T) {
	c := summarizeOne(t, telemetryRun(t, 100, 0.001, func(int) float64 { return 0 }))
	tel := c.Telemetry
	if tel == nil || tel.Server == nil {
		t.Fatalf("no server figures: %+v", c)
	}
	srv := tel.Server
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// Only the window's requests: the 5 before it (counts at 5 from the
	// first scrape) are not in the deltas.
	near("ttft count", srv.TTFT.Count, 100)
	near("ttft mean", srv.TTFT.Mean, 0.03)
	near("ttft client mean", srv.TTFT.ClientMean, 0.04)
	near("ttft overhead", srv.TTFT.Overhead, 0.01)
	near("e2e overhead", srv.E2E.Overhead, 0.01)
	near("queue mean", srv.Queue.Mean, 0.001)
	if srv.Queue.Overhead != 0 || srv.Queue.ClientMean != 0 {
		t.Errorf("queue has no client twin: %+v", srv.Queue)
	}
	near("ttft p50 (all in the first bucket)", srv.TTFT.P50, 0.02)
	near("generation tokens", *srv.GenerationTokens, 1000)
	near("prompt tokens", *srv.PromptTokens, 10000)
	near("prefix cache hit rate", *srv.PrefixCacheHitRate, 0.25)
	near("preemptions", *srv.Preemptions, 0)
	near("running peak", srv.Running.Peak, 4)
	// Window 1 s .. 6.05 s: the scrapes at 2..6 s (shifted by -5 ms:
	// 1.995 .. 5.995 s); kv 0.25+0.01 i.
	near("kv peak", srv.KVCache.Peak, 0.31)
	near("kv mean", srv.KVCache.Mean, 0.29)
	if srv.KVCache.N != 5 {
		t.Errorf("kv scrapes in the window = %d, want 5 (1.995 s .. 5.995 s)", srv.KVCache.N)
	}
	if len(tel.Sources) != 1 || tel.Sources[0].Failures != 1 {
		t.Errorf("sources = %+v", tel.Sources)
	}
	if !strings.Contains(strings.Join(c.Warnings, "\n"), "1 of 8 attempts failed, last: HTTP 503") {
		t.Errorf("warnings %q do not say a scrape failed", c.Warnings)
	}
	for _, l := range c.Labels {
		t.Errorf("unexpected label %+v", l)
	}
}

// TestTelemetryFeedsSaturation: the scraped waiting queue and queue time
// give the saturation labels the samples alone cannot.
func TestTelemetryFeedsSaturation(t *testing.T) {
	c := summarizeOne(t, telemetryRun(t, 300, 0.08, func(i int) float64 { return float64(4 * i) }))
	tests := map[string]bool{}
	for _, l := range c.Labels {
		tests[l.Test] = true
	}
	if !tests[TestWaitingQueue] || !tests[TestServerQueue] {
		t.Fatalf("labels %+v: want waiting_queue and server_queue from the scraped series", c.Labels)
	}
	if !strings.Contains(strings.Join(c.Warnings, "\n"), "server saturated: waiting queue grew") {
		t.Errorf("warnings %q", c.Warnings)
	}
}

// TestTelemetryDamaged: a telemetry file with a line of another format,
// or fewer points than the manifest recorded, gives no figures, and says
// so.
func TestTelemetryDamaged(t *testing.T) {
	for name, damage := range map[string]func(path string){
		"other format": func(path string) {
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			fmt.Fprintln(f, `{"status":"success","data":{"result":[]}}`)
			f.Close()
		},
		"cut short": func(path string) {
			b, _ := os.ReadFile(path)
			lines := strings.SplitAfter(string(b), "\n")
			os.WriteFile(path, []byte(strings.Join(lines[:len(lines)/2], "")), 0o644)
		},
		"missing": func(path string) { os.Remove(path) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := telemetryRun(t, 100, 0.08, func(i int) float64 { return float64(4 * i) })
			damage(filepath.Join(dir, results.TelemetryPath("chat/users=4", "vllm")))
			c := summarizeOne(t, dir)
			if c.Telemetry == nil || c.Telemetry.Server != nil {
				t.Fatalf("telemetry %+v: want the source listed and no figures", c.Telemetry)
			}
			if !strings.Contains(strings.Join(c.Warnings, "\n"), "no figures from it") {
				t.Errorf("warnings %q do not say so", c.Warnings)
			}
			for _, l := range c.Labels {
				if l.Test == TestWaitingQueue || l.Test == TestServerQueue {
					t.Errorf("label from damaged telemetry: %+v", l)
				}
			}
		})
	}
}

// TestCounterAbsentFromFirstScrape: a histogram that appears with its
// first observation (a labelled histogram) was 0 at the scrape before,
// which had other series: its increase counts from there.
func TestCounterAbsentFromFirstScrape(t *testing.T) {
	dir := t.TempDir()
	start := time.Now().UTC()
	tf := results.TelemetryFile{Source: "v", Kind: results.TelemetryScrape, Path: "t.jsonl", Start: start}
	pw, _ := results.CreatePointFile(filepath.Join(dir, tf.Path))
	pw.Write(results.Point{T: 0, Metric: "vllm:num_requests_waiting", Value: 0},
		results.Point{T: time.Second, Metric: "vllm:num_requests_waiting", Value: 0},
		results.Point{T: time.Second, Metric: "vllm:e2e_request_latency_seconds_count", Value: 8},
		results.Point{T: time.Second, Metric: "vllm:e2e_request_latency_seconds_sum", Value: 4})
	pw.Close()
	tf.Points, _ = pw.Count()
	td := readTelemetry(dir, results.CaseInfo{Start: start, Telemetry: []results.TelemetryFile{tf}})
	l := td.histogramWindow("vllm:e2e_request_latency_seconds", 0.1, 0.9)
	if l == nil || l.Count != 8 || l.Mean != 0.5 {
		t.Fatalf("histogramWindow = %+v, want 8 observations of mean 0.5 s since the first scrape", l)
	}
}

// TestServerCountersNotFromPartialWindow: every scrape after 3 s failed
// (a server too busy to answer /metrics, the last scrape too), so no
// scrape bounds the measured window's end (6.05 s). Before, the deltas
// ran to the last scrape there was: the server-side latencies covered
// the first two seconds of five and read as the whole window's (a queue
// time from before the overload, a client + network overhead that was the
// server's queue). Now they are absent, with a warning saying why.
func TestServerCountersNotFromPartialWindow(t *testing.T) {
	dir := telemetryRun(t, 100, 0.08, func(i int) float64 { return 0 })
	editTelemetry(t, dir, func(p results.Point) bool { return p.T <= 3*time.Second }, nil)
	c := summarizeOne(t, dir)
	if c.Telemetry == nil {
		t.Fatal("no telemetry")
	}
	if srv := c.Telemetry.Server; srv != nil && (srv.TTFT != nil || srv.E2E != nil || srv.Queue != nil || srv.GenerationTokens != nil) {
		t.Errorf("server figures from part of the window: %+v", srv)
	}
	if w := strings.Join(c.Warnings, "\n"); !strings.Contains(w, "measured window") {
		t.Errorf("warnings %q do not say why there are no server-side latencies", w)
	}
}

// editTelemetry edits the first case's first telemetry file of the
// results directory dir: it keeps the points keep accepts (all when keep
// is nil), then lets edit change the manifest's entry, and writes both.
func editTelemetry(t *testing.T, dir string, keep func(results.Point) bool, edit func(*results.TelemetryFile)) {
	t.Helper()
	m, err := results.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	tf := &m.Cases[0].Telemetry[0]
	if keep != nil {
		path := filepath.Join(dir, tf.Path)
		var kept []results.Point
		if _, err := results.ScanPointFile(path, func(p results.Point) error {
			if keep(p) {
				kept = append(kept, p)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		pw, err := results.CreatePointFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(kept...)
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		tf.Points, _ = pw.Count()
	}
	if edit != nil {
		edit(tf)
	}
	if err := results.WriteJSONAtomic(filepath.Join(dir, results.ManifestFile), m); err != nil {
		t.Fatal(err)
	}
}
