package live

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
)

func TestObserve(t *testing.T) {
	m := New("nightly")
	var p runner.Progress
	m.StartCase("chat/users=1", &p)
	ms := time.Millisecond
	m.Observe("chat/users=1", &results.Sample{Scheduled: 0, Sent: 2 * ms, FirstToken: 40 * ms, LastToken: 100 * ms, Done: 101 * ms, InputTokens: 10, OutputTokens: 5})
	m.Observe("chat/users=1", &results.Sample{Scheduled: 0, Sent: ms, Done: 5 * ms, Error: results.ErrHTTP5xx})
	m.Observe("chat/users=1", &results.Sample{Warmup: true, Sent: ms, Done: 5 * ms})
	want := `
# HELP benchrun_requests_total Operations completed, by case and outcome (ok, an error class, or warmup).
# TYPE benchrun_requests_total counter
benchrun_requests_total{case="chat/users=1",outcome="http_5xx",suite="nightly"} 1
benchrun_requests_total{case="chat/users=1",outcome="ok",suite="nightly"} 1
benchrun_requests_total{case="chat/users=1",outcome="warmup",suite="nightly"} 1
# HELP benchrun_tokens_total Tokens of successful measured operations, by direction (input, output).
# TYPE benchrun_tokens_total counter
benchrun_tokens_total{case="chat/users=1",direction="input",suite="nightly"} 10
benchrun_tokens_total{case="chat/users=1",direction="output",suite="nightly"} 5
# HELP benchrun_case_running 1 while the case runs.
# TYPE benchrun_case_running gauge
benchrun_case_running{case="chat/users=1",suite="nightly"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "benchrun_requests_total", "benchrun_tokens_total", "benchrun_case_running"); err != nil {
		t.Fatal(err)
	}
	// Latency from the schedule to the last token; lag of the two sent
	// measured operations.
	if got := testutil.CollectAndCount(m.latency); got != 1 {
		t.Fatalf("latency series %d", got)
	}
	if n, sum := histogram(t, m, "benchrun_request_duration_seconds"); n != 1 || sum != 0.1 {
		t.Errorf("duration count %d sum %v, want 1 and 0.1 s (scheduled → last token)", n, sum)
	}
	if n, sum := histogram(t, m, "benchrun_generator_lag_seconds"); n != 2 || sum != 0.003 {
		t.Errorf("lag count %d sum %v, want 2 and 3 ms", n, sum)
	}
	m.EndCase("chat/users=1")
	if testutil.ToFloat64(m.running.WithLabelValues("chat/users=1")) != 0 {
		t.Error("case still running after EndCase")
	}
}

func histogram(t *testing.T, m *Metrics, name string) (uint64, float64) {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			h := f.GetMetric()[0].GetHistogram()
			return h.GetSampleCount(), h.GetSampleSum()
		}
	}
	t.Fatalf("no %s", name)
	return 0, 0
}
