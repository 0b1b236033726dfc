package runner

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"runtime"
	"testing"
	"time"
)

// tcpPair returns a connected client (wrapped by WrapReceive) and server.
func tcpPair(t *testing.T) (client, server net.Conn) {
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
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return WrapReceive(c), s
}

// warmStamps waits until the kernel stamps received segments: it turns
// timestamping on globally only after the first socket asks, and lazily.
func warmStamps(t *testing.T) {
	t.Helper()
	c, s := tcpPair(t)
	buf := make([]byte, 8)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.Write([]byte("x"))
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		if _, ok := ReceiveTime(c); ok {
			return
		}
	}
	t.Fatal("the kernel stamps no received segment")
}

// TestReceiveTimeIsArrival: bytes read 60ms after they arrived are stamped
// with their arrival, not the read.
func TestReceiveTimeIsArrival(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("kernel receive stamps are read on Linux only")
	}
	warmStamps(t)
	c, s := tcpPair(t)
	if _, ok := ReceiveTime(c); ok {
		t.Fatal("a receive time before any read")
	}
	sent := time.Now()
	if _, err := s.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	read := time.Now()
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	rx, ok := ReceiveTime(c)
	if !ok {
		t.Fatal("no receive time after a read")
	}
	if rx.Before(sent) || read.Sub(rx) < 40*time.Millisecond {
		t.Errorf("received %v after the write and %v before the read; want the arrival, about 60ms before the read",
			rx.Sub(sent), read.Sub(rx))
	}
}

// TestReceiveConnReads: the wrapped connection reads like a net.Conn: a
// zero-length read, EOF, and a deadline that is a timeout.
func TestReceiveConnReads(t *testing.T) {
	c, s := tcpPair(t)
	if n, err := c.Read(nil); n != 0 || err != nil {
		t.Errorf("empty read: %d, %v", n, err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := c.Read(make([]byte, 4))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read past the deadline: %v, want a timeout", err)
	}
	c.SetReadDeadline(time.Time{})
	s.Write([]byte("abc"))
	s.Close()
	b, err := io.ReadAll(c)
	if string(b) != "abc" || err != nil {
		t.Errorf("ReadAll: %q, %v", b, err)
	}
	if cw, ok := c.(interface{ CloseWrite() error }); !ok {
		t.Error("no CloseWrite")
	} else if err := cw.CloseWrite(); err != nil {
		t.Errorf("CloseWrite: %v", err)
	}
	if _, ok := c.(io.WriterTo); ok {
		t.Error("the wrapped connection exposes WriteTo, which would read around the stamps")
	}
}

// TestReceiveTimeThroughTLS: an HTTPS client dialled with ReceiveDialer
// finds the stamps under the *tls.Conn. The kernel stamps segments only
// while some socket asks for it, and turns stamping on lazily after the
// first one does: once the previous tests' sockets are closed, this
// connection's reads may come unstamped, so the test warms the stamps
// first, as TestReceiveTimeIsArrival does (it failed ~7 times in 200
// without).
func TestReceiveTimeThroughTLS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("kernel receive stamps are read on Linux only")
	}
	warmStamps(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = ReceiveDialer(&net.Dialer{})
	var conn net.Conn
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { conn = i.Conn },
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	start := time.Now()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	if _, ok := conn.(*tls.Conn); !ok {
		t.Fatalf("connection %T, want *tls.Conn", conn)
	}
	rx, ok := ReceiveTime(conn)
	if !ok || rx.Before(start) || rx.After(time.Now()) {
		t.Errorf("receive time %v (ok %v), want within the request", rx.Sub(start), ok)
	}
}

// stampedConn is a connection whose receive time is given.
type stampedConn struct {
	net.Conn
	at time.Time
}

func (c stampedConn) ReceiveTime() (time.Time, bool) { return c.at, !c.at.IsZero() }

// TestRequestArrival: the emulator starts a request's clock at its
// connection's receive stamp, and at the handler's start when there is no
// usable stamp.
func TestRequestArrival(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name   string
		conn   net.Conn
		stamp  bool
		wantAt time.Time
	}{
		{"stamp", stampedConn{at: now.Add(-30 * time.Millisecond)}, true, now.Add(-30 * time.Millisecond)},
		{"no stamp yet", stampedConn{}, false, time.Time{}},
		{"stale stamp", stampedConn{at: now.Add(-time.Minute)}, false, time.Time{}},
		{"future stamp", stampedConn{at: now.Add(time.Minute)}, false, time.Time{}},
		{"no connection", nil, false, time.Time{}},
	} {
		r := httptest.NewRequest(http.MethodPost, "/v1/completions", nil)
		if tc.conn != nil {
			r = r.WithContext(ConnContext(r.Context(), tc.conn))
		}
		before := time.Now()
		got := RequestArrival(r)
		if tc.stamp && !got.Equal(tc.wantAt) {
			t.Errorf("%s: arrival %v, want the stamp %v", tc.name, got, tc.wantAt)
		}
		if !tc.stamp && (got.Before(before) || got.After(time.Now())) {
			t.Errorf("%s: arrival %v, want the handler's start", tc.name, got.Sub(before))
		}
	}
}

// TestReceiveClock: a stamp converts to the monotonic clock through its
// age; a missing or implausible one (in the future, older than
// maxReceiveAge) or one read after a wall-clock step is dropped.
func TestReceiveClock(t *testing.T) {
	var c receiveClock
	if _, ok := c.time(); ok {
		t.Fatal("a time before any stamp")
	}
	const wall0 = int64(1_700_000_000_000_000_000)
	mono := time.Hour // after rxBase
	read := func(age time.Duration, ok bool, wallShift time.Duration) (time.Duration, bool) {
		mono += 10 * time.Millisecond
		wall := wall0 + int64(mono) + int64(wallShift)
		c.observeAt(wall-int64(age), ok, mono, wall)
		got, has := c.time()
		return mono - got.Sub(rxBase), has
	}
	if before, ok := read(3*time.Millisecond, true, 0); !ok || before != 3*time.Millisecond {
		t.Errorf("recent stamp: %v before the read (ok %v), want 3ms", before, ok)
	}
	if _, ok := read(0, false, 0); ok {
		t.Error("a read without a stamp kept the older one")
	}
	if _, ok := read(-time.Second, true, 0); ok {
		t.Error("a stamp in the future was kept")
	}
	if _, ok := read(time.Minute, true, 0); ok {
		t.Error("a stamp older than maxReceiveAge was kept")
	}
	if _, ok := read(time.Millisecond, true, 2*time.Second); ok {
		t.Error("a stamp read after the wall clock stepped 2s was kept")
	}
	if before, ok := read(time.Millisecond, true, 2*time.Second); !ok || before != time.Millisecond {
		t.Errorf("the read after the step: %v before (ok %v), want 1ms", before, ok)
	}
	if before, ok := read(time.Millisecond, true, 2*time.Second+200*time.Microsecond); !ok || before != time.Millisecond {
		t.Errorf("a 200µs slew: %v before (ok %v), want the stamp kept", before, ok)
	}
}
