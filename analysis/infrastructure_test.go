package analysis

import (
	"strings"
	"testing"

	"github.com/benchrun/benchrun/runner/results"
)

// infraCase summarises a case of ok successful operations and failed ones
// by class, after one warm-up connect failure and one canceled operation
// that must count nowhere.
func infraCase(t *testing.T, ok int, failed map[string]int) Case {
	t.Helper()
	warm := results.Sample{Warmup: true, Scheduled: 0, Sent: ms, Done: 2 * ms, Error: results.ErrConnect}
	canceled := results.Sample{Scheduled: ms, Sent: 2 * ms, Done: 3 * ms, Error: results.ErrCanceled}
	ss := []results.Sample{warm, canceled}
	at := 10 * ms
	for range ok {
		ss = append(ss, okSample(0, at, 20*ms, 4))
		at += ms
	}
	for _, class := range knownErrorClasses {
		for range failed[class] {
			ss = append(ss, results.Sample{Scheduled: at, Sent: at + ms, Done: at + 2*ms, Error: class})
			at += ms
		}
	}
	f := writeSamples(t, t.TempDir(), "c.jsonl", ss)
	c, _, err := SummarizeCase(results.CaseInfo{ID: "c", Status: results.StatusDone, Repetitions: 1}, []string{f}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestInfrastructureErrorRate: connect and client failures are counted
// apart from the server's, over the measured operations only, and above
// the limit the case is an execution error that shows the classes.
func TestInfrastructureErrorRate(t *testing.T) {
	tests := []struct {
		name   string
		ok     int
		failed map[string]int
		limit  float64
		rate   float64
		errs   []string // substrings of the one error; nil: no error
	}{
		{"healthy", 200, nil, DefaultInfrastructureLimit, 0, nil},
		{"server errors are not infrastructure", 100, map[string]int{results.ErrHTTP5xx: 100, results.ErrTimeout: 20}, DefaultInfrastructureLimit, 0, nil},
		{"one refused connection in 200 is data", 199, map[string]int{results.ErrConnect: 1}, DefaultInfrastructureLimit, 0.005, nil},
		{"limit 0 allows none", 199, map[string]int{results.ErrConnect: 1}, 0, 0.005, []string{"1 of 200 measured operations (0.5%: connect 0.5%)", "limit of 0%"}},
		{"a dead service", 1, map[string]int{results.ErrConnect: 999}, DefaultInfrastructureLimit, 0.999,
			[]string{"999 of 1000 measured operations (99.9%: connect 99.9%)", "limit of 1%", "not the server"}},
		{"out of file descriptors", 60, map[string]int{results.ErrClient: 30, results.ErrConnect: 10}, 0.05, 0.4,
			[]string{"40 of 100", "connect 10%, client 30%", "limit of 5%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := infraCase(t, tt.ok, tt.failed)
			m, ok := c.Metrics[MetricInfrastructureErrorRate]
			if !ok || !near(m.Value, tt.rate) || m.Count != tt.ok+sum(tt.failed) || m.Unit != UnitRatio || m.Kind != KindRate {
				t.Fatalf("%s = %+v (present %t), want %v of %d", MetricInfrastructureErrorRate, m, ok, tt.rate, tt.ok+sum(tt.failed))
			}
			c.ApplyInfrastructureLimit(tt.limit)
			c.Rollup()
			if tt.errs == nil {
				if len(c.Errors) > 0 || c.Verdict != Pass {
					t.Errorf("verdict %s, errors %q; want pass", c.Verdict, c.Errors)
				}
				return
			}
			if len(c.Errors) != 1 || c.Verdict != Error {
				t.Fatalf("verdict %s, errors %q; want one error", c.Verdict, c.Errors)
			}
			for _, want := range tt.errs {
				if !strings.Contains(c.Errors[0], want) {
					t.Errorf("error %q lacks %q", c.Errors[0], want)
				}
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestInfrastructureLimitNoMeasurement: a case that measured nothing keeps
// its own error and gets no second one.
func TestInfrastructureLimitNoMeasurement(t *testing.T) {
	c := Case{Metrics: map[string]Metric{}, Errors: []string{"no measured operations"}}
	c.ApplyInfrastructureLimit(0)
	if len(c.Errors) != 1 {
		t.Errorf("errors %q", c.Errors)
	}
}
