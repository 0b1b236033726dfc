package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/benchrun/benchrun/ci"
)

// goFigure is one row of the table measured by a Go benchmark of the
// repository: the benchmark's metric, its goal and where it comes from.
type goFigure struct {
	figure    string
	pkg       string // package directory, e.g. runner/openai
	bench     string // benchmark name, sub-benchmark included (BenchmarkX/burst)
	benchtime string
	pin       bool     // run on the tool CPU alone (a one-core figure)
	metric    string   // the unit the benchmark reports
	scale     float64  // measured = metric × scale (0: 1)
	unit      string   // of the measured figure
	goal      float64  // NaN: no goal (information)
	lower     bool     // the figure must stay at or below goal; else at or above
	abs       bool     // compare |measured| (an error that may be negative)
	env       []string // added to the benchmark's environment
	check     func(m map[string]float64) error
}

// goFigures are issue 18's figures that Go benchmarks measure.
func goFigures() []goFigure {
	return []goFigure{
		{figure: "streaming ingest on one core (BenchmarkStreamIngest: SSE framing, chunk decode, stamps)", pkg: "runner/openai",
			bench: "BenchmarkStreamIngest", benchtime: "50x", pin: true, metric: "chunks/s", unit: "chunks/s", goal: 500_000},
		{figure: fmt.Sprintf("peak RSS, 10,000 concurrent streams (BenchmarkUsers10k, GOGC=%d as benchrun generates load)", ci.LoadGOGC), pkg: "runner",
			bench: "BenchmarkUsers10k", benchtime: "1x", metric: "peak-rss-MiB", unit: "MiB", goal: 500, lower: true,
			env: []string{"GOGC=" + strconv.Itoa(ci.LoadGOGC)},
			check: func(m map[string]float64) error {
				if m["ok-streams"] != m["users"] || m["users"] < 10_000 {
					return fmt.Errorf("%.0f of %.0f streams completed", m["ok-streams"], m["users"])
				}
				return nil
			}},
		{figure: "open loop 2,000 req/s: achieved rate error (BenchmarkOpenLoop2000)", pkg: "runner",
			bench: "BenchmarkOpenLoop2000", benchtime: "1x", metric: "rate-err-%", unit: "%", goal: 0.5, lower: true, check: noErrors},
		{figure: "open loop 2,000 req/s: queue delay p99 (BenchmarkOpenLoop2000)", pkg: "runner",
			bench: "BenchmarkOpenLoop2000", benchtime: "1x", metric: "queue-p99-ms", unit: "ms", goal: 1, lower: true, check: noErrors},
		{figure: "timing accuracy, 64 streams: ttft p50 error (BenchmarkAccuracy64OutOfProcess/burst)", pkg: "runner/openai",
			bench: "BenchmarkAccuracy64OutOfProcess/burst", benchtime: "1x", metric: "ttft_p50_err_ms", unit: "ms", goal: 1, lower: true, abs: true},
		{figure: "timing accuracy, 64 streams: ttft p99 error", pkg: "runner/openai",
			bench: "BenchmarkAccuracy64OutOfProcess/burst", benchtime: "1x", metric: "ttft_p99_err_ms", unit: "ms", goal: 3, lower: true, abs: true},
		{figure: "timing accuracy, 64 streams: itl p50 error", pkg: "runner/openai",
			bench: "BenchmarkAccuracy64OutOfProcess/burst", benchtime: "1x", metric: "itl_p50_err_ms", unit: "ms", goal: 0.2, lower: true, abs: true},
		{figure: "summarising 10M latencies, one metric (BenchmarkDist10M)", pkg: "analysis",
			bench: "BenchmarkDist10M", benchtime: "1x", metric: "s/op", unit: "s", goal: 3, lower: true},
		{figure: "summarising 10M samples, a whole case (BenchmarkSummarizeCase10M)", pkg: "analysis",
			bench: "BenchmarkSummarizeCase10M", benchtime: "1x", metric: "s/op", unit: "s", goal: math.NaN()},
		{figure: "summarising 10M samples: peak heap", pkg: "analysis",
			bench: "BenchmarkSummarizeCase10M", benchtime: "1x", metric: "peak-heap-MB", unit: "MB", goal: 500, lower: true},
		{figure: "rendering a 100-case HTML report (BenchmarkWriteHTML100Cases)", pkg: "report",
			bench: "BenchmarkWriteHTML100Cases", benchtime: "1x", metric: "ns/op", scale: 1e-9, unit: "s", goal: math.NaN()},
		{figure: "rendering a 100-case HTML report: size", pkg: "report",
			bench: "BenchmarkWriteHTML100Cases", benchtime: "1x", metric: "bytes/report", scale: 1.0 / (1 << 20), unit: "MiB", goal: 5, lower: true},
	}
}

func noErrors(m map[string]float64) error {
	if e, ok := m["errors"]; !ok || e != 0 {
		return fmt.Errorf("%v failed requests", e)
	}
	return nil
}

// goResult is a figure's outcome: a value, or why there is none.
type goResult struct {
	value float64
	err   error
}

// runGoFigures builds each package's test binary once, runs each
// benchmark once (figures of one benchmark share the run) and returns the
// figures' results in order.
func runGoFigures(ctx context.Context, e *benchEnv, figs []goFigure) []goResult {
	bins := map[string]string{}
	runs := map[string]map[string]float64{}
	errs := map[string]error{}
	out := make([]goResult, len(figs))
	for i, f := range figs {
		key := f.pkg + " " + f.bench
		if _, done := runs[key]; !done && errs[key] == nil {
			m, err := runGoBench(ctx, e, bins, f)
			runs[key], errs[key] = m, err
			fmt.Fprintf(os.Stderr, "%s %s: %v %v\n", f.pkg, f.bench, m, err)
		}
		out[i] = figureValue(f, runs[key], errs[key])
	}
	return out
}

func figureValue(f goFigure, m map[string]float64, err error) goResult {
	if err != nil {
		return goResult{err: err}
	}
	if f.check != nil {
		if err := f.check(m); err != nil {
			return goResult{err: err}
		}
	}
	v, ok := m[f.metric]
	if !ok {
		return goResult{err: fmt.Errorf("%s reported no %s", f.bench, f.metric)}
	}
	if f.scale != 0 {
		v *= f.scale
	}
	return goResult{value: v}
}

func runGoBench(ctx context.Context, e *benchEnv, bins map[string]string, f goFigure) (map[string]float64, error) {
	bin, ok := bins[f.pkg]
	if !ok {
		bin = filepath.Join(e.dir, strings.ReplaceAll(f.pkg, "/", "_")+".test")
		if out, err := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, "./"+f.pkg).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go test -c ./%s: %v\n%s", f.pkg, err, tail(out))
		}
		bins[f.pkg] = bin
	}
	top, _, _ := strings.Cut(f.bench, "/")
	argv := []string{bin, "-test.run", "^$", "-test.bench", "^" + top + "$", "-test.benchtime", f.benchtime, "-test.timeout", "10m"}
	if f.pin {
		argv = append(slices.Clone(e.pin), argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = f.pkg // the package directory, as go test runs it
	cmd.Env = append(os.Environ(), f.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s: %v\n%s", f.bench, err, tail(out))
	}
	return benchMetrics(string(out), f.bench)
}

// benchLine matches a benchmark result line: name-GOMAXPROCS, iterations,
// then value/unit pairs.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// benchMetrics returns the metrics of benchmark name in go test output
// (its last result line). No line is an error, never zeros.
func benchMetrics(out, name string) (map[string]float64, error) {
	var m map[string]float64
	for _, line := range strings.Split(out, "\n") {
		g := benchLine.FindStringSubmatch(strings.TrimSpace(line))
		if g == nil || g[1] != name {
			continue
		}
		fs := strings.Fields(g[2])
		if len(fs)%2 != 0 {
			return nil, fmt.Errorf("%s: unpaired metrics in %q", name, line)
		}
		m = map[string]float64{}
		for i := 0; i < len(fs); i += 2 {
			v, err := strconv.ParseFloat(fs[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %v", name, line, err)
			}
			m[fs[i+1]] = v
		}
	}
	if m == nil {
		return nil, fmt.Errorf("no result line for %s in:\n%s", name, tail([]byte(out)))
	}
	return m, nil
}

// verdict compares measured with the figure's goal: ratio is measured ÷
// goal (for an upper bound, goal ÷ measured, so that above 1 is better
// either way), "ok", "short (N% of goal)" or "info".
func (f goFigure) verdict(measured float64) (ratio float64, text string) {
	if math.IsNaN(f.goal) {
		return math.NaN(), "info"
	}
	v := measured
	if f.abs {
		v = math.Abs(v)
	}
	if f.lower {
		ratio = f.goal / v
	} else {
		ratio = v / f.goal
	}
	if ratio >= 1 || (f.lower && v <= f.goal) {
		return ratio, "ok"
	}
	return ratio, fmt.Sprintf("short (%.0f%% of goal)", 100*ratio)
}

func (f goFigure) goalText() string {
	if math.IsNaN(f.goal) {
		return "— (none set)"
	}
	op := "≥"
	if f.lower {
		op = "≤"
		if f.abs {
			op = "within ±"
		}
	}
	return op + " " + formatFigure(f.goal, f.unit)
}

func formatFigure(v float64, unit string) string {
	switch {
	case math.Abs(v) >= 1000 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64) + " " + unit
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64) + " " + unit
	default:
		return strconv.FormatFloat(v, 'g', 3, 64) + " " + unit
	}
}
