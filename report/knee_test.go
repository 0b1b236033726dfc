package report

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// TestSweepChartKnee: the knee analysis finds on a users sweep (throughput
// flat from 8 users on) is marked on the sweep chart at the knee case; a
// sweep without a knee has no marker. The chart's option is a golden file.
func TestSweepChartKnee(t *testing.T) {
	sum := &analysis.Summary{Suite: "s"}
	for _, u := range []int{1, 2, 4, 8, 16, 32} {
		us := strconv.Itoa(u)
		rps := 10 * float64(min(u, 8))
		p99 := 0.05 * float64(max(1, u/8))
		sum.Cases = append(sum.Cases, analysis.Case{ID: "chat/users=" + us, Benchmark: "chat", Params: map[string]string{"users": us},
			Metrics: map[string]analysis.Metric{
				analysis.MetricRequestsPerSecond: {Kind: analysis.KindRate, Unit: analysis.UnitRequestsPerSecond, Value: rps},
				analysis.MetricE2E:               {Kind: analysis.KindDistribution, Unit: analysis.UnitSeconds, Count: 500, P50: p99 / 2, P99: p99},
			}})
	}
	sum.Knees = analysis.Knees(sum.Cases)
	if len(sum.Knees) != 1 || sum.Knees[0].Case != "chat/users=8" {
		t.Fatalf("knees %+v: want one at users=8", sum.Knees)
	}
	in := &Input{Summary: sum}
	bms := in.benchmarks()
	if len(bms) != 1 || len(bms[0].Knees) != 1 {
		t.Fatalf("benchmarks %+v: the knee is not given to its benchmark", bms)
	}
	cs := sweepCharts("b0-sweep", bms[0])
	if len(cs) == 0 {
		t.Fatal("no sweep chart")
	}
	c := cs[0] // the e2e panel: the test's only latency family
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, c.Option, "", "  "); err != nil {
		t.Fatal(err)
	}
	golden(t, "sweep-knee.json", append(pretty.Bytes(), '\n'))
	if !strings.Contains(string(c.Option), "knee: users=8 (e2e)") {
		t.Errorf("the chart does not mark the knee at users=8: %s", c.Option)
	}
	bms[0].Knees = nil
	if cs := sweepCharts("b0-sweep", bms[0]); len(cs) == 0 || strings.Contains(string(cs[0].Option), "knee") {
		t.Error("a sweep without a knee has a knee marker")
	}
}
