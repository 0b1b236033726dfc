package ci

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// writeTrace writes a trace of n requests arriving every gap, input
// lengths cycling through 4..13 tokens, 2 output tokens each, and returns
// its file name (in dir).
func writeTrace(t *testing.T, dir string, n int, gap time.Duration) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"timestamp": %g, "input_length": %d, "output_length": 2}`+"\n", 5000+float64(i)*gap.Seconds(), 4+i%10)
	}
	if err := os.WriteFile(filepath.Join(dir, "trace.jsonl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return "trace.jsonl"
}

// traceSearchSuite is capacitySuite's benchmark replaying trace.jsonl,
// searched over its speed.
func traceSearchSuite(min, max, slos string) string {
	return strings.NewReplacer(
		"  mode = \"open\"\n  arrival = \"constant\"", "  arrival = \"trace\"",
		"  prompt_tokens = 8\n  output_tokens = 2", "  kind = \"trace\"\n  path = \"trace.jsonl\"",
		`variable = "rate"`, `variable = "speed"`,
		"min = 250", "min = "+min, "max = 2000", "max = "+max,
		`slos = ["ttft.p99 < 150ms"]`, "slos = "+slos).Replace(capacitySuite)
}

type traceProbe struct {
	ID           string
	Status       string
	Params       map[string]string
	Settings     map[string]string
	Load         results.Load
	Samples      string
	SampleCounts map[string]int64 `json:"sample_counts"`
}

// TestCapacitySearchTrace: yesterday's traffic as a trace — 300 requests
// 5 ms apart (200 requests/s as recorded) — replayed against the
// emulator of TestCapacitySearch (S/T = 400 requests/s) and searched over
// its speed: the capacity is the multiplier of the recorded traffic the
// server carries within ttft.p99 < 150ms, 400/200 = 2 (docs/capacity.md),
// and the search must find it within 10%. Each probe replays the trace at
// time_scale 1/speed in whole loops: 1,000 requests for the p99 need 4
// loops, 1,200 requests (a re-measure twice that); a probe that ran to
// its end measured them all, each with the lengths of its request of the
// trace and scheduled at the looped trace's offset (pass k one period of
// 1.5 s after pass k−1) divided by the speed.
func TestCapacitySearchTrace(t *testing.T) {
	if os.Getenv("BENCHRUN_ACCURACY") != "1" {
		t.Skip("SKIPPING TestCapacitySearchTrace: a timing-accuracy test (a server at hundreds of requests/s), run alone by make accuracy-test (BENCHRUN_ACCURACY=1)")
	}
	work := t.TempDir()
	writeTrace(t, work, 300, 5*time.Millisecond)
	if err := os.WriteFile(filepath.Join(work, "s.toml"), []byte(traceSearchSuite("1.25", "16", `["ttft.p99 < 150ms"]`)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, work, binEnv(), "-q", "suite", "-o", "r", "s.toml")
	if r.code != ExitOK {
		t.Fatalf("search: exit %d: %v", r.code, r)
	}
	var s capacitySummary
	readJSON(t, filepath.Join(work, "r", "summary.json"), &s)
	var capm struct {
		Value float64
		CI    map[string][2]float64
	}
	probes := 0
	for _, c := range s.Cases {
		if strings.HasPrefix(c.ID, "chat/search=speed:") {
			probes++
		}
		if c.ID == "chat/capacity" {
			capm = c.Metrics["capacity"]
			t.Logf("TestCapacitySearchTrace: %d probes, capacity %v; the search took %.0f s of wall time", probes, capm.Value, c.Frontier.WallSeconds)
		}
	}
	if capm.Value < 1.8 || capm.Value > 2.2 || capm.CI["value"][0] != capm.Value || capm.CI["value"][1] <= capm.Value {
		t.Fatalf("capacity %v bracket %v: want within 10%% of speed 2 (400 requests/s over the trace's 200)", capm.Value, capm.CI["value"])
	}
	var m struct{ Cases []traceProbe }
	readJSON(t, filepath.Join(work, "r", "manifest.json"), &m)
	if len(m.Cases) != probes || probes < 3 {
		t.Fatalf("%d manifest cases, %d probe cases: want every probe kept", len(m.Cases), probes)
	}
	whole := 0
	for _, pc := range m.Cases {
		speed, _ := strconv.ParseFloat(strings.TrimPrefix(pc.Params["search"], "speed:"), 64)
		want := int64(1200) // a re-measure (try 2) doubles it: 8 loops
		if pc.Params["try"] == "2" {
			want = 2400
		}
		if pc.Params["requests"] != strconv.FormatInt(want, 10) || pc.Load.Requests != want || pc.Load.Arrival != "trace" || math.Abs(pc.Load.TimeScale*speed-1) > 1e-9 {
			t.Errorf("probe %s: params %v, load %+v: want %d requests (whole loops) at time_scale 1/%v", pc.ID, pc.Params, pc.Load, want, speed)
		}
		if pc.Settings["early_stop"] != "" {
			continue
		}
		whole++
		var n int64
		for _, c := range pc.SampleCounts {
			n += c
		}
		if n != want {
			t.Errorf("probe %s ran to its end with %d samples, want %d", pc.ID, n, want)
		}
		checkLoopedReplay(t, filepath.Join(work, "r", pc.Samples), speed)
	}
	if whole == 0 {
		t.Error("no probe ran to its end")
	}
}

// checkLoopedReplay checks the samples of a probe that replayed the
// 300-request trace of TestCapacitySearchTrace in loops at speed: each
// request k has the trace's request k mod 300's input length and is
// scheduled at ((k div 300)·1.5 s + (k mod 300)·5 ms)/speed.
func checkLoopedReplay(t *testing.T, path string, speed float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	bad := 0
	for sc.Scan() {
		var s results.Sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		k := int(s.Seq)
		want := time.Duration((float64(k/300)*1.5 + float64(k%300)*0.005) / speed * float64(time.Second))
		if d := s.Scheduled - want; (d < 0 || d > time.Millisecond || s.Error == "" && s.InputTokens != 4+k%300%10) && bad < 5 {
			bad++
			t.Errorf("%s: request %d scheduled at %v with %d input tokens, want %v and %d", filepath.Base(path), k, s.Scheduled, s.InputTokens, want, 4+k%300%10)
		}
	}
}

// TestCapacitySearchTraceFailedRequests: a replay whose server drops a
// fifth of the requests (HTTP 500) never sets a capacity, however fast
// the rest answer (a generous SLO no loaded machine misses): the probe at
// min fails on its failed requests, the capacity check fails, exit 1.
func TestCapacitySearchTraceFailedRequests(t *testing.T) {
	work := t.TempDir()
	writeTrace(t, work, 100, 5*time.Millisecond)
	suite := strings.Replace(traceSearchSuite("1.25", "4", `["ttft.p90 < 20s"]`), "jitter = 0", "jitter = 0\n  seed = 3\n  error_rate = 0.2", 1)
	if err := os.WriteFile(filepath.Join(work, "s.toml"), []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, work, binEnv(), "-q", "suite", "-o", "r", "s.toml")
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want %d: %v", r.code, ExitFailed, r)
	}
	var s capacitySummary
	readJSON(t, filepath.Join(work, "r", "summary.json"), &s)
	for _, c := range s.Cases {
		if c.ID == "chat/search=speed:1.25" && c.Verdict == "" {
			t.Errorf("probe %+v", c)
		}
		if c.ID != "chat/capacity" {
			continue
		}
		if c.Metrics["capacity"].Value != 0 || c.Verdict != "fail" || len(c.Checks) == 0 || !strings.Contains(c.Checks[0].Detail, "requests failed and no SLO bounds error_rate") {
			t.Errorf("capacity %v, verdict %s, checks %+v: want none, failed on the dropped requests", c.Metrics["capacity"].Value, c.Verdict, c.Checks)
		}
		return
	}
	t.Fatalf("no chat/capacity case: %v", r)
}
