package runner

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// benchHTTPDriver is the smallest driver that behaves like a real one: a
// shared http.Client, the request bound to the operation's context, the body
// read in full (or streamed) with a pooled buffer, errors classified.
type benchHTTPDriver struct {
	client *http.Client
	url    string
	stream bool // record first/last token and ITL per chunk read
}

var benchBufs = sync.Pool{New: func() any { b := make([]byte, 4<<10); return &b }}

func newBenchTransport(conns int) *http.Transport {
	return &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     0, // unlimited: one connection per in-flight request
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
}

func (d *benchHTTPDriver) Do(ctx context.Context, op Op, s *results.Sample) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
	if err != nil {
		s.Error, s.ErrorDetail = results.ErrOther, err.Error()
		return
	}
	resp, err := d.client.Do(req)
	if err != nil {
		s.Error, s.ErrorDetail = results.ErrConnect, err.Error()
		if ctx.Err() != nil {
			s.Error = results.ErrCanceled
		}
		s.Done = time.Since(op.Start)
		return
	}
	defer resp.Body.Close()
	s.Status = resp.StatusCode
	bp := benchBufs.Get().(*[]byte)
	defer benchBufs.Put(bp)
	var last time.Duration
	for {
		n, err := resp.Body.Read(*bp)
		if n > 0 && d.stream {
			now := time.Since(op.Start)
			if s.FirstToken == 0 {
				s.FirstByte, s.FirstToken = now, now
			} else {
				s.ITL = append(s.ITL, now-last)
			}
			last, s.LastToken = now, now
			s.OutputTokens += bytes.Count((*bp)[:n], []byte("\n\n"))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			s.Error, s.ErrorDetail = results.ErrStreamTruncated, err.Error()
			if ctx.Err() != nil {
				s.Error = results.ErrCanceled
			}
			break
		}
	}
	s.Done = time.Since(op.Start)
	if s.Error == "" && resp.StatusCode != http.StatusOK {
		s.Error = results.ErrHTTP5xx
	}
}

// benchPercentile is linear interpolation between closest ranks (the
// definition analysis uses) of sorted xs.
func benchPercentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	h := q * float64(len(xs)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-lo)*(xs[i+1]-xs[i])
}

// benchRun runs c with samples written to a real file and returns them.
func benchRun(b testing.TB, c Case) (CaseStats, []results.Sample) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "samples.jsonl")
	w, err := results.CreateSampleFile(path)
	if err != nil {
		b.Fatal(err)
	}
	st, err := RunCase(context.Background(), c, time.Now(), w, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	var ss []results.Sample
	if err := results.ReadSampleFile(path, func(s *results.Sample) error { ss = append(ss, *s); return nil }); err != nil {
		b.Fatal(err)
	}
	return st, ss
}

// BenchmarkOpenLoop2000 drives 2,000 req/s constant for 5 s against a
// loopback server that answers at once. Goals: achieved rate within 0.5% of
// the target, queue delay p99 < 1 ms.
func BenchmarkOpenLoop2000(b *testing.B) {
	const rate = 2000.0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	tr := newBenchTransport(1000)
	defer tr.CloseIdleConnections()
	d := &benchHTTPDriver{client: &http.Client{Transport: tr}, url: srv.URL}
	l := results.Load{Mode: results.ModeOpen, Rate: rate, Duration: 5 * time.Second, Warmup: 500 * time.Millisecond}

	var achieved, qd99, qdMax, errs float64
	cpu0 := processCPU()
	for range b.N {
		_, ss := benchRun(b, Case{ID: "open2000", Driver: d, Load: l})
		var qd []float64
		var first, last time.Duration = -1, 0
		n := 0
		for _, s := range ss {
			if s.Warmup {
				continue
			}
			if !s.OK() {
				errs++
			}
			qd = append(qd, (s.Sent - s.Scheduled).Seconds())
			if first < 0 || s.Sent < first {
				first = s.Sent
			}
			last = max(last, s.Sent)
			n++
		}
		slices.Sort(qd)
		achieved += float64(n-1) / (last - first).Seconds()
		qd99 += benchPercentile(qd, 0.99)
		qdMax = max(qdMax, qd[len(qd)-1])
	}
	achieved /= float64(b.N)
	qd99 /= float64(b.N)
	b.ReportMetric(achieved, "req/s")
	b.ReportMetric(math.Abs(achieved/rate-1)*100, "rate-err-%")
	b.ReportMetric(qd99*1e3, "queue-p99-ms")
	b.ReportMetric(qdMax*1e3, "queue-max-ms")
	b.ReportMetric(errs/float64(b.N), "errors")
	// The process's CPU time (client and in-process server, the
	// dispatcher's spinning included) per request sent.
	b.ReportMetric((processCPU()-cpu0).Seconds()*1e6/(rate*l.Duration.Seconds()*float64(b.N)), "cpu-µs/req")
}

// processCPU returns the CPU time this process used so far, user and
// system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkUsers10k runs 10,000 closed-loop users, each streaming one
// SSE-like response that trickles a chunk every 100 ms for 3 s. The server
// is a separate helper process (the test binary, started with
// StartService), so each side has its own descriptor limit and the peak RSS
// (VmHWM) is the load generator's alone. Goal: < 1024 MiB.
func BenchmarkUsers10k(b *testing.B) {
	users := 10_000
	if limit, err := raiseNoFile(uint64(users + 1000)); limit < uint64(users+500) {
		users = int(limit) - 500
		b.Logf("RLIMIT_NOFILE %d (%v): running %d users", limit, err, users)
	}
	const chunks, every = 30, 100 * time.Millisecond
	addr := freeLoopbackAddr(b)
	cmd, env := serviceHelperCommand("sse", "HELPER_ADDR="+addr,
		"HELPER_CHUNKS="+strconv.Itoa(chunks), "HELPER_EVERY="+every.String())
	// The child inherits the raised descriptor limit.
	srv, err := StartService(context.Background(), Service{
		Name: "sse", Command: cmd, Env: env, URL: "http://" + addr,
		LogPath: filepath.Join(b.TempDir(), "sse.log"),
		Probe:   Probe{URL: "http://" + addr + "/health", Interval: 20 * time.Millisecond, Timeout: time.Minute},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop(context.Background())
	url := srv.Service.URL + "/stream"
	tr := newBenchTransport(users)
	defer tr.CloseIdleConnections()
	d := &benchHTTPDriver{client: &http.Client{Transport: tr}, url: url, stream: true}
	l := results.Load{Mode: results.ModeClosed, Users: users, Requests: int64(users), Duration: 2 * time.Minute}

	resetPeakRSS()
	var peak, ok, elapsed float64
	var goroutines int
	for range b.N {
		done := make(chan struct{})
		go func() { // sample the goroutine count while streams are open
			t := time.NewTicker(250 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					goroutines = max(goroutines, runtime.NumGoroutine())
				}
			}
		}()
		st, ss := benchRun(b, Case{ID: "users10k", Driver: d, Load: l})
		close(done)
		for _, s := range ss {
			if s.OK() && s.OutputTokens >= chunks {
				ok++
			}
		}
		elapsed += st.Elapsed.Seconds()
		peak = max(peak, peakRSS())
	}
	b.ReportMetric(float64(users), "users")
	b.ReportMetric(ok/float64(b.N), "ok-streams")
	b.ReportMetric(peak/(1<<20), "peak-rss-MiB")
	b.ReportMetric(float64(goroutines), "peak-goroutines")
	b.ReportMetric(elapsed/float64(b.N), "case-s")
}

// raiseNoFile raises RLIMIT_NOFILE to at least want if allowed and returns
// the soft limit in effect.
func raiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	next := lim
	next.Cur = want
	next.Max = max(lim.Max, want)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err != nil {
		// Not privileged: take what the hard limit allows.
		next = lim
		next.Cur = lim.Max
		err2 := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		if err2 == nil {
			err2 = err
		}
		return lim.Cur, err2
	}
	return want, nil
}

// resetPeakRSS resets VmHWM (Linux ≥ 4.0) so earlier benchmarks in the same
// process do not count.
func resetPeakRSS() {
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns VmHWM in bytes, or NaN where /proc is missing.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			f := bytes.Fields(rest) // "123456 kB"
			if len(f) >= 1 {
				kb, err := strconv.ParseFloat(string(f[0]), 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	return math.NaN()
}
