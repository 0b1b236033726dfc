package runner

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// TestOpenLoopOneP: with one P (a load generator pinned to one core) the
// open-loop dispatcher must not spin: a spinning goroutine keeps the run
// queue busy, the scheduler stops polling the network, and every response
// waits for sysmon (up to 10 ms). 1,000 req/s to a server that answers at
// once must then see sub-millisecond latencies, and the rate sent.
func TestOpenLoopOneP(t *testing.T) {
	if testing.Short() {
		t.Skip("a 1.5 s open loop")
	}
	if raceDetector {
		t.Skip("SKIPPING under the race detector: one P cannot send 1,000 req/s with its overhead, and the test measures latency")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	tr := newBenchTransport(100)
	defer tr.CloseIdleConnections()
	d := &benchHTTPDriver{client: &http.Client{Transport: tr}, url: srv.URL}
	l := results.Load{Mode: results.ModeOpen, Rate: 1000, Arrival: results.ArrivalConstant, Duration: 1500 * time.Millisecond, Warmup: 500 * time.Millisecond}
	_, ss := benchRun(t, Case{ID: "onep", Driver: d, Load: l})
	var lat []time.Duration
	var first, last time.Duration = -1, 0
	for _, s := range ss {
		if s.Warmup {
			continue
		}
		if !s.OK() {
			t.Fatalf("request %d failed: %s %s", s.Seq, s.Error, s.ErrorDetail)
		}
		lat = append(lat, s.Done-s.Sent)
		if first < 0 || s.Sent < first {
			first = s.Sent
		}
		last = max(last, s.Sent)
	}
	if len(lat) < 900 {
		t.Fatalf("%d measured requests, want about 1000", len(lat))
	}
	slices.Sort(lat)
	if p50 := lat[len(lat)/2]; p50 > 2*time.Millisecond {
		t.Errorf("latency p50 %v with one P, want < 2ms: the dispatcher starves the network poller", p50)
	}
	if rate := float64(len(lat)-1) / (last - first).Seconds(); rate < 970 || rate > 1030 {
		t.Errorf("sent %.0f req/s of 1000", rate)
	}
}
