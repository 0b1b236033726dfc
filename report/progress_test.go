package report

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the progress goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgressPlain(t *testing.T) {
	var out syncBuffer
	p := NewProgress(&out, 2, ProgressOptions{})
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p.mu.Lock()
	p.now = func() time.Time { return clock }
	p.mu.Unlock()
	var req, errs int64 = 0, 0
	p.StartCase("chat/users=8", func() (int64, int64) { return req, errs })
	req, errs = 1200, 3
	clock = clock.Add(12 * time.Second)
	p.tick() // what the 10 s ticker does
	req = 2000
	clock = clock.Add(30 * time.Second)
	p.EndCase("done")
	p.tick() // between cases: nothing to say
	p.StartCase("chat/users=16", nil)
	p.EndCase("skipped")
	p.Stop()
	p.Stop()
	p.StartCase("late", nil) // after Stop: ignored
	want := "benchrun: case 1/2 chat/users=8: started\n" +
		"benchrun: case 1/2 chat/users=8: 12s, 1200 requests, 100.0 req/s, 3 errors\n" +
		"benchrun: case 1/2 chat/users=8: done in 42s, 2000 requests, 47.6 req/s, 3 errors\n" +
		"benchrun: case 2/2 chat/users=16: started\n" +
		"benchrun: case 2/2 chat/users=16: skipped in 0s, 0 requests, 0 errors\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A batch case counts runs, not requests.
func TestProgressRuns(t *testing.T) {
	var out syncBuffer
	p := NewProgress(&out, 1, ProgressOptions{})
	p.StartCaseOf("io500", "runs", func() (int64, int64) { return 2, 0 })
	p.EndCase("done")
	p.Stop()
	if got := out.String(); !strings.Contains(got, "benchrun: case 1/1 io500: done in 0s, 2 runs, 0 errors\n") {
		t.Errorf("got\n%s", got)
	}
}

func TestProgressTTY(t *testing.T) {
	var out syncBuffer
	p := NewProgress(&out, 2, ProgressOptions{TTY: true, Width: 100})
	p.StartCase("chat/users=8", func() (int64, int64) { return 10, 1 })
	p.tick()
	p.EndCase("done")
	p.StartCase("chat/users=16", func() (int64, int64) { return 5, 5 })
	p.EndCase("error")
	p.Stop()
	if s := out.String(); !strings.Contains(s, "chat/users=16") || !strings.Contains(s, "cases") {
		t.Errorf("tty progress lacks the cases:\n%q", s)
	}
}

// A duration-bound case (CI mode): elapsed/total, rate and live TTFT.
func TestProgressPlainDetail(t *testing.T) {
	var out syncBuffer
	p := NewProgress(&out, 1, ProgressOptions{})
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p.mu.Lock()
	p.now = func() time.Time { return clock }
	p.mu.Unlock()
	var req int64
	p.StartCaseDetail("chat/users=8", "requests", func() (int64, int64) { return req, 1 },
		CaseDetail{Duration: 30 * time.Second, TTFT: func() (time.Duration, time.Duration) { return 31400 * time.Microsecond, 120 * time.Millisecond }})
	req, clock = 250, clock.Add(10*time.Second)
	p.tick()
	req, clock = 750, clock.Add(20*time.Second)
	p.EndCase("done")
	p.Stop()
	want := "benchrun: case 1/1 chat/users=8: started\n" +
		"benchrun: case 1/1 chat/users=8: 10s/30s, 250 requests, 25.0 req/s, ttft p50 31ms p99 120ms, 1 errors\n" +
		"benchrun: case 1/1 chat/users=8: done in 30s, 750 requests, 25.0 req/s, ttft p50 31ms p99 120ms, 1 errors\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(out.String(), "\x1b") {
		t.Error("ANSI escape in CI-mode progress")
	}
}

// On a terminal a duration-bound case's message carries elapsed/total,
// errors (early: a narrow terminal cuts the tail), requests, rate and
// TTFT; an ended one says its state instead of the total, and its bar
// reaches its end only then (go-pretty stops redrawing a full tracker).
func TestProgressTTYMessage(t *testing.T) {
	var out syncBuffer
	p := NewProgress(&out, 1, ProgressOptions{TTY: true, Width: 80})
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	p.mu.Lock()
	p.now = func() time.Time { return clock }
	p.mu.Unlock()
	p.StartCaseDetail("chat/users=8", "requests", func() (int64, int64) { return 250, 2 },
		CaseDetail{Duration: 30 * time.Second, TTFT: func() (time.Duration, time.Duration) { return 31 * time.Millisecond, 120 * time.Millisecond }})
	clock = clock.Add(40 * time.Second) // longer than planned: draining
	p.tick()
	p.mu.Lock()
	msg, done := p.trackerMessage(250, 2, ""), p.current.IsDone()
	p.mu.Unlock()
	if want := "1/1 chat/users=8: 40s/30s, 2 errors, 250 requests, 6.2 req/s, ttft p50 31ms p99 120ms"; msg != want || done {
		t.Errorf("running: %q (done %v), want %q, not done", msg, done, want)
	}
	p.EndCase("done")
	if !p.current.IsDone() || !strings.HasPrefix(p.current.Message, "1/1 chat/users=8: done in 40s, 2 errors") {
		t.Errorf("ended: %q done %v", p.current.Message, p.current.IsDone())
	}
	p.Stop()
}
