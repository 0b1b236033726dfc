package ci

import (
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/suites"
)

// TestProgressDetail: a case bound by time shows its planned length
// (warm-up and duration of every repetition) so the terminal draws a
// determinate bar; one bound by a request count has none; the live TTFT
// is read from the case's own counters.
func TestProgressDetail(t *testing.T) {
	src := `schema_version = 1
[suite]
name = "p"
[[service]]
name = "llm"
kind = "emulator"
[[benchmark]]
name = "timed"
service = "llm"
repetitions = 3
  [benchmark.workload]
  duration = "2m"
  warmup = "10s"
[[benchmark]]
name = "counted"
service = "llm"
  [benchmark.workload]
  requests = 50
`
	s, err := suites.Parse("p.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	cases := s.Cases()
	var c runner.Progress
	if d := progressDetail(cases[0], &c); d.Duration != 3*(2*time.Minute+10*time.Second) {
		t.Errorf("timed case: duration %v, want 6m30s", d.Duration)
	}
	if d := progressDetail(cases[1], &c); d.Duration != 0 {
		t.Errorf("request-bound case: duration %v, want none", d.Duration)
	}
	if p50, p99 := progressDetail(cases[0], &c).TTFT(); p50 != 0 || p99 != 0 {
		t.Errorf("no request yet: ttft %v %v, want 0", p50, p99)
	}
}
