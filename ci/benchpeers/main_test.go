package main

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// TestBenchMetrics: a benchmark's metrics are read from its result line,
// sub-benchmarks by their full name; a missing line is an error, never
// zeros.
func TestBenchMetrics(t *testing.T) {
	out := `goos: linux
BenchmarkStreamIngest-2   	      50	   5745049 ns/op	   1740629 chunks/s	    4688 B/op	       7 allocs/op
BenchmarkAccuracy64OutOfProcess/burst-2         	       1	1848339280 ns/op	         0.01272 itl_p50_err_ms	         -0.25 ttft_p50_err_ms
BenchmarkAccuracy64OutOfProcess/ramped-2        	       1	2007112819 ns/op	         9 itl_p50_err_ms
PASS
`
	m, err := benchMetrics(out, "BenchmarkStreamIngest")
	if err != nil || m["chunks/s"] != 1740629 || m["allocs/op"] != 7 {
		t.Errorf("StreamIngest: %v, %v", m, err)
	}
	m, err = benchMetrics(out, "BenchmarkAccuracy64OutOfProcess/burst")
	if err != nil || m["itl_p50_err_ms"] != 0.01272 || m["ttft_p50_err_ms"] != -0.25 {
		t.Errorf("burst: %v, %v", m, err)
	}
	if m, err := benchMetrics(out, "BenchmarkUsers10k"); err == nil {
		t.Errorf("a benchmark that did not run gave %v", m)
	}
	if m, err := benchMetrics("BenchmarkX-2 1 5 ns/op 7\n", "BenchmarkX"); err == nil {
		t.Errorf("a garbled line gave %v", m)
	}
}

// TestVerdict: lower- and higher-is-better goals, absolute errors, and
// figures without a goal.
func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		name     string
		f        goFigure
		v        float64
		want     string
		wantGoal string
	}{
		{"above a floor", goFigure{goal: 500_000, unit: "chunks/s"}, 600_000, "ok", "≥ 500000 chunks/s"},
		{"below a floor", goFigure{goal: 500_000, unit: "chunks/s"}, 400_000, "short (80% of goal)", "≥ 500000 chunks/s"},
		{"under a ceiling", goFigure{goal: 500, lower: true, unit: "MiB"}, 400, "ok", "≤ 500 MiB"},
		{"over a ceiling", goFigure{goal: 500, lower: true, unit: "MiB"}, 1000, "short (50% of goal)", "≤ 500 MiB"},
		{"negative error within", goFigure{goal: 1, lower: true, abs: true, unit: "ms"}, -0.5, "ok", "within ± 1 ms"},
		{"negative error beyond", goFigure{goal: 1, lower: true, abs: true, unit: "ms"}, -2, "short (50% of goal)", "within ± 1 ms"},
		{"zero error", goFigure{goal: 1, lower: true, abs: true, unit: "ms"}, 0, "ok", "within ± 1 ms"},
		{"no goal", goFigure{goal: math.NaN(), unit: "s"}, 17, "info", "— (none set)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, got := tc.f.verdict(tc.v); got != tc.want {
				t.Errorf("verdict %q, want %q", got, tc.want)
			}
			if got := tc.f.goalText(); got != tc.wantGoal {
				t.Errorf("goal %q, want %q", got, tc.wantGoal)
			}
		})
	}
}

// TestSentRate: the open loop's rate is what was sent, warm-up excluded;
// a failed request makes it an error.
func TestSentRate(t *testing.T) {
	write := func(ss []results.Sample) string {
		path := filepath.Join(t.TempDir(), "s.jsonl")
		w, err := results.CreateSampleFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ss {
			w.Write(&ss[i])
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	var ss []results.Sample
	ss = append(ss, results.Sample{Seq: -1, Warmup: true, Sent: 1, Done: 2})
	for i := range 101 { // 100 intervals of 1ms: 1000 req/s
		ss = append(ss, results.Sample{Seq: int64(i), Sent: time.Second + time.Duration(i)*time.Millisecond, Done: 2 * time.Second})
	}
	got, err := sentRate(write(ss))
	if err != nil || math.Abs(got-1000) > 1e-6 {
		t.Errorf("sent rate %v, %v; want 1000", got, err)
	}
	// Never sent (still waiting for a slot at the end): not counted.
	unsent := append(slices.Clone(ss), results.Sample{Seq: 999, Error: results.ErrUnfinished, Done: 3 * time.Second})
	if got, err := sentRate(write(unsent)); err != nil || math.Abs(got-1000) > 1e-6 {
		t.Errorf("with an unsent operation: sent rate %v, %v; want 1000", got, err)
	}
	ss[50].Error = results.ErrTimeout
	if got, err := sentRate(write(ss)); err == nil {
		t.Errorf("a run with a failed request gave rate %v", got)
	}
}

// TestTableSaysWhatIsMissing: a tool that was not installed or failed is
// a row saying so and every figure that needs it says "not measured",
// never a number.
func TestTableSaysWhatIsMissing(t *testing.T) {
	m := &measured{
		got:        map[string][]float64{"benchrun": {10, 11, 12}, "wrk": {20, 21, 22}, "hey": {10, 10}},
		open:       map[string][]float64{"benchrun": {19900, 19950, 19990}},
		notes:      map[string]string{"k6": "not installed: AGPL", "vegeta": "not installed: no network", "hey": "failed: hey | exploded"},
		figs:       []goFigure{{figure: "ingest", goal: 500_000, unit: "chunks/s"}, {figure: "rss", goal: 500, lower: true, unit: "MiB"}},
		figResults: []goResult{{value: 600_000}, {err: errors.New("3 of 10000 streams completed")}},
		rounds:     3, conns: 50, dur: time.Second,
	}
	var b strings.Builder
	m.writeTable(&b)
	out := b.String()
	for _, want := range []string{
		"| k6 | — | not installed: AGPL |",
		"| hey | — | failed: hey / exploded |",
		"| closed-loop req/s, benchrun ÷ hey | ≥ 1.0× | — | — | not measured: failed: hey / exploded |",
		"| closed-loop req/s, benchrun ÷ wrk | ≥ 0.7× | 11 vs 21 | 0.52× | short (75% of goal) |",
		"| open loop 20000 req/s: sent ÷ offered, benchrun | ≥ 0.99 | 19950 req/s | 0.998 | ok |",
		"| open loop 20000 req/s: sent ÷ offered, vegeta | — (information) | — | — | not measured: not installed: no network |",
		"| ingest | ≥ 500000 chunks/s | 600000 chunks/s | 1.20× | ok |",
		"| rss | ≤ 500 MiB | — | — | not measured: 3 of 10000 streams completed |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}
