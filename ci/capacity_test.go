package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// capacitySuite drives the emulator with exact timing: 16 slots, prefill
// 20 ms, 2 output tokens 20 ms apart, so a request holds a slot for
// T = 20 + (2−1)·20 = 40 ms and the analytic capacity under constant
// arrivals is 16 / 40 ms = 400 requests/s (docs/capacity.md). The SLO
// leaves 130 ms for a busy host's lateness (a stall of the client is in
// the latency, which counts from the scheduled send), and still fails a
// probe 5.5% over capacity (docs/capacity.md).
const capacitySuite = `schema_version = 1
[suite]
name = "cap"
[[service]]
name = "llm"
kind = "emulator"
model = "m"
  [service.emulator]
  flavor = "vllm"
  slots = 16
  prefill_base = "20ms"
  decode_base = "20ms"
  jitter = 0
[[benchmark]]
name = "chat"
service = "llm"
  [benchmark.workload]
  mode = "open"
  arrival = "constant"
  [benchmark.dataset]
  prompt_tokens = 8
  output_tokens = 2
  [benchmark.search]
  variable = "rate"
  min = 250
  max = 2000
  slos = ["ttft.p99 < 150ms"]
  precision = "10%"
`

type capacitySummary struct {
	Verdict string `json:"verdict"`
	Cases   []struct {
		ID      string
		Verdict string
		Metrics map[string]struct {
			Value float64
			CI    map[string][2]float64
		}
		Checks   []struct{ Name, Kind, Verdict, Detail string }
		Labels   []capacityLabel
		Frontier struct {
			WallSeconds float64 `json:"wall_seconds"`
		}
	} `json:"cases"`
}

// capacityLabel is a saturation label of a summary's case.
type capacityLabel struct{ Name, Test string }

// logWall logs what the search of summary s cost in wall time
// (frontier.wall_seconds), as docs/capacity.md quotes it.
func (s capacitySummary) logWall(t *testing.T, what string) {
	t.Helper()
	probes := 0
	for _, c := range s.Cases {
		if strings.HasPrefix(c.ID, "chat/search=") {
			probes++
		}
	}
	for _, c := range s.Cases {
		if c.ID == "chat/capacity" {
			t.Logf("%s: %d probes, capacity %v; the search took %.0f s of wall time", what, probes, c.Metrics["capacity"].Value, c.Frontier.WallSeconds)
		}
	}
}

func (s capacitySummary) capacity(t *testing.T) (v float64, ci [2]float64, verdict string, probes int) {
	t.Helper()
	for _, c := range s.Cases {
		if strings.HasPrefix(c.ID, "chat/search=rate:") {
			probes++
		}
		if c.ID == "chat/capacity" {
			m := c.Metrics["capacity"]
			v, ci, verdict = m.Value, m.CI["value"], c.Verdict
		}
	}
	if verdict == "" {
		t.Fatalf("no chat/capacity case: %+v", s)
	}
	return v, ci, verdict, probes
}

// TestCapacitySearch: the found capacity lies within 10% of the analytic
// 400 requests/s; promoted as the baseline, a run 20% slower finds a
// capacity within 10% of its analytic 333 requests/s, and fails on the
// comparison of that capacity with the baseline's, and on nothing else.
func TestCapacitySearch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two searches (~30 s)")
	}
	// The search judges a server at hundreds of requests/s: the client must
	// keep its schedule, which it cannot beside the other tests of a plain
	// `go test ./...` (a fresh clone found 344 instead of ~400 there).
	// make accuracy-test runs it alone, without -race, with
	// BENCHRUN_ACCURACY=1; anywhere else it says so and skips.
	if os.Getenv("BENCHRUN_ACCURACY") != "1" {
		t.Skip("SKIPPING TestCapacitySearch: a timing-accuracy test, run alone by make accuracy-test (BENCHRUN_ACCURACY=1)")
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "s.toml"), []byte(capacitySuite), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, work, binEnv(), "-q", "suite", "-o", "r1", "s.toml")
	if r.code != ExitOK {
		t.Fatalf("search: exit %d: %v", r.code, r)
	}
	var s1 capacitySummary
	readJSON(t, filepath.Join(work, "r1", "summary.json"), &s1)
	c1, ci1, _, n := s1.capacity(t)
	s1.logWall(t, "TestCapacitySearch, first run")
	if c1 < 360 || c1 > 440 || ci1[0] != c1 || ci1[1] < c1 {
		t.Fatalf("capacity %v [%v, %v], want within 10%% of 400", c1, ci1[0], ci1[1])
	}
	if n < 3 {
		t.Errorf("only %d probe cases kept", n)
	}
	if got := sampleFiles(t, filepath.Join(work, "r1")); len(got) != n {
		t.Errorf("%d sample files for %d probes: %q", len(got), n, got)
	}
	if r = runBin(t, work, binEnv(), "baseline", "promote", "r1", "--baselines", "B"); r.code != ExitOK {
		t.Fatalf("promote: %v", r)
	}
	r = runBin(t, work, binEnv("BENCHRUN_EMULATE_SLOWDOWN=1.2"), "-q", "-o", "r2", "--baselines", "B", "suite", "s.toml")
	var s2 capacitySummary
	readJSON(t, filepath.Join(work, "r2", "summary.json"), &s2)
	c2, ci2, verdict, _ := s2.capacity(t)
	s2.logWall(t, "TestCapacitySearch, 20% slower")
	// The slowed server holds a slot 48 ms: S/T = 333 requests/s
	// (docs/capacity.md). It must be found, within 10%, like the first:
	// a search that found nothing (capacity 0) is lower too, and would
	// fail the run on its own capacity check, not on the comparison.
	if c2 < 300 || c2 > 367 || ci2[0] != c2 || !(ci2[1] > c2) {
		t.Fatalf("slowed 20%%: capacity %v %v, want within 10%% of 333\n%v", c2, ci2, r.stdout)
	}
	if r.code != ExitFailed || verdict != "fail" || !(c2 < c1) || !(ci2[1] < ci1[0]) {
		t.Fatalf("slowed 20%%: exit %d, capacity %v %v (verdict %s), baseline %v %v; want lower and a failed comparison\n%v", r.code, c2, ci2, verdict, c1, ci1, r.stdout)
	}
	checkCapacityRegression(t, s2)
}

// checkCapacityRegression requires that the capacity case of s failed on
// its comparison with the baseline (the regression check of
// capacity, significant by its bracket) and on nothing else: its
// own capacity check passed (a load met the SLOs).
func checkCapacityRegression(t *testing.T, s capacitySummary) {
	t.Helper()
	for _, c := range s.Cases {
		if c.ID != "chat/capacity" {
			continue
		}
		var regression bool
		for _, ck := range c.Checks {
			switch {
			case ck.Kind == "regression" && ck.Name == "capacity" && ck.Verdict == "regression" && strings.Contains(ck.Detail, "capacity brackets"):
				regression = true
			case ck.Verdict != "pass":
				t.Errorf("check %+v failed: want only the comparison with the baseline to fail", ck)
			}
		}
		if !regression {
			t.Errorf("checks %+v: want the regression check of capacity, significant by the capacity brackets", c.Checks)
		}
		return
	}
	t.Fatal("no chat/capacity case")
}

// TestProbeEarlyStop: a probe far over capacity (1 slot holding each
// request 40 ms: 25 requests/s, probed at 100) is stopped as soon as its
// TTFT p99 SLO is missed whatever the rest would measure, long before
// its 1,000 requests (40 s of the server's time), and counts as failing:
// the search finds no passing load and the run fails.
func TestProbeEarlyStop(t *testing.T) {
	suite := strings.NewReplacer("slots = 16", "slots = 1", "min = 250", "min = 100", "max = 2000", "max = 400").Replace(capacitySuite)
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "s.toml"), []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := runBin(t, work, binEnv(), "-q", "suite", "-o", "r", "s.toml")
	took := time.Since(start)
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want %d (no load passed): %v", r.code, ExitFailed, r)
	}
	var m struct {
		Cases []struct {
			ID           string
			Status       string
			Settings     map[string]string
			SampleCounts map[string]int64 `json:"sample_counts"`
		}
	}
	readJSON(t, filepath.Join(work, "r", "manifest.json"), &m)
	// One probe at min; measured again (try 2) only when a busy machine
	// made the client lag its schedule in the first (JudgeProbe: then
	// indeterminate, not failed).
	if len(m.Cases) == 0 || len(m.Cases) > 2 || m.Cases[0].ID != "chat/search=rate:100" || len(m.Cases) == 2 && m.Cases[1].ID != "chat/search=rate:100,try=2" {
		t.Fatalf("cases %+v: want the one probe at min", m.Cases)
	}
	for _, pc := range m.Cases {
		var n int64
		for _, c := range pc.SampleCounts {
			n += c
		}
		if pc.Status != "done" || !strings.Contains(pc.Settings["early_stop"], "stopped early") || n == 0 || n > 300 {
			t.Fatalf("probe %+v (%d samples): want done, stopped early after a few dozen of its requests", pc, n)
		}
	}
	if took > 20*time.Second {
		t.Errorf("the search took %s: the probe was not cut short", took)
	}
	var s capacitySummary
	readJSON(t, filepath.Join(work, "r", "summary.json"), &s)
	c, _, verdict, probes := s.capacity(t)
	if c != 0 || verdict != "fail" || probes != len(m.Cases) {
		t.Errorf("capacity %v, verdict %s, %d probes: want no passing load, fail", c, verdict, probes)
	}
	s.logWall(t, "TestProbeEarlyStop")
	for _, cs := range s.Cases {
		if cs.ID == "chat/capacity" && (len(cs.Checks) == 0 || !strings.Contains(cs.Checks[0].Detail, "stopped early")) {
			t.Errorf("capacity checks %+v: want the stop's evidence", cs.Checks)
		}
	}
}

// noisySuite drives the emulator with closed-loop users and noise: each
// decode interval is decode_base + (running − 1)·decode_per_seq =
// 10 ms + 4 ms·(users − 1), scaled by a jitter factor uniform in
// [0.5, 1.5]. With 2 output tokens a request's TPOT is that one
// interval, so the TPOT median is 14 ms at 2 users, 18 ms at 3 and
// 22 ms at 4: at 4 users the SLO "tpot.p50 < 22ms" sits exactly on the
// server's median, and its interval straddles the limit however long the
// probe.
const noisySuite = `schema_version = 1
[suite]
name = "noisy"
[[service]]
name = "llm"
kind = "emulator"
model = "m"
  [service.emulator]
  flavor = "vllm"
  slots = 16
  prefill_base = "10ms"
  decode_base = "10ms"
  decode_per_seq = "4ms"
  jitter = 0.5
  seed = 7
[[benchmark]]
name = "chat"
service = "llm"
  [benchmark.workload]
  mode = "closed"
  [benchmark.dataset]
  prompt_tokens = 8
  output_tokens = 2
  [benchmark.search]
  variable = "users"
  min = 2
  max = 8
  slos = ["tpot.p50 < 22ms"]
`

// TestCapacitySearchNoisy: against a noisy emulator whose TPOT median at
// 4 users is the SLO itself, the search passes 2 users, re-measures the
// straddling 4 users with twice the requests, still cannot decide, and
// counts it as not passing (a warning names it): the capacity is 3
// users, bracket [3, 4], never a confident guess at 4. Every probe,
// the re-measure included, is a case with its samples.
func TestCapacitySearchNoisy(t *testing.T) {
	if os.Getenv("BENCHRUN_ACCURACY") != "1" {
		t.Skip("SKIPPING TestCapacitySearchNoisy: a timing-accuracy test (a TPOT within ±2 ms of its SLO), run alone by make accuracy-test (BENCHRUN_ACCURACY=1)")
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "s.toml"), []byte(noisySuite), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, work, binEnv(), "-q", "suite", "-o", "r", "s.toml")
	var m struct {
		Cases []struct {
			ID     string
			Params map[string]string
		}
	}
	readJSON(t, filepath.Join(work, "r", "manifest.json"), &m)
	var ids []string
	for _, c := range m.Cases {
		ids = append(ids, c.ID+" ("+c.Params["requests"]+")")
	}
	want := []string{"chat/search=users:2 (100)", "chat/search=users:4 (100)", "chat/search=users:4,try=2 (200)", "chat/search=users:3 (100)"}
	if strings.Join(ids, "|") != strings.Join(want, "|") {
		t.Fatalf("probes %q, want %q\n%v", ids, want, r)
	}
	if got := sampleFiles(t, filepath.Join(work, "r")); len(got) != len(want) {
		t.Errorf("%d sample files for %d probes: %q", len(got), len(want), got)
	}
	var s struct {
		Cases []struct {
			ID       string
			Verdict  string
			Warnings []string
			Metrics  map[string]struct {
				Value float64
				CI    map[string][2]float64
			}
			Frontier struct {
				Probes []struct {
					Case, Verdict string
				}
				WallSeconds float64 `json:"wall_seconds"`
			}
		}
	}
	readJSON(t, filepath.Join(work, "r", "summary.json"), &s)
	for _, c := range s.Cases {
		if c.ID != "chat/capacity" {
			continue
		}
		capm := c.Metrics["capacity"]
		if capm.Value != 3 || capm.CI["value"] != [2]float64{3, 4} || c.Verdict != "pass" || r.code != ExitOK {
			t.Errorf("capacity %v %v, verdict %s, exit %d: want 3 users, bracket [3, 4], pass", capm.Value, capm.CI["value"], c.Verdict, r.code)
		}
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "users:4,try=2 indeterminate after 2 measures") || !strings.Contains(c.Warnings[0], "straddled") {
			t.Errorf("warnings %q: want the straddling probe named with its interval", c.Warnings)
		}
		var verdicts []string
		for _, p := range c.Frontier.Probes {
			verdicts = append(verdicts, p.Verdict)
		}
		if strings.Join(verdicts, " ") != "pass pass indeterminate indeterminate" { // load order: 2, 3, 4, 4 try 2
			t.Errorf("frontier verdicts %v", verdicts)
		}
		if c.Frontier.WallSeconds < 1 {
			t.Errorf("wall time %v s: four probes of 100–200 requests take seconds", c.Frontier.WallSeconds)
		}
		t.Logf("TestCapacitySearchNoisy: %d probes, capacity %v; the search took %.0f s of wall time", len(c.Frontier.Probes), capm.Value, c.Frontier.WallSeconds)
		return
	}
	t.Fatalf("no chat/capacity case\n%v", r)
}

// TestCapacitySearchFailedRequests: a search against a server that
// answers every request with an error (a dead backend behind a live
// endpoint) or drops a fifth of them must not report a capacity: the
// probe at min fails and the capacity check fails; the run exits 2 when
// every operation failed (an execution error), else 1. The SLO is
// generous (a loaded machine cannot miss it), so only the errors decide.
func TestCapacitySearchFailedRequests(t *testing.T) {
	tests := []struct {
		name, errorRate, detail string
		code                    int
	}{
		{"every request fails", "1", "all 100 measured operations failed", ExitError},
		{"a fifth of the requests fail", "0.2", "requests failed and no SLO bounds error_rate", ExitFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			suite := strings.NewReplacer("jitter = 0", "jitter = 0\n  seed = 3\n  error_rate = "+tc.errorRate,
				"min = 250", "min = 50", "max = 2000", "max = 400",
				`slos = ["ttft.p99 < 150ms"]`, `slos = ["ttft.p90 < 20s"]`).Replace(capacitySuite)
			work := t.TempDir()
			if err := os.WriteFile(filepath.Join(work, "s.toml"), []byte(suite), 0o644); err != nil {
				t.Fatal(err)
			}
			r := runBin(t, work, binEnv(), "-q", "suite", "-o", "r", "s.toml")
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d (no load passed): %v", r.code, tc.code, r)
			}
			var s capacitySummary
			readJSON(t, filepath.Join(work, "r", "summary.json"), &s)
			c, ci, verdict, probes := s.capacity(t)
			if c != 0 || ci[0] != 0 || verdict != "fail" || probes != 1 {
				t.Errorf("capacity %v %v, verdict %s, %d probes: want no capacity from the one probe at min, fail", c, ci, verdict, probes)
			}
			for _, cs := range s.Cases {
				if cs.ID == "chat/capacity" && (len(cs.Checks) == 0 || cs.Checks[0].Name != "capacity" || cs.Checks[0].Verdict != "fail" || !strings.Contains(cs.Checks[0].Detail, tc.detail)) {
					t.Errorf("capacity checks %+v: want failed, saying %q", cs.Checks, tc.detail)
				}
			}
		})
	}
}
