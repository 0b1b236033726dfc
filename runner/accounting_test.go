package runner

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// TestRunCaseOpenUnsentAreUnfinished: open loop at 200/s against one slot
// whose operations never end: when the drain ends, the one in flight is
// unfinished with its send time, and every operation still waiting for
// the slot is unfinished without one. Every scheduled operation is a
// sample (offered = sent + unsent), none is canceled, all are errors.
func TestRunCaseOpenUnsentAreUnfinished(t *testing.T) {
	d := &fakeDriver{Block: true}
	l := results.Load{Mode: results.ModeOpen, Rate: 200, MaxConcurrency: 1, Duration: 100 * time.Millisecond, Drain: 30 * time.Millisecond}
	st, ss := runCase(t, context.Background(), Case{Driver: d, Load: l}, nil)
	if st.Scheduled != 20 || st.Completed != st.Scheduled || int64(len(ss)) != st.Scheduled {
		t.Fatalf("stats %+v, %d samples; want 20 scheduled, all written", st, len(ss))
	}
	sent, unsent := 0, 0
	for _, s := range ss {
		if s.Error != results.ErrUnfinished {
			t.Errorf("seq %d: error %q, want unfinished", s.Seq, s.Error)
		}
		if s.Sent == 0 {
			unsent++
		} else {
			sent++
		}
	}
	if sent != 1 || unsent != 19 || st.Unsent != 19 || st.Unfinished != 20 || st.Errors != 20 || st.Canceled != 0 || !st.DrainTimedOut {
		t.Errorf("%d sent and %d unsent samples, stats %+v; want 1 and 19, all unfinished", sent, unsent, st)
	}
}

// TestRunCaseInterruptIsNotUnfinished: operations stopped because benchrun
// was interrupted stay canceled, even when the drain ends later.
func TestRunCaseInterruptIsNotUnfinished(t *testing.T) {
	d := &fakeDriver{Block: true}
	l := results.Load{Mode: results.ModeOpen, Rate: 200, MaxConcurrency: 1, Duration: time.Hour, Drain: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	st, ss := runCase(t, ctx, Case{Driver: d, Load: l}, nil)
	if !st.Interrupted || st.Unfinished != 0 || st.Canceled != int64(len(ss)) || len(ss) == 0 {
		t.Errorf("stats %+v, %d samples; want all canceled, none unfinished", st, len(ss))
	}
}

// TestClaimTakesNoNumberWhenRefused: a closed-loop claim refused because
// the budget is spent takes no operation number. With the old order (take
// a number, then check the budget) a user refused at the end left a gap
// that a user still in its time-based warm-up then stepped over.
func TestClaimTakesNoNumberWhenRefused(t *testing.T) {
	r := &caseRun{
		c:     Case{Load: results.Load{Warmup: time.Second}},
		plan:  casePlan{requests: 1},
		spent: make(chan struct{}),
	}
	after, during := 2*time.Second, 500*time.Millisecond // of the warm-up
	if n, warm, ok := r.claim(after); !ok || warm || n != 0 {
		t.Fatalf("first claim: %d, warm %v, ok %v; want 0, measured", n, warm, ok)
	}
	if _, _, ok := r.claim(after); ok {
		t.Fatal("a claim past the budget was granted")
	}
	select {
	case <-r.spent:
	default:
		t.Error("a refused claim did not mark the budget spent")
	}
	if n, warm, ok := r.claim(during); !ok || !warm || n != 1 {
		t.Errorf("warm-up claim after a refused one: %d, warm %v, ok %v; want 1 (no gap), warm", n, warm, ok)
	}
}

// TestRunCaseClosedSeqsHaveNoGaps: many users racing for the last
// operations of a budget still use exactly the numbers 0..n−1.
func TestRunCaseClosedSeqsHaveNoGaps(t *testing.T) {
	for range 20 {
		l := results.Load{Mode: results.ModeClosed, Users: 32, Requests: 64, WarmupRequests: 3}
		_, ss := runCase(t, context.Background(), Case{Driver: &fakeDriver{}, Load: l}, nil)
		got := seqs(ss)
		for i, s := range got {
			if s != int64(i) {
				t.Fatalf("seqs %v, want 0..66", got)
			}
		}
		if len(got) != 67 {
			t.Fatalf("%d samples, want 67", len(got))
		}
	}
}

func TestBackoff(t *testing.T) {
	var b time.Duration
	var seq []time.Duration
	for range 10 {
		b = nextBackoff(b, true)
		seq = append(seq, b)
	}
	want := []time.Duration{5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000}
	for i := range want {
		if seq[i] != want[i]*time.Millisecond {
			t.Fatalf("backoffs %v, want %v ms", seq, want)
		}
	}
	if nextBackoff(b, false) != 0 {
		t.Error("a success did not reset the backoff")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		if j := jitter(time.Second, rng); j < 500*time.Millisecond || j > time.Second {
			t.Fatalf("jitter %v outside [500ms, 1s]", j)
		}
	}
}

// postDriver posts to URL through an Exchange, as the HTTP drivers do.
type postDriver struct {
	URL    string
	Client *http.Client
}

func (d postDriver) Do(ctx context.Context, op Op, s *results.Sample) {
	x := NewExchange(op, s)
	defer x.Settle()
	resp, _, done := x.Post(ctx, ClientOr(d.Client), d.URL, []byte("{}"), 0, nil)
	defer done()
	if resp != nil {
		resp.Body.Close()
	}
}

// deadURL returns the URL of a port where nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/v1/completions"
}

// maxAttempts is how many requests one user who is always refused can
// make in window when every backoff wait is as short as its jitter allows
// (half the backoff) and a refusal takes no time.
func maxAttempts(window time.Duration) int {
	n, at, b := 1, time.Duration(0), time.Duration(0)
	for {
		b = nextBackoff(b, true)
		at += b / 2
		if at >= window {
			return n
		}
		n++
	}
}

// TestRunCaseDeadPortBacksOff: 50 closed-loop users against a port where
// nothing listens for 1s make at most 50 × maxAttempts(1s) = 450 requests
// (without backoff: ~13,000/s), all of class connect.
func TestRunCaseDeadPortBacksOff(t *testing.T) {
	const users = 50
	l := results.Load{Mode: results.ModeClosed, Users: users, Duration: time.Second}
	_, ss := runCase(t, context.Background(), Case{Driver: postDriver{URL: deadURL(t)}, Load: l}, nil)
	bound := users * maxAttempts(time.Second)
	if len(ss) > bound || len(ss) < 2*users {
		t.Errorf("%d samples, want %d..%d", len(ss), 2*users, bound)
	}
	for _, s := range ss {
		if s.Error != results.ErrConnect {
			t.Fatalf("sample %+v, want connect", s)
		}
	}
}

// TestRunCaseOpenDeadPortKeepsSchedule: open loop against a dead port
// sends exactly its schedule: failures are fast but not repeated.
func TestRunCaseOpenDeadPortKeepsSchedule(t *testing.T) {
	l := results.Load{Mode: results.ModeOpen, Rate: 200, Duration: 500 * time.Millisecond}
	st, ss := runCase(t, context.Background(), Case{Driver: postDriver{URL: deadURL(t)}, Load: l}, nil)
	if len(ss) != 100 || st.Scheduled != 100 {
		t.Errorf("%d samples, %d scheduled; want the schedule's 100", len(ss), st.Scheduled)
	}
	for _, s := range ss {
		if s.Error != results.ErrConnect {
			t.Fatalf("sample %+v, want connect", s)
		}
	}
}

// TestProgressCountsConnectFailures: the progress counters count
// connect failures apart, so the application can probe the service when
// they rise; other failures are not counted there.
func TestProgressCountsConnectFailures(t *testing.T) {
	l := results.Load{Mode: results.ModeOpen, Rate: 200, Duration: 250 * time.Millisecond}
	var p Progress
	_, ss := runCase(t, context.Background(), Case{Driver: postDriver{URL: deadURL(t)}, Load: l}, &p)
	if snap := p.Snapshot(); snap.Connect != int64(len(ss)) || snap.Connect == 0 {
		t.Errorf("progress counted %d connect failures of %d samples, all connect", snap.Connect, len(ss))
	}
	var ok Progress
	runCase(t, context.Background(), Case{Driver: &fakeDriver{}, Load: results.Load{Mode: results.ModeClosed, Users: 1, Requests: 5}}, &ok)
	if snap := ok.Snapshot(); snap.Connect != 0 || snap.Completed != 5 {
		t.Errorf("a healthy case: progress %+v, want 5 completed and no connect failure", snap)
	}
}
