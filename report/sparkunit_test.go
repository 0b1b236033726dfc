package report

import (
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// TestSparklineUnitChange: a case's sparkline drawn from the site's runs
// leaves out older runs whose statistic is in another unit than the
// newest run's, rather than drawing both on one line under one unit.
func TestSparklineUnitChange(t *testing.T) {
	run := func(start string, v float64, unit string) PagesRun {
		return PagesRun{Suite: "s", Start: start, sum: &analysis.Summary{Suite: "s", Cases: []analysis.Case{{ID: "c", Verdict: analysis.Pass,
			Metrics: map[string]analysis.Metric{"m": {Kind: analysis.KindRate, Unit: unit, Count: 1, Value: v}}}}}}
	}
	rs := []PagesRun{run("2026-11-04T00:00:00Z", 3e9, "bytes/s"), run("2026-11-03T00:00:00Z", 2.9e9, "bytes/s"),
		run("2026-11-02T00:00:00Z", 5000, "ops/s"), run("2026-11-01T00:00:00Z", 5100, "ops/s")}
	vals, unit := siteValues(rs, "c", "m", "value")
	if unit != "bytes/s" || len(vals) != 2 || vals[0] != 2.9e9 || vals[1] != 3e9 {
		t.Errorf("siteValues = %v %q: want the two bytes/s runs", vals, unit)
	}
}
