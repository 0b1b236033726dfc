package runner

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// TestRunCaseOutOfFilesIsClient: a client out of file descriptors (the
// soft RLIMIT_NOFILE lowered to the descriptors already open, as
// `ulimit -n` with too many users does) records every request as class
// client, not connect, although the server is up; and its users back off
// as they do from a dead server. (No test of package runner runs in
// parallel, so the lowered limit touches this test only.)
func TestRunCaseOutOfFilesIsClient(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // accept fails too while the limit is low
	srv.Start()
	defer srv.Close()
	d := postDriver{URL: srv.URL, Client: ClientOr(nil)}

	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	// The lowest free descriptor: every one below it is open, so with the
	// limit there the next socket fails with EMFILE.
	free, err := syscall.Dup(0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Close(free)
	low := orig
	low.Cur = uint64(free)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skipf("cannot lower RLIMIT_NOFILE: %v", err)
	}
	const users = 10
	window := 300 * time.Millisecond
	l := results.Load{Mode: results.ModeClosed, Users: users, Duration: window, Drain: 2 * time.Second}
	var buf bytes.Buffer
	st, err := RunCase(context.Background(), Case{Driver: d, Load: l}, time.Now(), results.NewSampleWriter(&buf), nil)
	if rerr := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); rerr != nil {
		t.Fatal(rerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	classes := map[string]int64{}
	results.ReadSamples(&buf, func(s *results.Sample) error { classes[s.Error]++; return nil })
	// A descriptor closed elsewhere in the process meanwhile would let one
	// socket through: one request may be otherwise, none connect.
	if classes[results.ErrClient] < st.Completed-1 || classes[results.ErrConnect] > 0 || st.Completed < users {
		t.Errorf("classes %v of %d requests: want all client", classes, st.Completed)
	}
	if bound := int64(users * maxAttempts(window)); st.Completed > bound {
		t.Errorf("%d requests, want ≤ %d: users did not back off", st.Completed, bound)
	}
}
