package drivertest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/dataset"
	"github.com/benchrun/benchrun/runner/emulate"
	"github.com/benchrun/benchrun/runner/results"
)

// Fixed is a dataset that returns P for every seq.
type Fixed struct{ P dataset.Prompt }

func (d Fixed) Prompt(int64) dataset.Prompt { return d.P }
func (d Fixed) Hash() string                { return "fixed" }
func (d Fixed) Len() int                    { return 1 }

// ThreeWords is the dataset most driver tests send: "one two three",
// asking for 8 output tokens.
var ThreeWords = Fixed{dataset.Prompt{Text: "one two three", InputTokens: 3, MaxTokens: 8}}

// Step is one write of a handcrafted stream: wait, then write and flush.
type Step struct {
	Wait time.Duration
	Data string
}

// StreamServer serves steps as a text/event-stream (or any contentType),
// recording the last request body, which the returned function gives.
// (It takes the lock: the race detector does not see the ordering that a
// response read with recvmsg gives.)
func StreamServer(t *testing.T, contentType string, steps ...Step) (*httptest.Server, func() []byte) {
	t.Helper()
	var mu sync.Mutex
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		body = b
		mu.Unlock()
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		for _, s := range steps {
			time.Sleep(s.Wait)
			w.Write([]byte(s.Data))
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []byte {
		mu.Lock()
		defer mu.Unlock()
		return body
	}
}

// Bytewise splits data into one step per byte, so the client sees events
// split across TCP reads.
func Bytewise(data string) []Step {
	var out []Step
	for i := range len(data) {
		out = append(out, Step{Data: data[i : i+1]})
	}
	return out
}

// Do runs one operation the way the load generator does.
func Do(ctx context.Context, d runner.Driver, seq int64) results.Sample {
	start := time.Now()
	s := results.Sample{Seq: seq, Sent: time.Since(start)}
	d.Do(ctx, runner.Op{Start: start, Seq: seq}, &s)
	return s
}

// slowConn returns every read late, as a busy client would get to the
// bytes. Its receive time is that of the connection it wraps.
type slowConn struct {
	net.Conn
	delay time.Duration
}

func (c slowConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	time.Sleep(c.delay)
	return n, err
}

func (c slowConn) ReceiveTime() (time.Time, bool) { return runner.ReceiveTime(c.Conn) }

// SlowClient is an HTTP client whose connections are stamped
// (runner.ReceiveDialer) and return every read delay late.
func SlowClient(delay time.Duration) *http.Client {
	dial := runner.ReceiveDialer(&net.Dialer{})
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return slowConn{Conn: c, delay: delay}, nil
	}}}
}

// CheckStampedAtArrival checks a sample of a stream whose first token was
// sent after 30ms and the next two 80ms apart, read 50ms late.
func CheckStampedAtArrival(t *testing.T, s results.Sample) {
	t.Helper()
	if s.Error != "" {
		t.Fatalf("%s: %s", s.Error, s.ErrorDetail)
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	if ttft := ms(s.FirstToken - s.Sent); ttft < 29 || ttft > 65 {
		t.Errorf("ttft %.1fms, want about 30ms (the arrival, not the read 50ms later)", ttft)
	}
	if len(s.ITL) != 2 {
		t.Fatalf("itl %v, want 2 gaps", s.ITL)
	}
	for _, g := range s.ITL {
		if g := ms(g); g < 75 || g > 125 {
			t.Errorf("itl gap %.1fms, want about 80ms", g)
		}
	}
	if s.Done < s.LastToken || s.LastToken < s.FirstToken || s.FirstByte > s.FirstToken {
		t.Errorf("offsets out of order: first byte %v, first token %v, last token %v, done %v", s.FirstByte, s.FirstToken, s.LastToken, s.Done)
	}
}

// StartEmulator serves an emulator on loopback for the test's lifetime.
func StartEmulator(tb testing.TB, o emulate.Options) string {
	tb.Helper()
	e, err := emulate.New(o)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = e.NewServer()
	srv.Listener = runner.ReceiveListener(srv.Listener)
	srv.Start()
	tb.Cleanup(func() {
		e.Close()
		srv.Close()
	})
	return srv.URL
}

// ChunkReader returns b in pieces whose sizes cycle through sizes (each
// size%17+1 bytes; one byte at a time when sizes is empty), so a fuzzer
// can split a stream across reads arbitrarily.
type ChunkReader struct {
	b     []byte
	sizes []byte
	i     int
}

// NewChunkReader returns a reader of b split by sizes.
func NewChunkReader(b, sizes []byte) *ChunkReader { return &ChunkReader{b: b, sizes: sizes} }

func (c *ChunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(c.sizes) > 0 {
		n = int(c.sizes[c.i%len(c.sizes)])%17 + 1
		c.i++
	}
	n = min(n, len(p), len(c.b))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}
