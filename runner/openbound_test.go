package runner

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// TestOpenLoopDefaultBoundConnections: an open loop without
// max_concurrency, offered far more than a server that never answers can
// take, opens at most the default in-flight bound of connections (counted
// by the server), instead of a new connection for every late request; the
// requests it held back are written unfinished and never sent, with the
// bound named in their detail, so nothing is dropped silently. Counts only,
// no timing: the server answers nothing until the drain cancels.
func TestOpenLoopDefaultBoundConnections(t *testing.T) {
	bound, window := defaultMaxInFlight, time.Second
	if raceDetector {
		// The race detector allows 8,128 goroutines; the full bound needs
		// about four per request (slot, server, the transport's two).
		bound, window = 64, 400*time.Millisecond
		defaultMaxInFlight = bound
		defer func() { defaultMaxInFlight = results.DefaultMaxInFlight }()
	}
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // then the server notices the client closing
		<-r.Context().Done()        // never answers: every slot stays busy
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	rate := 2.5 * float64(bound) / window.Seconds() // 2.5× the bound over the window
	l := results.Load{Mode: results.ModeOpen, Rate: rate, Duration: window, Drain: 300 * time.Millisecond}
	st, ss := runCase(t, context.Background(), Case{Driver: postDriver{URL: srv.URL, Client: ClientOr(nil)}, Load: l}, nil)

	if n := conns.Load(); n > int64(bound) || n == 0 {
		t.Errorf("the server saw %d connections; want between 1 and the bound %d", n, bound)
	}
	if st.Scheduled <= int64(bound) {
		t.Fatalf("%d operations scheduled; the test needs more than the bound %d", st.Scheduled, bound)
	}
	if st.Completed != st.Scheduled || int64(len(ss)) != st.Scheduled {
		t.Errorf("stats %+v, %d samples: every scheduled operation must be written", st, len(ss))
	}
	if st.Unfinished != st.Scheduled || st.Errors != st.Scheduled {
		t.Errorf("stats %+v: the server answered nothing, so every operation is unfinished and an error", st)
	}
	if st.Unsent < st.Scheduled-int64(bound) {
		t.Errorf("%d unsent of %d scheduled; at least %d were held back by the bound %d", st.Unsent, st.Scheduled, st.Scheduled-int64(bound), bound)
	}
	sent := 0
	for _, s := range ss {
		if s.Sent != 0 {
			sent++
			continue
		}
		if !strings.Contains(s.ErrorDetail, "without max_concurrency (the client held it)") {
			t.Errorf("seq %d unsent, detail %q: want the default bound named", s.Seq, s.ErrorDetail)
			break
		}
	}
	if sent > bound {
		t.Errorf("%d operations sent; at most the bound %d can be, the server answering none", sent, bound)
	}
}

// TestOpQueueStartsSlotsUpToTheBound: the queue asks for a new slot while
// none is idle and fewer than its bound are started, and only past the
// bound does an operation record that it waited (openOp.queued), so the
// slot wait is not confused with the hand-off to a fresh slot.
func TestOpQueueStartsSlotsUpToTheBound(t *testing.T) {
	q := newOpQueue(2)
	for i, want := range []bool{true, true, false, false} {
		if got := q.push(openOp{seq: int64(i)}, time.Duration(i+1)); got != want {
			t.Errorf("push %d: start a slot %v, want %v", i, got, want)
		}
	}
	for i := range 4 {
		op, ok := q.pop()
		if !ok || op.seq != int64(i) {
			t.Fatalf("pop %d: %+v %v, want seq %d in order", i, op, ok, i)
		}
		if queued := op.queued != 0; queued != (i >= 2) {
			t.Errorf("seq %d queued at %v: only the operations past the bound of 2 wait for a slot", i, op.queued)
		}
	}
	q.close()
	if _, ok := q.pop(); ok {
		t.Error("pop after close and empty returned an operation")
	}
}
