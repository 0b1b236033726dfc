package report

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

var update = flag.Bool("update", false, "rewrite golden files and fixtures under testdata")

// fixtureCase describes one generated case.
type fixtureCase struct {
	bench, params, kind string
	users               int
	requests            int
	ttft                float64 // median seconds
	errEvery            int     // every n-th request fails; 0 = none
	errDetail           string
	skipped             bool
	server              bool // add Ollama-like server timings
	checks              []analysis.Check
	warnings, errors    []string
	verdict             string
}

// genSamples writes deterministic samples for fc and returns them.
func genSamples(t testing.TB, path string, fc fixtureCase, seed uint64) []results.Sample {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	sw := results.NewSampleWriter(f)
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []results.Sample
	interval := 0.05 * float64(8) / float64(max(fc.users, 1))
	for i := range fc.requests {
		sched := time.Duration(float64(i) * interval * 1e9)
		s := results.Sample{Seq: int64(i), Worker: "node2/0", Scheduled: sched, Sent: sched + time.Duration(rng.IntN(2000))*time.Microsecond/10}
		s.Warmup = i < 5
		s.InputTokens = 512
		if fc.errEvery > 0 && i%fc.errEvery == fc.errEvery-1 {
			s.Done = s.Sent + 30*time.Millisecond
			s.Status = 503
			s.Error = results.ErrHTTP5xx
			s.ErrorDetail = fc.errDetail
		} else {
			ttft := fc.ttft * math.Exp(0.3*rng.NormFloat64())
			s.FirstByte = sched + time.Duration(ttft*0.9e9)
			s.FirstToken = sched + time.Duration(ttft*1e9)
			n := 16 + rng.IntN(16)
			t := s.FirstToken
			for range n - 1 {
				g := time.Duration((0.008 + 0.004*rng.Float64()) * 1e9)
				s.ITL = append(s.ITL, g)
				t += g
			}
			s.LastToken = t
			s.Done = t + time.Millisecond
			s.OutputTokens = n
			s.TokenSource = results.TokensFromUsage
			s.Status = 200
			if fc.server {
				s.Server = map[string]float64{"load_duration": 0.002 + 0.001*rng.Float64(), "eval_duration": float64(n) * 0.009}
			}
		}
		if err := sw.Write(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dist summarises vs like analysis does, with analysis.Percentile.
func dist(vs []float64, unit string) analysis.Metric {
	m := analysis.Metric{Kind: analysis.KindDistribution, Unit: unit, Count: len(vs)}
	if len(vs) == 0 {
		return m
	}
	slices.Sort(vs)
	var sum float64
	for _, v := range vs {
		sum += v
	}
	m.Mean = sum / float64(len(vs))
	for _, v := range vs {
		m.Stddev += (v - m.Mean) * (v - m.Mean)
	}
	m.Stddev = math.Sqrt(m.Stddev / float64(max(len(vs)-1, 1)))
	m.Min, m.Max = vs[0], vs[len(vs)-1]
	m.P50, m.P90, m.P95 = analysis.Percentile(vs, 50), analysis.Percentile(vs, 90), analysis.Percentile(vs, 95)
	m.P99, m.P999 = analysis.Percentile(vs, 99), analysis.Percentile(vs, 99.9)
	return m
}

func summarise(samples []results.Sample) (map[string]analysis.Metric, float64) {
	var ttft, e2e, itl []float64
	var toks, okN, failed, all float64
	var first, last time.Duration = math.MaxInt64, 0
	for _, s := range samples {
		if s.Warmup {
			continue
		}
		all++
		first = min(first, s.Scheduled)
		last = max(last, s.Done)
		if !s.OK() {
			failed++
			continue
		}
		okN++
		toks += float64(s.OutputTokens)
		ttft = append(ttft, (s.FirstToken - s.Scheduled).Seconds())
		e2e = append(e2e, (s.LastToken - s.Scheduled).Seconds())
		for _, g := range s.ITL {
			itl = append(itl, g.Seconds())
		}
	}
	win := (last - first).Seconds()
	return map[string]analysis.Metric{
		"ttft":                     dist(ttft, "s"),
		"e2e":                      dist(e2e, "s"),
		"itl":                      dist(itl, "s"),
		"requests_per_second":      {Kind: analysis.KindRate, Unit: "1/s", Value: okN / win},
		"output_tokens_per_second": {Kind: analysis.KindRate, Unit: "tokens/s", Value: toks / win},
		"error_rate":               {Kind: analysis.KindRate, Unit: "ratio", Value: failed / all},
	}, win
}

// compared reports whether checks compare a case with a baseline it has
// and is comparable with.
func compared(checks []analysis.Check) bool {
	for _, ck := range checks {
		if ck.Kind == analysis.CheckRegression && ck.Verdict != analysis.NoBaseline && ck.Verdict != analysis.Incomparable {
			return true
		}
	}
	return false
}

// fixtureBaselineCDFs are what package baselines would give a compared
// case: the baseline's TTFT and e2e distributions, here the case's own
// 10% faster.
func fixtureBaselineCDFs(samples []results.Sample) map[string]*analysis.BaselineCDF {
	ttft, e2e := &analysis.Histogram{}, &analysis.Histogram{}
	for _, s := range samples {
		if !s.Warmup && s.OK() {
			ttft.Add(0.9 * (s.FirstToken - s.Scheduled).Seconds())
			e2e.Add(0.9 * (s.LastToken - s.Scheduled).Seconds())
		}
	}
	const label = "baseline (2025-02-28)"
	return map[string]*analysis.BaselineCDF{
		analysis.MetricTTFT: analysis.NewBaselineCDF(label, ttft, analysis.BaselineCDFPoints),
		analysis.MetricE2E:  analysis.NewBaselineCDF(label, e2e, analysis.BaselineCDFPoints),
	}
}

// regression builds a regression check of m.stat against a baseline
// rel·value away.
func regression(ms map[string]analysis.Metric, metric, stat string, rel, tol, p float64, verdict string) analysis.Check {
	v, _ := ms[metric].Stat(stat)
	base := v / (1 + rel)
	return analysis.Check{Name: metric + "." + stat, Kind: "regression", Metric: metric, Stat: stat, Verdict: verdict,
		Value: v, Unit: ms[metric].Unit, Baseline: base, Delta: rel, Tolerance: tol, PValue: p}
}

func threshold(ms map[string]analysis.Metric, metric, stat, op string, limit float64, verdict string) analysis.Check {
	v, _ := ms[metric].Stat(stat)
	return analysis.Check{Name: fmt.Sprintf("%s.%s %s %s", metric, stat, op, analysis.FormatNumber(limit)), Kind: "threshold", Metric: metric, Stat: stat,
		Verdict: verdict, Value: v, Unit: ms[metric].Unit, Limit: limit, Op: op}
}

var fixtureStart = time.Date(2025, 3, 4, 1, 30, 0, 0, time.UTC)

// writeFixture writes a results directory with the given cases: samples,
// manifest.json and summary.json. checks(fc, metrics) adds each case's
// checks once its metrics are known.
func writeFixture(t testing.TB, dir, suite string, incomplete bool, cases []fixtureCase, checks func(int, map[string]analysis.Metric) []analysis.Check) {
	t.Helper()
	m := &results.Manifest{Version: results.ResultsVersion, Suite: suite, Description: "Chat and embedding latency of " + suite + " on the GPU partition",
		SuiteFile:   "suites/" + suite + ".toml",
		SuiteSHA256: "9f2c4e1a", BenchrunVersion: "0.3.0", BenchrunCommit: "abc1234", Host: "login1",
		Start: fixtureStart, End: fixtureStart.Add(20 * time.Minute),
		Slurm:       &results.SlurmInfo{JobID: "4242", Nodes: []string{"node1", "node2"}, Partition: "gpu", State: "COMPLETED"},
		Fingerprint: map[string]string{"model": "llama-3-8b", "gpu": "A100", "vllm": "0.6.3"},
		Services: []results.ServiceInfo{{Name: "llm", Kind: "vllm", URL: "http://node1:8000", Node: "node1", Version: "0.6.3", Log: "logs/llm.log",
			GPUs: "0", StepGPUs: &results.StepGPUs{Devices: []results.GPUDevice{{Model: "NVIDIA A100-SXM4-40GB", Driver: "535.104.05", MemoryBytes: 40960 << 20}}}}},
		Environment: map[string]string{"cpu": "AMD EPYC 7H12 64-Core Processor", "cpus": "128", "arch": "amd64", "kernel": "4.18.0-513.el8.x86_64",
			"gpu": "NVIDIA A100-SXM4-40GB, NVIDIA A100-SXM4-40GB", "gpu_driver": "535.104.05"}}
	if incomplete {
		m.Incomplete, m.Reason = true, "TIMEOUT"
		m.Slurm.State = "TIMEOUT"
	}
	s := &analysis.Summary{Version: analysis.SummaryVersion, Suite: suite, Verdict: analysis.Pass, Incomplete: incomplete,
		Baseline: &analysis.BaselineSource{File: "baselines/" + suite + ".json", Found: true, Entries: 3, Promoted: "2025-03-01T07:12:40Z",
			RunStart: "2025-02-28T01:30:00Z", BenchrunCommit: "0123456789abcdef0123", SlurmJob: "4100",
			CIJobURL: "https://gitlab.example/hpc/bench/-/jobs/977", CommitSHA: "fedcba9876543210fedc", Ref: "main"},
		GPUs:        []analysis.GPUInventory{{Host: "node1", Model: "NVIDIA A100-SXM4-40GB", Driver: "535.104.05", Count: 4}},
		ServiceGPUs: analysis.StepGPUInventories(m.Services)}
	for i, fc := range cases {
		id := fc.bench + "/" + fc.params
		start := fixtureStart.Add(time.Duration(i) * time.Minute)
		ci := results.CaseInfo{ID: id, Benchmark: fc.bench, Kind: fc.kind, Params: map[string]string{"users": fmt.Sprint(fc.users)},
			Samples: results.SamplePath(id), Status: "done", Start: start, End: start.Add(50 * time.Second), Repetitions: 1}
		c := analysis.Case{ID: id, Benchmark: fc.bench, Kind: fc.kind, Params: ci.Params, Verdict: fc.verdict, Repetitions: 1,
			Warnings: fc.warnings, Errors: fc.errors, Metrics: map[string]analysis.Metric{}, Checks: []analysis.Check{}}
		if fc.skipped {
			ci.Status = "skipped"
			c.Verdict = analysis.Skipped
		} else {
			samples := genSamples(t, filepath.Join(dir, ci.Samples), fc, uint64(i+1))
			c.Metrics, c.Seconds = summarise(samples)
			c.Start, c.End = start.Format(time.RFC3339), start.Add(50*time.Second).Format(time.RFC3339)
			if checks != nil {
				c.Checks = checks(i, c.Metrics)
			}
			if compared(c.Checks) {
				c.BaselineCDFs = fixtureBaselineCDFs(samples)
			}
		}
		if c.Verdict == "" {
			c.Verdict = analysis.Pass
			for _, ch := range c.Checks {
				if checkFailed(ch.Verdict) {
					c.Verdict = analysis.Fail
				}
			}
		}
		switch {
		case c.Verdict == analysis.Error && s.Verdict != analysis.Fail:
			s.Verdict = analysis.Error
		case c.Verdict == analysis.Fail:
			s.Verdict = analysis.Fail
		}
		m.Cases = append(m.Cases, ci)
		s.Cases = append(s.Cases, c)
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "logs", "llm.log"), []byte("INFO: Started server process\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := results.WriteJSONAtomic(filepath.Join(dir, results.ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	if err := analysis.WriteSummary(dir, s); err != nil {
		t.Fatal(err)
	}
}

// writeNightly is the main fixture: a chat sweep with one regression, a
// skipped case, an embedding benchmark with errors, on an incomplete run.
func writeNightly(t testing.TB, dir string) {
	cases := []fixtureCase{
		{bench: "chat", params: "users=1", kind: "llm", users: 1, requests: 120, ttft: 0.05, server: true},
		{bench: "chat", params: "users=4", kind: "llm", users: 4, requests: 200, ttft: 0.08, warnings: []string{"queue_delay p99 12ms above the 10ms lag limit: the load generator fell behind"}},
		{bench: "chat", params: "users=8", kind: "llm", users: 8, requests: 300, ttft: 0.14},
		{bench: "chat", params: "users=16", kind: "llm", users: 16, skipped: true},
		{bench: "embed", params: "users=2", kind: "llm", users: 2, requests: 100, ttft: 0.02, errEvery: 10,
			errDetail: "503 Service Unavailable: server busy", verdict: analysis.Error,
			errors: []string{"10 of 95 requests failed (http_5xx)"}},
	}
	writeFixture(t, dir, "nightly", true, cases, func(i int, ms map[string]analysis.Metric) []analysis.Check {
		switch i {
		case 0:
			return []analysis.Check{
				threshold(ms, "ttft", "p95", "<", 0.5, analysis.Pass),
				regression(ms, "ttft", "p95", 0.021, 0.1, 0.41, analysis.Inconclusive),
				regression(ms, "output_tokens_per_second", "value", 0.15, 0.1, 0.001, analysis.Improvement),
			}
		case 1:
			return []analysis.Check{
				threshold(ms, "ttft", "p95", "<", 0.5, analysis.Pass),
				regression(ms, "ttft", "p95", -0.03, 0.1, 0.3, analysis.Pass),
				regression(ms, "e2e", "p99", 0.05, 0.1, 0.2, analysis.Pass),
			}
		case 2:
			return []analysis.Check{
				threshold(ms, "ttft", "p95", "<", 0.5, analysis.Pass),
				regression(ms, "ttft", "p95", 0.34, 0.1, 0.0004, analysis.Regression),
				threshold(ms, "error_rate", "value", "<", 0.01, analysis.Pass),
			}
		case 4:
			return []analysis.Check{
				threshold(ms, "error_rate", "value", "<", 0.01, analysis.Fail),
				{Name: "ttft.p95", Kind: "regression", Metric: "ttft", Stat: "p95", Verdict: analysis.NoBaseline, Value: ms["ttft"].P95, Unit: "s"},
			}
		}
		return nil
	})
}

// hostileStrings are what a malicious suite or server could put in names
// and messages.
const (
	hostileScript = `</script><script>alert(1)</script>`
	hostileName   = `<img src=x onerror=alert("x")> '$(rm -rf ~)' & "q"`
)

// writeHostile is a fixture whose every string is hostile.
func writeHostile(t testing.TB, dir string) {
	cases := []fixtureCase{
		{bench: `b<script>alert("b")</script>`, params: `users=1,name=` + hostileName, kind: "llm", users: 1, requests: 40, ttft: 0.05,
			warnings: []string{"warn " + hostileScript + " ]]> \x01\x02 bell\a"}, errEvery: 4, errDetail: hostileScript + " \x00 ]]> {{.}} ${x}"},
		{bench: `b<script>alert("b")</script>`, params: "users=2", kind: "llm", users: 2, requests: 40, ttft: 0.06,
			verdict: analysis.Error, errors: []string{"upstream said: " + hostileScript}},
	}
	writeFixture(t, dir, `nightly<script>alert("suite")</script>`, false, cases, func(i int, ms map[string]analysis.Metric) []analysis.Check {
		c := regression(ms, "ttft", "p95", 0.5, 0.1, 0.001, analysis.Regression)
		c.Name = `ttft.p95 <b>"x"</b> $(id)`
		c.Detail = hostileScript
		return []analysis.Check{c, threshold(ms, "ttft", "p95", "<", 1e-6, analysis.Fail)}
	})
}

// TestFixturesUpToDate regenerates the committed fixtures and compares
// them byte for byte, so a change to the generator cannot drift from the
// files the golden tests read (go test -update rewrites them).
func TestFixturesUpToDate(t *testing.T) {
	for name, gen := range map[string]func(testing.TB, string){"nightly": writeNightly, "hostile": writeHostile} {
		t.Run(name, func(t *testing.T) {
			want := filepath.Join("testdata", name)
			if *update {
				os.RemoveAll(want)
				gen(t, want)
				return
			}
			got := t.TempDir()
			gen(t, got)
			err := filepath.Walk(got, func(path string, info os.FileInfo, err error) error {
				if err != nil || info.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(got, path)
				a, _ := os.ReadFile(path)
				b, err := os.ReadFile(filepath.Join(want, rel))
				if err != nil {
					t.Errorf("%s: %v (run go test ./report -update)", rel, err)
				} else if string(a) != string(b) {
					t.Errorf("%s differs from the generator's output (run go test ./report -update)", rel)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
