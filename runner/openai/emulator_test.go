package openai

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/dataset"
	"github.com/benchrun/benchrun/runner/emulate"
	"github.com/benchrun/benchrun/runner/internal/drivertest"
	"github.com/benchrun/benchrun/runner/results"
)

// percentile is linear interpolation between closest ranks (numpy's
// default), on a copy of xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	h := p / 100 * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

func TestPercentile(t *testing.T) {
	xs := []float64{4, 1, 3, 2}
	for p, want := range map[float64]float64{0: 1, 50: 2.5, 100: 4, 25: 1.75} {
		if got := percentile(xs, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
}

// drive runs users goroutines, each doing perUser operations back to back
// (a closed loop without think time), and returns every sample. User u
// starts at u*stagger, so that arrivals are not one burst on a small
// machine where client and emulator share the cores.
func drive(d runner.Driver, users, perUser int, stagger time.Duration) []results.Sample {
	start := time.Now()
	out := make([]results.Sample, users*perUser)
	var wg sync.WaitGroup
	for u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(u) * stagger)
			for i := range perUser {
				seq := int64(u*perUser + i)
				s := &out[seq]
				s.Seq = seq
				s.Scheduled = time.Since(start)
				s.Sent = s.Scheduled
				d.Do(context.Background(), runner.Op{Start: start, Seq: seq}, s)
			}
		}()
	}
	wg.Wait()
	return out
}

// latencies returns TTFTs (from Sent) and pooled ITLs in milliseconds.
func latencies(tb testing.TB, samples []results.Sample, outputTokens int) (ttft, itl []float64) {
	tb.Helper()
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	for _, s := range samples {
		if s.Error != "" {
			tb.Fatalf("sample %d failed: %s: %s", s.Seq, s.Error, s.ErrorDetail)
		}
		if outputTokens > 0 && (s.OutputTokens != outputTokens || s.TokenSource != results.TokensFromUsage || len(s.ITL) != outputTokens-1) {
			tb.Fatalf("sample %d: %d output tokens (%s), %d gaps; want %d", s.Seq, s.OutputTokens, s.TokenSource, len(s.ITL), outputTokens)
		}
		ttft = append(ttft, ms(s.FirstToken-s.Sent))
		for _, g := range s.ITL {
			itl = append(itl, ms(g))
		}
	}
	return ttft, itl
}

// fixedTiming is the emulator configuration the accuracy checks use.
func fixedTiming(slots int) emulate.Options {
	return emulate.Options{Flavor: emulate.FlavorVLLM, Model: "m", Slots: slots,
		PrefillBase: 20 * time.Millisecond, DecodeBase: 5 * time.Millisecond}
}

// newEmulatedOpenAI returns a streaming driver for url; client nil means
// the driver's own.
func newEmulatedOpenAI(tb testing.TB, url string, outputTokens int, client *http.Client) *Driver {
	tb.Helper()
	ds, err := dataset.New(dataset.Options{PromptTokens: 32, OutputTokens: outputTokens, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	d, err := New(Options{BaseURL: url, Stream: true, IgnoreEOS: true, Dataset: ds, Client: client})
	if err != nil {
		tb.Fatal(err)
	}
	if err := d.Prepare(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return d
}

// TestEmulatorTimingAccuracy: 64 concurrent streams against an emulator
// with exact timing measure what it was configured with: TTFT p50 within
// 5ms, ITL p50 within 1ms, output tokens exact. Margins are generous and
// one clean attempt of up to eight is required, because other processes
// share this machine's cores: under `go test ./...` other test binaries
// load both cores for seconds at a time, the in-process emulator's tokens
// then really leave late (ITL p50 8–11ms was measured with the cores
// busy), and back-to-back attempts all fell in the same busy spell. So
// the attempts are spread over up to ~16s, pausing 250ms, then twice as
// long each time up to 4s; a quiet machine passes the first at once.
// BenchmarkAccuracy64 reports the precise errors.
func TestEmulatorTimingAccuracy(t *testing.T) {
	const tokens = 24
	d := newEmulatedOpenAI(t, drivertest.StartEmulator(t, fixedTiming(64)), tokens, nil)
	if d.Model() != "m" {
		t.Fatalf("discovered model %q", d.Model())
	}
	var problems []string
	pause := 250 * time.Millisecond
	for attempt := 1; attempt <= 8; attempt++ {
		if attempt > 1 {
			time.Sleep(pause)
			pause = min(2*pause, 4*time.Second)
		}
		samples := drive(d, 64, 2, 80*time.Microsecond)
		for _, s := range samples {
			if s.InputTokens != 32 {
				t.Fatalf("input tokens %d, want 32 (usage.prompt_tokens, exact under the word convention)", s.InputTokens)
			}
		}
		ttft, itl := latencies(t, samples, tokens)
		t.Logf("attempt %d: ttft n=%d p50 %.2f p99 %.2f ms; itl n=%d p50 %.3f p99 %.3f ms", attempt, len(ttft),
			percentile(ttft, 50), percentile(ttft, 99), len(itl), percentile(itl, 50), percentile(itl, 99))
		problems = problems[:0]
		if p50 := percentile(ttft, 50); math.Abs(p50-20) > 5 {
			problems = append(problems, fmt.Sprintf("ttft p50 %.2fms, want 20±5ms", p50))
		}
		if p50 := percentile(itl, 50); math.Abs(p50-5) > 1 {
			problems = append(problems, fmt.Sprintf("itl p50 %.2fms, want 5±1ms", p50))
		}
		if len(problems) == 0 || drivertest.RaceEnabled {
			return
		}
	}
	t.Error(strings.Join(problems, "; "))
}

// TestEmulatorQueueingInTTFT: with 8 slots and 32 users the later waves
// queue, and TTFT (measured from the send) includes the wait.
func TestEmulatorQueueingInTTFT(t *testing.T) {
	const tokens = 16
	d := newEmulatedOpenAI(t, drivertest.StartEmulator(t, fixedTiming(8)), tokens, nil)
	ttft, _ := latencies(t, drive(d, 32, 1, 0), tokens)
	// A request holds its slot 20 + 15*5 = 95ms: the waves start at about
	// 0, 95, 190 and 285ms.
	if p := percentile(ttft, 0); p > 60 && !drivertest.RaceEnabled {
		t.Errorf("ttft min %.1fms: the first wave should not queue", p)
	}
	if p := percentile(ttft, 99); p < 250 {
		t.Errorf("ttft p99 %.1fms, want ≥ 250ms (queueing behind three waves)", p)
	}
}

// BenchmarkAccuracy64 reports how far 64 concurrent streams measure from
// the emulator's configured timing (TTFT 20ms, ITL 5ms): errors in ms.
// Goals: ttft p50 ±1ms, p99 ±3ms, itl p50 ±0.2ms. Here the emulator shares
// the load generator's process; BenchmarkAccuracy64OutOfProcess is the
// realistic setup.
func BenchmarkAccuracy64(b *testing.B) {
	benchAccuracy(b, drivertest.StartEmulator(b, fixedTiming(64)), burst, nil)
}

// Arrival patterns of the accuracy benchmarks: the 64 users start 80µs
// apart (a burst: the closed loop keeps them nearly in step, so 64 requests
// are sent within a few ms, and their tokens arrive together), or spread
// over one request's duration (20ms + 31 × 5ms), as a ramp-up would.
const (
	burst  = 80 * time.Microsecond
	ramped = 175 * time.Millisecond / 64
)

// benchAccuracy drives 64 users, 10 requests each per iteration, against
// url with client (nil: the driver's own, with kernel receive stamps) and
// reports the errors against the fixed timing. 640 TTFTs per iteration: at
// -benchtime 1x (make bench) p99 still rests on the 6 slowest.
func benchAccuracy(b *testing.B, url string, stagger time.Duration, client *http.Client) {
	const tokens = 32
	d := newEmulatedOpenAI(b, url, tokens, client)
	// A warm-up round opens the 64 connections: dialling is not what is
	// being measured.
	drive(d, 64, 1, stagger)
	var ttft, itl []float64
	for b.Loop() {
		t, i := latencies(b, drive(d, 64, 10, stagger), tokens)
		ttft, itl = append(ttft, t...), append(itl, i...)
	}
	b.ReportMetric(percentile(ttft, 50)-20, "ttft_p50_err_ms")
	b.ReportMetric(percentile(ttft, 99)-20, "ttft_p99_err_ms")
	b.ReportMetric(percentile(itl, 50)-5, "itl_p50_err_ms")
	b.ReportMetric(percentile(itl, 99)-5, "itl_p99_err_ms")
}

// TestEmulatorHelperProcess is not a test: BenchmarkAccuracy64OutOfProcess
// re-runs the test binary with BENCHRUN_EMULATOR_HELPER=1 so the emulator
// runs in a process of its own, as a real server would, instead of
// sharing the load generator's Go scheduler.
func TestEmulatorHelperProcess(t *testing.T) {
	if os.Getenv("BENCHRUN_EMULATOR_HELPER") != "1" {
		t.Skip("helper process for BenchmarkAccuracy64OutOfProcess")
	}
	e, err := emulate.New(fixedTiming(64))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	e.NewServer().Serve(runner.ReceiveListener(ln)) // runs until the benchmark kills the process
}

// BenchmarkAccuracy64OutOfProcess is BenchmarkAccuracy64 with the emulator
// in its own process, as a real server is: under a burst and ramped up,
// and, for comparison in the same run, a burst measured by a client
// without kernel receive stamps (chunks timed when the process reads them).
func BenchmarkAccuracy64OutOfProcess(b *testing.B) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestEmulatorHelperProcess$")
	cmd.Env = append(os.Environ(), "BENCHRUN_EMULATOR_HELPER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	url := "http://" + strings.TrimSpace(strings.TrimPrefix(line, "listening "))
	unstamped := http.DefaultTransport.(*http.Transport).Clone()
	unstamped.MaxIdleConnsPerHost = 64
	b.Run("burst", func(b *testing.B) { benchAccuracy(b, url, burst, nil) })
	b.Run("ramped", func(b *testing.B) { benchAccuracy(b, url, ramped, nil) })
	b.Run("burst-unstamped", func(b *testing.B) { benchAccuracy(b, url, burst, &http.Client{Transport: unstamped}) })
}
