package drivertest

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/dataset"
	"github.com/benchrun/benchrun/runner/emulate"
	"github.com/benchrun/benchrun/runner/h1"
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
	srv, body, _ := streamServer(t, contentType, steps)
	return srv, body
}

// Written is when a stream server wrote one step: just before its Write
// and just after its Flush returned, on this process's clock.
type Written struct{ Before, After time.Time }

// TimedStreamServer is StreamServer, and the returned function gives when
// each step of the last response was written, so a test can compare what
// a client measured with what the server really did (its sleeps oversleep
// on a busy machine).
func TimedStreamServer(t *testing.T, contentType string, steps ...Step) (*httptest.Server, func() []Written) {
	t.Helper()
	srv, _, written := streamServer(t, contentType, steps)
	return srv, written
}

func streamServer(t *testing.T, contentType string, steps []Step) (*httptest.Server, func() []byte, func() []Written) {
	var mu sync.Mutex
	var body []byte
	var written []Written
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		body = b
		written = written[:0]
		mu.Unlock()
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		for _, s := range steps {
			time.Sleep(s.Wait)
			before := time.Now()
			w.Write([]byte(s.Data))
			w.(http.Flusher).Flush()
			mu.Lock()
			written = append(written, Written{before, time.Now()})
			mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []byte {
			mu.Lock()
			defer mu.Unlock()
			return body
		}, func() []Written {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(written)
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
	return DoAt(ctx, d, seq, time.Now())
}

// DoAt is Do with the operation's start (offset zero of the sample) given.
func DoAt(ctx context.Context, d runner.Driver, seq int64, start time.Time) results.Sample {
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

// SlowClients are HTTP clients whose connections are stamped
// (runner.ReceiveDialer) and return every read delay late, by transport:
// "h1", the one benchrun's own client sends plain-http requests with
// (runner/h1), and "net/http", its fallback for the rest.
func SlowClients(delay time.Duration) map[string]*http.Client {
	dial := runner.ReceiveDialer(&net.Dialer{})
	slowDial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return slowConn{Conn: c, delay: delay}, nil
	}
	fallback := &http.Transport{DialContext: slowDial}
	return map[string]*http.Client{
		"h1":       {Transport: &h1.Transport{Dial: slowDial, Fallback: fallback}},
		"net/http": {Transport: fallback},
	}
}

// WarmStamps makes sure the kernel stamps received segments for the rest
// of the test. Linux stamps only while some socket asks for it, and turns
// stamping on lazily (in a deferred work item) when the first one does:
// on a busy machine a new connection's first segments can come unstamped
// for a while. WarmStamps keeps a stamped connection open until the test
// ends and waits until its reads are stamped.
func WarmStamps(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := runner.WrapReceive(raw)
	srv := <-accepted
	if srv == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); srv.Close() })
	buf := make([]byte, 8)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		srv.Write([]byte("x"))
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		if _, ok := runner.ReceiveTime(c); ok {
			return
		}
	}
	t.Fatal("the kernel stamps no received segment")
}

// CheckStampedAtArrival checks a sample of a stream read by one of
// SlowClients(delay), which returns every read delay after its bytes
// arrived. tokens are when the server wrote the stream's token-bearing
// chunks, start the operation's start (DoAt). Each chunk must be timed at
// its arrival: no earlier than its write, and within delay/2 of it,
// nowhere near the read delay later. Comparing with the server's real
// writes, rather than with the waits it was given, keeps the check exact
// when a busy machine makes the server's sleeps overrun.
func CheckStampedAtArrival(t *testing.T, s results.Sample, start time.Time, tokens []Written, delay time.Duration) {
	t.Helper()
	if s.Error != "" {
		t.Fatalf("%s: %s", s.Error, s.ErrorDetail)
	}
	if len(s.ITL) != len(tokens)-1 {
		t.Fatalf("itl %v, want %d gaps", s.ITL, len(tokens)-1)
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	at := s.FirstToken
	for i, w := range tokens {
		if i > 0 {
			at += s.ITL[i-1]
		}
		lo, hi := w.Before.Sub(start)-time.Millisecond, w.After.Sub(start)+delay/2
		if at < lo || at > hi {
			t.Errorf("token chunk %d timed at %.1fms, written at %.1f–%.1fms: want its arrival, not the read %v later",
				i, ms(at), ms(w.Before.Sub(start)), ms(w.After.Sub(start)), delay)
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

// WireEnd is how a RawServer ends a connection after its bytes.
type WireEnd int

const (
	KeepOpen WireEnd = iota
	CloseConn
	ResetConn // RST instead of FIN: SO_LINGER 0, then close
)

// RawServer answers the n-th request (from 1, over all connections) with
// respond's bytes, written as they are, and ends the connection as it
// says: a server that frames, cuts and repeats responses as no real
// server would, to see what the driver makes of them.
func RawServer(t *testing.T, respond func(n int) (string, WireEnd)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var reqs atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, r.Body)
					raw, end := respond(int(reqs.Add(1)))
					io.WriteString(c, raw)
					switch end {
					case CloseConn:
						return
					case ResetConn:
						c.(*net.TCPConn).SetLinger(0)
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}
