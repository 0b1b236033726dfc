package openai

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
)

// instantCompletion is a whole /v1/completions response as vLLM sends it
// (the body ci/benchpeers' instant server answers with).
var instantCompletion = []byte(`{"id":"cmpl-instant","object":"text_completion","created":1700000000,"model":"m",` +
	`"choices":[{"index":0,"text":" one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen",` +
	`"logprobs":null,"finish_reason":"length","stop_reason":null}],` +
	`"usage":{"prompt_tokens":16,"total_tokens":32,"completion_tokens":16}}`)

// BenchmarkNonStreamClosed50 is the non-streaming product path per request:
// runner.RunCase, closed loop, 50 users, the openai driver (completions,
// stream = false) and the sample file, against an in-process server that
// answers at once. One op is one request, so -benchmem's allocs/op and B/op
// are per request (the server's share included: it runs in this process);
// req/s is the rate over the run, and cpu-µs/op the process's CPU time
// (user and system, getrusage) per request, which other load on the
// machine disturbs far less than the rate. Compare across commits with
// benchstat.
func BenchmarkNonStreamClosed50(b *testing.B) { benchNonStreamClosed50(b, 0) }

// BenchmarkNonStreamClosed50Timeout is BenchmarkNonStreamClosed50 with the
// per-request timeout an openai workload has by default (5m, suites), as
// benchrun suite runs it.
func BenchmarkNonStreamClosed50Timeout(b *testing.B) { benchNonStreamClosed50(b, 5*time.Minute) }

func benchNonStreamClosed50(b *testing.B, timeout time.Duration) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(instantCompletion)))
		w.Write(instantCompletion)
	}))
	defer srv.Close()
	d, err := New(Options{BaseURL: srv.URL, API: APICompletions, Model: "m", Dataset: cycle{}, Timeout: timeout})
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Prepare(context.Background()); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "samples.jsonl")
	w, err := results.CreateSampleFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	l := results.Load{Mode: results.ModeClosed, Users: 50, Requests: int64(b.N)}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	st, err := runner.RunCase(context.Background(), runner.Case{ID: "nonstream", Load: l, Driver: d}, start, w, nil)
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if st.Errors != 0 || st.Completed != int64(b.N) {
		b.Fatalf("%d of %d requests failed, %d completed", st.Errors, b.N, st.Completed)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
	b.ReportMetric(cpu.Seconds()*1e6/float64(b.N), "cpu-µs/op")
}

// cpuTime returns the CPU time this process used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
