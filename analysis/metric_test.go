package analysis

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// TestMetricNamesAndKindsMatchSummarize checks MetricNames and KindOf
// against what SummarizeCase produces: every metric it computes from
// samples failing with every error class is named by MetricNames (Values
// and Server keys aside) and has the kind KindOf says.
func TestMetricNamesAndKindsMatchSummarize(t *testing.T) {
	s := []results.Sample{okSample(0, 0, 100*ms, 11), okSample(0, 1000*ms, 200*ms, 11)}
	s[0].Values = map[string]float64{"recall_at_10": 0.9, "ttft": 1}
	s[0].Server = map[string]float64{"load_duration": 0.5}
	for i, class := range knownErrorClasses {
		at := time.Duration(2000+100*i) * ms
		s = append(s, results.Sample{Scheduled: at, Sent: at + ms, Done: at + 50*ms, Error: class})
	}
	f := writeSamples(t, t.TempDir(), "a.jsonl", s)
	c, _, err := SummarizeCase(results.CaseInfo{ID: "c", Status: "done", Repetitions: 1}, []string{f},
		Options{SLO: map[string]float64{MetricTTFT: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	names := MetricNames()
	if !slices.IsSorted(names) {
		t.Errorf("MetricNames not sorted: %q", names)
	}
	for name, m := range c.Metrics {
		if got := KindOf(name); got != m.Kind {
			t.Errorf("KindOf(%q) = %s, SummarizeCase made a %s", name, got, m.Kind)
		}
		own := name == "recall_at_10" || name == "values_ttft" || strings.HasPrefix(name, ServerPrefix)
		if !own && !slices.Contains(names, name) {
			t.Errorf("SummarizeCase made %s, which MetricNames lacks", name)
		}
	}
	for _, name := range names {
		if _, ok := c.Metrics[name]; !ok {
			t.Errorf("MetricNames has %s, which SummarizeCase did not make", name)
		}
	}
}

// TestErrorClassesMatchRunner keeps knownErrorClasses in step with the error
// class constants of package runner: all of them but canceled.
func TestErrorClassesMatchRunner(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "runner", "results", "sample.go"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)// Error classes recorded in Sample\.Error.*?\n\)`).Find(src)
	if block == nil {
		t.Fatal("runner/sample.go: no error class block")
	}
	var want []string
	for _, m := range regexp.MustCompile(`(Err\w+)\s*=\s*"([^"]+)"`).FindAllSubmatch(block, -1) {
		if string(m[1]) != "ErrCanceled" {
			want = append(want, string(m[2]))
		}
	}
	if !slices.Equal(knownErrorClasses, want) {
		t.Errorf("knownErrorClasses = %q, runner has %q", knownErrorClasses, want)
	}
}

func TestStatNames(t *testing.T) {
	if got := StatNames(KindRate); !slices.Equal(got, []string{"count", "value"}) {
		t.Errorf("StatNames(rate) = %q", got)
	}
	want := []string{"count", "max", "mean", "min", "p50", "p90", "p95", "p99", "p999", "stddev"}
	if got := StatNames(KindDistribution); !slices.Equal(got, want) {
		t.Errorf("StatNames(distribution) = %q, want %q", got, want)
	}
	for in, want := range map[string]string{"median": "p50", "p99.9": "p999", "p(95)": "p95", "rate": "value", "avg": "mean"} {
		if got, ok := NormalizeStat(in); !ok || got != want {
			t.Errorf("NormalizeStat(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := NormalizeStat("p59"); ok {
		t.Error("NormalizeStat accepted p59")
	}
}

func TestStatPercentile(t *testing.T) {
	for _, tt := range []struct {
		stat string
		p    float64
		ok   bool
	}{{"p50", 50, true}, {"p95", 95, true}, {"p999", 99.9, true}, {"mean", 0, false}, {"max", 0, false}, {"p98", 0, false}} {
		if p, ok := StatPercentile(tt.stat); p != tt.p || ok != tt.ok {
			t.Errorf("StatPercentile(%q) = %v, %v; want %v, %v", tt.stat, p, ok, tt.p, tt.ok)
		}
	}
	want := []string{"count", "mean", "stddev", "min", "p50", "p90", "p95", "p99", "p999", "max"}
	if got := DistStats(); !slices.Equal(got, want) {
		t.Errorf("DistStats() = %q, want %q", got, want)
	}
	// Every statistic reads back the field it names.
	m := Metric{Kind: KindDistribution, Count: 1, Mean: 2, Stddev: 3, Min: 4, P50: 5, P90: 6, P95: 7, P99: 8, P999: 9, Max: 10}
	for i, st := range want {
		if v, ok := m.Stat(st); !ok || v != float64(i+1) {
			t.Errorf("Stat(%q) = %v, %v; want %d", st, v, ok, i+1)
		}
	}
}
