package runner

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// fakeStampConn reports a receive time the test sets.
type fakeStampConn struct {
	net.Conn
	at *time.Time
}

func (c fakeStampConn) ReceiveTime() (time.Time, bool) { return *c.at, !c.at.IsZero() }

// TestArrivalNeverGoesBack: a stamped read after one timed by the clock
// cannot make a chunk arrive before the one before it (a negative ITL),
// and a stamp is used when it falls between the send and now.
func TestArrivalNeverGoesBack(t *testing.T) {
	start := time.Now()
	x := NewExchange(Op{Start: start}, &results.Sample{})
	var at time.Time
	x.conn.Store(&connRef{fakeStampConn{at: &at}})
	time.Sleep(2 * time.Millisecond)
	first := x.Arrival() // no stamp: the clock
	if first < 2*time.Millisecond {
		t.Fatalf("first arrival %v, want the clock (≥ 2ms)", first)
	}
	at = start.Add(time.Millisecond) // stamped, but before the first
	if second := x.Arrival(); second != first {
		t.Errorf("second arrival %v, want the first's %v", second, first)
	}
	time.Sleep(2 * time.Millisecond)
	at = start.Add(first + time.Millisecond)
	if third := x.Arrival(); third != first+time.Millisecond {
		t.Errorf("third arrival %v, want its stamp %v", third, first+time.Millisecond)
	}
}

// TestFailClasses: what Fail makes of the errors a request can end with.
// The client's own resource failures are client, not connect.
func TestFailClasses(t *testing.T) {
	dial := func(errno error) error {
		return &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", errno)}}
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	for _, tc := range []struct {
		name        string
		parent, ctx context.Context
		err         error
		fallback    string
		want        string
	}{
		{"too many open files", bg, bg, dial(syscall.EMFILE), results.ErrConnect, results.ErrClient},
		{"file table full", bg, bg, dial(syscall.ENFILE), results.ErrConnect, results.ErrClient},
		{"no local port", bg, bg, dial(syscall.EADDRNOTAVAIL), results.ErrConnect, results.ErrClient},
		{"no buffers", bg, bg, dial(syscall.ENOBUFS), results.ErrConnect, results.ErrClient},
		{"refused", bg, bg, dial(syscall.ECONNREFUSED), results.ErrConnect, results.ErrConnect},
		{"unreachable", bg, bg, dial(syscall.EHOSTUNREACH), results.ErrConnect, results.ErrConnect},
		{"timeout", bg, bg, context.DeadlineExceeded, results.ErrConnect, results.ErrTimeout},
		{"interrupted", canceled, canceled, dial(syscall.ECONNREFUSED), results.ErrConnect, results.ErrCanceled},
		{"read reset", bg, bg, syscall.ECONNRESET, results.ErrStreamTruncated, results.ErrStreamTruncated},
	} {
		s := &results.Sample{}
		x := NewExchange(Op{Start: time.Now()}, s)
		if tc.fallback != results.ErrConnect {
			x.conn.Store(&connRef{}) // a connection existed
		}
		x.Fail(tc.parent, tc.ctx, tc.err, tc.fallback)
		if s.Error != tc.want {
			t.Errorf("%s: class %q, want %q", tc.name, s.Error, tc.want)
		}
		if results.Infrastructure(s.Error) != (tc.want == results.ErrClient || tc.want == results.ErrConnect) {
			t.Errorf("%s: Infrastructure(%q) = %v", tc.name, s.Error, results.Infrastructure(s.Error))
		}
	}
}

// TestClientSideFailureIsClient: a real client-side failure, a dial from
// a local address this host does not have (EADDRNOTAVAIL), is client.
func TestClientSideFailureIsClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("192.0.2.1")}}).DialContext}
	s := &results.Sample{}
	x := NewExchange(Op{Start: time.Now()}, s)
	resp, _, done := x.Post(context.Background(), &http.Client{Transport: tr}, srv.URL, []byte("{}"), 0, nil)
	defer done()
	if resp != nil {
		resp.Body.Close()
		t.Skip("this host has 192.0.2.1")
	}
	if s.Error != results.ErrClient {
		t.Errorf("class %q (%s), want client", s.Error, s.ErrorDetail)
	}
}

// TestRateLimited: a 429 is rate_limited, with its Retry-After, and is
// not retried.
func TestRateLimited(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "7")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	s := &results.Sample{}
	x := NewExchange(Op{Start: time.Now()}, s)
	resp, _, done := x.Post(context.Background(), srv.Client(), srv.URL, []byte("{}"), 0, nil)
	defer done()
	if resp != nil || s.Error != results.ErrRateLimited || s.Status != 429 || s.RetryAfter != 7*time.Second ||
		!strings.Contains(s.ErrorDetail, "slow down") || calls.Load() != 1 {
		t.Errorf("sample %+v after %d calls, want rate_limited, retry after 7s, one call", s, calls.Load())
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		value, date string
		want        time.Duration
	}{
		{"", "", 0},
		{"5", "", 5 * time.Second},
		{" 120 ", "", 2 * time.Minute},
		{"0", "", 0},
		{"-3", "", 0},
		{"99999999999999999999", "", 0},
		{"soon", "", 0},
		{date(30 * time.Second), "", 30 * time.Second},
		{date(30 * time.Second), date(10 * time.Second), 20 * time.Second},
		{date(-time.Minute), "", 0},
	} {
		h := http.Header{}
		if tc.value != "" {
			h.Set("Retry-After", tc.value)
		}
		if tc.date != "" {
			h.Set("Date", tc.date)
		}
		if got := RetryAfter(h, now); got != tc.want {
			t.Errorf("Retry-After %q, Date %q: %v, want %v", tc.value, tc.date, got, tc.want)
		}
	}
}

// TestErrorBodyRedacted: an error body that echoes the request's
// credentials keeps none of them, even past the 200 bytes kept.
func TestErrorBodyRedacted(t *testing.T) {
	const key = "sk-abcdef0123456789"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The key straddles the 200 bytes kept: a cut key must not leak its start.
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "%s invalid key %s; you sent Authorization: %s and X-Api-Key: %s",
			strings.Repeat(".", 160), key, r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"))
	}))
	defer srv.Close()
	s := &results.Sample{}
	x := NewExchange(Op{Start: time.Now()}, s)
	resp, _, done := x.Post(context.Background(), srv.Client(), srv.URL, []byte("{}"), 0, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+key)
		r.Header.Set("X-Api-Key", "other-secret")
	})
	defer done()
	x.Settle()
	if resp != nil || s.Error != results.ErrHTTP4xx {
		t.Fatalf("sample %+v", s)
	}
	for _, leak := range []string{"sk-", "abcdef", "other-secret"} {
		if strings.Contains(s.ErrorDetail, leak) {
			t.Errorf("detail %q holds %q", s.ErrorDetail, leak)
		}
	}
	if !strings.Contains(s.ErrorDetail, "invalid key "+Redacted[:5]) {
		t.Errorf("detail %q, want the key replaced", s.ErrorDetail)
	}
}

// TestPostURLSendsWhatPostSends: a request to a URL parsed once
// (ParseTarget, PostURL) reaches the server as Post's does — method, host,
// path and query, headers, body — is traced (first byte, connection) and
// leaves the parsed URL as it was when the driver's header function
// changes the request.
func TestPostURLSendsWhatPostSends(t *testing.T) {
	type seen struct{ method, host, uri, ctype, auth, body string }
	got := make(chan seen, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := new(strings.Builder)
		fmt.Fprint(b, r.ContentLength, ":")
		buf := make([]byte, 64)
		n, _ := r.Body.Read(buf)
		b.Write(buf[:n])
		got <- seen{r.Method, r.Host, r.RequestURI, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), b.String()}
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	raw := srv.URL + "/v1/completions?x=1%202"
	u, err := ParseTarget(raw)
	if err != nil {
		t.Fatal(err)
	}
	before := *u
	header := func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer k")
		r.URL.Path = "/changed-by-the-request"
	}
	var sends [2]seen
	for i := range sends {
		s := &results.Sample{}
		x := NewExchange(Op{Start: time.Now()}, s)
		var resp *http.Response
		var done context.CancelFunc
		hdr := func(r *http.Request) { r.Header.Set("Authorization", "Bearer k") }
		if i == 0 {
			resp, _, done = x.Post(context.Background(), ClientOr(nil), raw, []byte(`{"a":1}`), time.Minute, hdr)
		} else {
			resp, _, done = x.PostURL(context.Background(), ClientOr(nil), u, []byte(`{"a":1}`), time.Minute, hdr)
		}
		if resp == nil {
			t.Fatalf("send %d failed: %s %s", i, s.Error, s.ErrorDetail)
		}
		resp.Body.Close()
		done()
		if s.FirstByte <= 0 || !x.gotConn() {
			t.Errorf("send %d not traced: first byte %v, connection %v", i, s.FirstByte, x.gotConn())
		}
		sends[i] = <-got
	}
	if sends[0] != sends[1] {
		t.Errorf("Post sent %+v, PostURL %+v", sends[0], sends[1])
	}
	if sends[1].uri != "/v1/completions?x=1%202" || sends[1].body != "7:{\"a\":1}" || sends[1].auth != "Bearer k" {
		t.Errorf("PostURL sent %+v", sends[1])
	}
	// A header function that changes the request's URL changes its own copy.
	s := &results.Sample{}
	x := NewExchange(Op{Start: time.Now()}, s)
	resp, _, done := x.PostURL(context.Background(), ClientOr(nil), u, nil, 0, header)
	if resp != nil {
		resp.Body.Close()
	}
	done()
	<-got
	if *u != before {
		t.Errorf("the parsed URL changed: %+v, was %+v", *u, before)
	}
}

// TestBenchClientServerCloses: the benchmarking client's connections
// (stamped, through runner/h1) let the transport see what the server did
// with them: a server that closes each connection right after its answer,
// without Connection: close, costs each request a new connection, not a
// failed sample.
func TestBenchClientServerCloses(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("what the server acknowledged is read on Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var reqs atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					reqs.Add(1)
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
				}
			}()
		}
	}()
	client := ClientOr(nil)
	for i := range 30 {
		s := &results.Sample{}
		x := NewExchange(Op{Start: time.Now()}, s)
		resp, _, done := x.Post(context.Background(), client, "http://"+ln.Addr().String()+"/", []byte(`{}`), time.Minute, nil)
		if resp == nil {
			t.Fatalf("request %d: %s (%s)", i, s.Error, s.ErrorDetail)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done()
	}
	if n := reqs.Load(); n != 30 {
		t.Errorf("server saw %d requests, want 30", n)
	}
}
