package baselines

import (
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// TestLookupSpec: promote's headlines, the history and `baseline show`
// read a spec the same way — a bare metric is its default statistic,
// p99.9 is p999, and a missing metric or statistic is not a zero.
func TestLookupSpec(t *testing.T) {
	ms := map[string]Metric{
		"ttft":       {Metric: analysis.Metric{Kind: analysis.KindDistribution, Unit: "s", P50: 0.1, P999: 0.9}},
		"error_rate": {Metric: analysis.Metric{Kind: analysis.KindRate, Unit: "ratio", Value: 0.02}},
	}
	for _, c := range []struct {
		spec, name, stat string
		v                float64
		ok               bool
	}{
		{"ttft.p50", "ttft", "p50", 0.1, true},
		{"ttft.p99.9", "ttft", "p999", 0.9, true},
		{"error_rate", "error_rate", "value", 0.02, true},
		{"ttft.nosuch", "ttft", "nosuch", 0, false},
		{"itl.p50", "itl", "p50", 0, false},
	} {
		name, stat, _, v, ok := LookupSpec(ms, c.spec)
		if name != c.name || stat != c.stat || v != c.v || ok != c.ok {
			t.Errorf("LookupSpec(%q) = %q %q %v %v, want %q %q %v %v", c.spec, name, stat, v, ok, c.name, c.stat, c.v, c.ok)
		}
	}
}
