package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	neturl "net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// newTransport is the transport as runner's benchmarking client builds it,
// with a fallback that fails the test if it is used.
func newTransport(t *testing.T) *Transport {
	d := &net.Dialer{}
	return &Transport{Dial: d.DialContext, Fallback: failRT{t}, MaxIdlePerHost: 64}
}

type failRT struct{ t *testing.T }

func (f failRT) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("fallback used for %s", r.URL)
	return nil, errors.New("fallback")
}

// seen is what a server saw of one request.
type seen struct {
	Method, URI, Host, Proto string
	Header                   http.Header
	Body                     string
	TE                       []string
	Len                      int64
	Close                    bool
}

func record(r *http.Request) seen {
	b, _ := io.ReadAll(r.Body)
	h := r.Header.Clone()
	return seen{Method: r.Method, URI: r.RequestURI, Host: r.Host, Proto: r.Proto, Header: h, Body: string(b), TE: r.TransferEncoding, Len: r.ContentLength, Close: r.Close}
}

// TestRequestsAsNetHTTP: a server sees the same request line, Host,
// headers, framing and body from this transport as from net/http's.
func TestRequestsAsNetHTTP(t *testing.T) {
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- record(r)
	}))
	defer srv.Close()
	big := strings.Repeat("x", maxBufferedBody+123)
	type reqSpec struct {
		name, method, path, body string
		header                   map[string]string
		host                     string
		close                    bool
	}
	for _, c := range []reqSpec{
		{name: "GET", method: "GET", path: "/v1/models?x=1&y=%20"},
		{name: "POST JSON", method: "POST", path: "/v1/completions", body: `{"prompt":"hi"}`, header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer k"}},
		{name: "POST empty", method: "POST", path: "/p"},
		{name: "DELETE", method: "DELETE", path: "/api/v2/x"},
		{name: "large body", method: "PUT", path: "/big", body: big},
		{name: "own Host and User-Agent", method: "GET", path: "/", host: "example.test:81", header: map[string]string{"User-Agent": "benchrun-test"}},
		{name: "no User-Agent", method: "GET", path: "/", header: map[string]string{"User-Agent": ""}},
		{name: "Connection close", method: "GET", path: "/", close: true},
		{name: "Connection close in the header", method: "GET", path: "/", header: map[string]string{"Connection": "close"}},
		{name: "escaped path", method: "GET", path: "/a%2Fb/c d"},
	} {
		t.Run(c.name, func(t *testing.T) {
			send := func(rt http.RoundTripper) seen {
				var body io.Reader
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				req, err := http.NewRequest(c.method, srv.URL+c.path, body)
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range c.header {
					req.Header.Set(k, v)
				}
				req.Host, req.Close = c.host, c.close
				resp, err := rt.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return <-got
			}
			want := send(&http.Transport{DisableCompression: true})
			have := send(newTransport(t))
			if fmt.Sprint(have) != fmt.Sprint(want) {
				t.Errorf("server saw\n%+v\nwant (net/http)\n%+v", have, want)
			}
		})
	}
}

// script is a raw HTTP server: for each request it reads, it writes
// respond's bytes and closes the connection if respond says so. It counts
// the connections it accepted.
type script struct {
	ln     net.Listener
	conns  atomic.Int32
	reqs   atomic.Int32
	closed atomic.Int32 // connections that ended (closed by either side)
}

func newScript(t *testing.T, respond func(n int, r *http.Request, w io.Writer) (closeAfter bool)) *script {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &script{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			go func() {
				defer s.closed.Add(1)
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, r.Body)
					n := int(s.reqs.Add(1))
					if respond(n, r, c) {
						return
					}
				}
			}()
		}
	}()
	return s
}

func (s *script) url() string { return "http://" + s.ln.Addr().String() + "/x" }

func get(t *testing.T, rt http.RoundTripper, ctx context.Context, method, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rt.RoundTrip(req)
}

// TestResponseFraming: every way a body can end is read to the byte, and
// the connection is reused exactly when the response allows it.
func TestResponseFraming(t *testing.T) {
	for _, c := range []struct {
		name, method, raw, body string
		status                  int
		header                  http.Header
		length                  int64
		reuse                   bool
	}{
		{name: "content-length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-type: application/json\r\n\r\nhello",
			status: 200, body: "hello", length: 5, reuse: true, header: http.Header{"Content-Type": {"application/json"}, "Content-Length": {"5"}}},
		{name: "chunked with extensions and trailers", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: t\r\n\r\n",
			status: 200, body: "hello, world!!!", length: -1, reuse: true},
		{name: "close-delimited", raw: "HTTP/1.1 200 OK\r\n\r\nuntil close",
			status: 200, body: "until close", length: -1, reuse: false},
		{name: "Connection close", raw: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", length: 2, reuse: false},
		{name: "HTTP/1.0", raw: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", length: 2, reuse: false},
		{name: "HTTP/1.0 keep-alive", raw: "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok",
			status: 200, body: "ok", length: 2, reuse: true},
		{name: "204", raw: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, length: 0, reuse: true},
		{name: "HEAD", method: "HEAD", raw: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", status: 200, length: 99, reuse: true},
		{name: "100 Continue first", raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 4\r\n\r\nbusy",
			status: 503, body: "busy", length: 4, reuse: true, header: http.Header{"Retry-After": {"7"}, "Content-Length": {"4"}}},
		{name: "repeated fields and odd case", raw: "HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nSET-COOKIE: b=2\r\nx-weird-NAME:  v  \r\nContent-Length: 0\r\n\r\n",
			status: 200, length: 0, reuse: true, header: http.Header{"Set-Cookie": {"a=1", "b=2"}, "X-Weird-Name": {"v"}, "Content-Length": {"0"}}},
		{name: "bare LF", raw: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", status: 200, body: "ok", length: 2, reuse: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newScript(t, func(_ int, _ *http.Request, w io.Writer) bool {
				io.WriteString(w, c.raw)
				return !c.reuse
			})
			tr := newTransport(t)
			method := c.method
			if method == "" {
				method = "GET"
			}
			for i := range 2 {
				resp, err := get(t, tr, context.Background(), method, s.url())
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatalf("request %d: body: %v", i, err)
				}
				if resp.StatusCode != c.status || string(b) != c.body || resp.ContentLength != c.length || resp.Close == c.reuse {
					t.Errorf("request %d: status %d body %q length %d close %v; want %d %q %d close %v",
						i, resp.StatusCode, b, resp.ContentLength, resp.Close, c.status, c.body, c.length, !c.reuse)
				}
				for k, v := range c.header {
					if fmt.Sprint(resp.Header[k]) != fmt.Sprint(v) {
						t.Errorf("header %s = %q, want %q (all: %v)", k, resp.Header[k], v, resp.Header)
					}
				}
			}
			want := int32(2)
			if c.reuse {
				want = 1
			}
			if n := s.conns.Load(); n != want {
				t.Errorf("%d connections for 2 requests, want %d", n, want)
			}
		})
	}
}

// TestMalformedResponses: a response this transport cannot read exactly
// is an error, at RoundTrip or at the body's read, never a success or a
// body that ends cleanly short of its length; the connection is not
// reused.
func TestMalformedResponses(t *testing.T) {
	for _, c := range []struct{ name, raw string }{
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n"},
		{"HTTP/2 status line", "HTTP/2 200 OK\r\n\r\n"},
		{"short status code", "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n"},
		{"status code not digits", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"},
		{"obsolete line folding", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-A: 1\r\n 2\r\n\r\n"},
		{"space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"},
		{"no colon", "HTTP/1.1 200 OK\r\nContent-Length 0\r\n\r\n"},
		{"differing Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"},
		{"negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"},
		{"unsupported Transfer-Encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
		{"101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"},
		{"body shorter than Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
		{"chunk data without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n"},
		{"chunked cut before the last chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"},
		{"chunked cut in the trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n"},
		{"headers cut", "HTTP/1.1 200 OK\r\nContent-Len"},
		{"control character in a value", "HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 0\r\n\r\n"},
		{"header section over 1 MiB", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxHeaderBytes) + "\r\n\r\n"},
		{"1xx responses over 1 MiB", strings.Repeat("HTTP/1.1 100 Continue\r\nX: "+strings.Repeat("a", 1000)+"\r\n\r\n", maxHeaderBytes/1000) +
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
		{"nothing", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newScript(t, func(_ int, _ *http.Request, w io.Writer) bool {
				io.WriteString(w, c.raw)
				return true
			})
			resp, err := get(t, newTransport(t), context.Background(), "GET", s.url())
			if err != nil {
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				t.Fatalf("read %d %q with no error", resp.StatusCode, b)
			}
		})
	}
}

// TestServerClosedIdle: a connection the server closed while it sat idle
// is found out before reuse, and the request goes on a new one.
func TestServerClosedIdle(t *testing.T) {
	s := newScript(t, func(_ int, _ *http.Request, w io.Writer) bool {
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return true // keep-alive promised, then closed: a server's idle timeout
	})
	tr := newTransport(t)
	for i := range 3 {
		resp, err := get(t, tr, context.Background(), "POST", s.url())
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		time.Sleep(2 * probeAfter)
	}
	if n := s.conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

// TestRequestWantsClose: a request that asks for its connection to be
// closed, by Request.Close or by its Connection field, is not followed by
// another on the same connection, as with net/http.
func TestRequestWantsClose(t *testing.T) {
	s := newScript(t, func(_ int, _ *http.Request, w io.Writer) bool {
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") // keep-alive
		return false
	})
	tr := newTransport(t)
	for i, set := range []func(*http.Request){
		func(r *http.Request) { r.Close = true },
		func(r *http.Request) { r.Header.Set("Connection", "close") },
		func(r *http.Request) { r.Header.Set("Connection", "Upgrade, Close") },
	} {
		req, _ := http.NewRequest("GET", s.url(), nil)
		set(req)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n := s.conns.Load(); n != int32(i+1) {
			t.Fatalf("request %d went on connection %d: a connection was reused after Connection: close", i+1, n)
		}
	}
}

// TestLeftoverBytes: bytes that follow a response in the same read (a
// server that sent more than it framed, or the same response twice) are
// never read as the next request's response: the connection is closed
// instead of reused.
func TestLeftoverBytes(t *testing.T) {
	const stale = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"
	for _, c := range []struct{ name, method, first, body string }{
		{"content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok"},
		{"body longer than its Content-Length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok, and more", "ok"},
		{"chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "ok"},
		{"204", "GET", "HTTP/1.1 204 No Content\r\n\r\n", ""},
		{"HEAD answered with a body", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newScript(t, func(n int, _ *http.Request, w io.Writer) bool {
				if n == 1 {
					io.WriteString(w, c.first+stale) // one write: one read on the client
				} else {
					io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")
				}
				return false
			})
			tr := newTransport(t)
			for i, want := range []string{c.body, "fresh"} {
				method := c.method
				if i > 0 {
					method = "GET"
				}
				resp, err := get(t, tr, context.Background(), method, s.url())
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != want {
					t.Fatalf("request %d: body %q, %v; want %q", i, b, err, want)
				}
			}
			if n := s.conns.Load(); n != 2 {
				t.Errorf("%d connections, want 2", n)
			}
		})
	}
}

// TestUnsolicitedOnReusedConnection: on a reused connection, a response
// followed in the same read by more bytes fails its request. Those bytes
// may be the request's answer and the response read an earlier request's
// second copy that arrived after it ended (too soon for the idle check and
// the drivers' stamp check): taking the first as the answer would be a
// success with another request's content. The bytes go with the
// connection; the next request gets its own answer on a new one.
func TestUnsolicitedOnReusedConnection(t *testing.T) {
	const fresh = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh"
	for _, c := range []struct{ name, method, stale string }{
		{"content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"},
		{"chunked", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nstale\r\n0\r\n\r\n"},
		{"204", "GET", "HTTP/1.1 204 No Content\r\n\r\n"},
		{"HEAD", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newScript(t, func(n int, _ *http.Request, w io.Writer) bool {
				if n == 2 {
					io.WriteString(w, c.stale+fresh) // one write: one read on the client
				} else {
					io.WriteString(w, fresh)
				}
				return false
			})
			tr := newTransport(t)
			for i, method := range []string{"GET", c.method, "GET"} {
				resp, err := get(t, tr, context.Background(), method, s.url())
				var b []byte
				if err == nil {
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				switch {
				case i == 1 && !errors.Is(err, ErrUnsolicited):
					t.Fatalf("request %d on the reused connection: body %q, %v; want ErrUnsolicited", i, b, err)
				case i == 1:
					t.Log(err)
				case err != nil || string(b) != "fresh":
					t.Fatalf("request %d: body %q, %v; want \"fresh\"", i, b, err)
				}
			}
			if n := s.conns.Load(); n != 2 {
				t.Errorf("%d connections, want 2", n)
			}
		})
	}
}

// TestIdleExpiry: connections left idle when fewer requests run at a time
// than before are closed after IdleTimeout, though the pool is in use and
// they are never popped.
func TestIdleExpiry(t *testing.T) {
	start := make(chan struct{})
	s := newScript(t, func(n int, _ *http.Request, w io.Writer) bool {
		if n <= 3 {
			<-start // three requests at once: three connections
		}
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return false
	})
	tr := newTransport(t)
	tr.IdleTimeout = 50 * time.Millisecond
	do := func() {
		resp, err := get(t, tr, context.Background(), "GET", s.url())
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(do)
	}
	for s.reqs.Load() < 3 {
		time.Sleep(time.Millisecond)
	}
	close(start)
	wg.Wait()
	// One request at a time from now on: it takes the newest connection.
	for end := time.Now().Add(4 * tr.IdleTimeout); time.Now().Before(end); {
		do()
		time.Sleep(tr.IdleTimeout / 10)
	}
	// All but the one in the pool now are closed (more than three
	// connections if the machine was slow enough for the newest one to
	// expire too).
	deadline := time.Now().Add(time.Second)
	for s.closed.Load() < s.conns.Load()-1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if c, n := s.closed.Load(), s.conns.Load(); c != n-1 {
		t.Errorf("%d of %d connections closed, want all but one", c, n)
	}
}

// TestEarlyResponse: a server that answers before it has read a large
// body and closes the connection (413, 401) has its answer returned, as
// net/http returns it, not the error of the write it cut; a server that
// closes without an answer makes the write's error the request's.
func TestEarlyResponse(t *testing.T) {
	for _, c := range []struct {
		name, answer string
		status       int
	}{
		{"answered", "HTTP/1.1 413 Content Too Large\r\nContent-Length: 3\r\n\r\nbig", 413},
		{"closed without an answer", "", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0") // a server that does not read bodies
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				defer conn.Close() // with the body unread: a reset
				if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
					return
				}
				io.WriteString(conn, c.answer)
				time.Sleep(20 * time.Millisecond)
			}()
			req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/", bytes.NewReader(make([]byte, 16<<20)))
			resp, err := newTransport(t).RoundTrip(req)
			if c.status == 0 {
				if err == nil {
					t.Fatalf("status %d from a server that sent nothing", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("err %v, want the server's %d", err, c.status)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || string(b) != "big" || err != nil || !resp.Close {
				t.Errorf("%d %q %v close=%v, want %d \"big\" and the connection closed", resp.StatusCode, b, err, resp.Close, c.status)
			}
		})
	}
}

// TestServerClosesAfterResponse: a server that closes every connection
// right after its response, though it did not say Connection: close,
// costs each request a new connection, never a failure (the next request
// went out before the close was seen, reached no one, and is sent again);
// a server that closes a connection after it got the request is not sent
// that request twice.
func TestServerClosesAfterResponse(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("what the server acknowledged is read on Linux only")
	}
	s := newScript(t, func(n int, r *http.Request, w io.Writer) bool {
		if r.URL.Query().Get("drop") != "" {
			return true // read the request, closed without an answer
		}
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return true
	})
	tr := newTransport(t)
	for i := range 50 {
		req, _ := http.NewRequest("POST", s.url(), strings.NewReader(fmt.Sprint(i)))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := s.reqs.Load(); n != 50 {
		t.Errorf("server saw %d requests, want 50", n)
	}

	s = newScript(t, func(n int, r *http.Request, w io.Writer) bool {
		if r.URL.Query().Get("drop") != "" {
			return true // read the request, closed without an answer
		}
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return false
	})
	resp, err := get(t, tr, context.Background(), "POST", s.url())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if _, err := get(t, tr, context.Background(), "POST", s.url()+"?drop=1"); err == nil {
		t.Error("a request the server dropped succeeded")
	}
	if n := s.reqs.Load(); n != 2 {
		t.Errorf("server saw %d requests, want 2 (the dropped one once)", n)
	}
}

// TestRetryNothingWritten: a reused connection whose write fails before a
// byte left is given up, and the request is sent on a new connection once;
// a body that cannot be sent again makes it an error instead.
func TestRetryNothingWritten(t *testing.T) {
	var bodies []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer srv.Close()
	var dials atomic.Int32
	d := &net.Dialer{}
	tr := &Transport{Fallback: failRT{t}, MaxIdlePerHost: 4, Dial: func(ctx context.Context, n, a string) (net.Conn, error) {
		dials.Add(1)
		c, err := d.DialContext(ctx, n, a)
		return &failSecondWrite{Conn: c}, err
	}}
	post := func(body io.Reader) error {
		req, _ := http.NewRequest("POST", srv.URL, body)
		if body != nil && req.GetBody == nil {
			req.ContentLength = 3
		}
		resp, err := tr.RoundTrip(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return err
	}
	if err := post(strings.NewReader("one")); err != nil {
		t.Fatal(err)
	}
	if err := post(strings.NewReader("two")); err != nil {
		t.Fatalf("not sent again: %v", err)
	}
	if dials.Load() != 2 || fmt.Sprint(bodies) != "[one two]" {
		t.Errorf("%d dials, server saw %q; want 2 dials, [one two]", dials.Load(), bodies)
	}
	// Not replayable: no GetBody.
	if err := post(io.MultiReader(strings.NewReader("thr"))); err == nil || !strings.Contains(err.Error(), "cannot be sent again") {
		t.Errorf("a body that cannot be rewound: err = %v", err)
	}
}

// failSecondWrite fails its second Write without writing.
type failSecondWrite struct {
	net.Conn
	writes int
}

func (c *failSecondWrite) Write(p []byte) (int, error) {
	c.writes++
	if c.writes == 2 {
		return 0, syscall.EPIPE
	}
	return c.Conn.Write(p)
}

// TestContextEnds: a cancelled or expired context interrupts the request
// in the header wait and in the body, the error is the context's, and the
// connection is not reused.
func TestContextEnds(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	s := newScript(t, func(n int, r *http.Request, w io.Writer) bool {
		switch r.URL.Query().Get("stall") {
		case "headers":
			<-release
		case "body":
			io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
			<-release
		default:
			io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
		return false
	})
	tr := newTransport(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := get(t, tr, ctx, "GET", s.url()+"?stall=headers"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("header wait: err = %v, want the deadline", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	resp, err := get(t, tr, ctx, "GET", s.url()+"?stall=body")
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, context.Canceled) {
		t.Errorf("body: err = %v, want canceled", err)
	}
	resp.Body.Close()
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v", el)
	}
	resp, err = get(t, tr, context.Background(), "GET", s.url())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n := s.conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3 (an interrupted one is never reused)", n)
	}
}

// TestContextEndedBeforeSend: a request whose context has already ended
// is not sent, even when an idle connection is at hand, and that
// connection stays in the pool.
func TestContextEndedBeforeSend(t *testing.T) {
	s := newScript(t, func(_ int, _ *http.Request, w io.Writer) bool {
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		return false
	})
	tr := newTransport(t)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	for i, ctx := range []context.Context{context.Background(), canceled, expired, context.Background()} {
		resp, err := get(t, tr, ctx, "POST", s.url())
		if ctx.Err() != nil {
			if !errors.Is(err, ctx.Err()) {
				t.Errorf("request %d: err %v, want %v", i, err, ctx.Err())
			}
			continue
		}
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if r, c := s.reqs.Load(), s.conns.Load(); r != 2 || c != 1 {
		t.Errorf("server saw %d requests on %d connections, want 2 on 1", r, c)
	}
}

// TestBodyAsItArrives: a body read returns what has arrived without
// waiting for more (a streamed response's events are timed as they come):
// the server sends each part only after the client has read the previous
// one, so a read that waited for more would stall until the deadline.
func TestBodyAsItArrives(t *testing.T) {
	for _, c := range []struct{ name, head string }{
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n"},
		{"close-delimited", "HTTP/1.1 200 OK\r\n\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			parts := []string{"data: 1\n\n", "data: 2\n\n"}
			next := make(chan struct{})
			s := newScript(t, func(_ int, _ *http.Request, w io.Writer) bool {
				io.WriteString(w, c.head)
				for _, p := range parts {
					if c.name == "chunked" {
						p = fmt.Sprintf("%x\r\n%s\r\n", len(p), p)
					}
					io.WriteString(w, p)
					select {
					case <-next:
					case <-time.After(5 * time.Second):
						return true
					}
				}
				if c.name == "chunked" {
					io.WriteString(w, "0\r\n\r\n")
				}
				return true
			})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			resp, err := get(t, newTransport(t), ctx, "GET", s.url())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			buf := make([]byte, 64)
			for i, want := range parts {
				n, err := resp.Body.Read(buf)
				if string(buf[:n]) != want || (err != nil && err != io.EOF) {
					t.Fatalf("read %d: %q, %v; want %q as soon as it was sent", i, buf[:n], err, want)
				}
				next <- struct{}{}
			}
			if b, err := io.ReadAll(resp.Body); len(b) != 0 || err != nil {
				t.Errorf("after the parts: %q, %v", b, err)
			}
		})
	}
}

// TestRedirect: http.Client follows redirects through this transport,
// and the first response's connection carries the next request.
func TestRedirect(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/a" {
			http.Redirect(w, r, "/b", http.StatusFound)
			return
		}
		io.WriteString(w, "b")
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	client := &http.Client{Transport: newTransport(t)}
	resp, err := client.Get(srv.URL + "/a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(b) != "b" || resp.Request.URL.Path != "/b" || conns.Load() != 1 {
		t.Errorf("got %q, %v from %s over %d connections; want \"b\" from /b over 1", b, err, resp.Request.URL.Path, conns.Load())
	}
}

// TestEndedContextSpendsConnection: a request whose context ended after
// its whole body had arrived still reads it to a clean end, but its
// connection, whose deadline the interrupt set in the past, is not given
// to the next request (which would fail at once, or be sent again on a
// new connection).
func TestEndedContextSpendsConnection(t *testing.T) {
	s := newScript(t, func(_ int, _ *http.Request, w io.Writer) bool {
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789")
		return false
	})
	tr := newTransport(t)
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := get(t, tr, ctx, "GET", s.url())
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	if _, err := io.ReadFull(resp.Body, b[:]); err != nil { // the rest is buffered
		t.Fatal(err)
	}
	cancel()
	time.Sleep(20 * time.Millisecond) // the interrupt has run
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "456789" {
		t.Fatalf("rest of the body %q, %v", rest, err)
	}
	var conns []string
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		conns = append(conns, fmt.Sprintf("reused=%v", i.Reused))
	}}
	resp, err = get(t, tr, httptrace.WithClientTrace(context.Background(), trace), "GET", s.url())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if fmt.Sprint(conns) != "[reused=false]" {
		t.Errorf("next request's connections %v, want one new one", conns)
	}
}

// TestBodyClose: closing a body before its end closes the connection;
// reading it after Close is an error.
func TestBodyClose(t *testing.T) {
	s := newScript(t, func(_ int, _ *http.Request, w io.Writer) bool {
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789")
		return false
	})
	tr := newTransport(t)
	resp, err := get(t, tr, context.Background(), "GET", s.url())
	if err != nil {
		t.Fatal(err)
	}
	var b [3]byte
	if _, err := io.ReadFull(resp.Body, b[:]); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := resp.Body.Read(b[:]); !errors.Is(err, errBodyClosed) {
		t.Errorf("read after Close: %v", err)
	}
	resp, err = get(t, tr, context.Background(), "GET", s.url())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n := s.conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// TestInvalidRequests: a header that could split the request is an error
// and nothing reaches the server.
func TestInvalidRequests(t *testing.T) {
	s := newScript(t, func(_ int, _ *http.Request, w io.Writer) bool {
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		return false
	})
	tr := newTransport(t)
	for _, set := range []func(*http.Request){
		func(r *http.Request) { r.Header.Set("X-A", "a\r\nX-Injected: 1") },
		func(r *http.Request) { r.Header["Bad Name"] = []string{"v"} },
		func(r *http.Request) { r.Host = "h\r\nX: y" },
		func(r *http.Request) { r.Method = "GET /x HTTP/1.1\r\n" },
	} {
		req, _ := http.NewRequest("GET", s.url(), nil)
		set(req)
		if _, err := tr.RoundTrip(req); err == nil {
			t.Errorf("%v sent", req.Header)
		}
	}
	if n := s.reqs.Load(); n != 0 {
		t.Errorf("server saw %d requests", n)
	}
}

// TestFallback: https, a proxied host and a body of unknown length
// (ContentLength -1, or 0 with a body) go to Fallback.
func TestFallback(t *testing.T) {
	var used []string
	fb := rtFunc(func(r *http.Request) (*http.Response, error) {
		used = append(used, r.URL.String())
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	tr := &Transport{Dial: (&net.Dialer{}).DialContext, Fallback: fb,
		Proxy: func(r *http.Request) (*neturl.URL, error) {
			if r.URL.Hostname() == "proxied.test" {
				return neturl.Parse("http://proxy.test:3128")
			}
			return nil, nil
		}}
	for _, u := range []string{"https://a.test/", "http://proxied.test/"} {
		if _, err := get(t, tr, context.Background(), "GET", u); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest("POST", "http://127.0.0.1:1/", io.NopCloser(strings.NewReader("x")))
	req.ContentLength = -1
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	// ContentLength 0 with a body is unknown too (NewRequest sets it so
	// for a reader whose length it cannot tell); sent as an empty body,
	// its bytes would be lost.
	req, _ = http.NewRequest("POST", "http://127.0.0.1:2/", io.MultiReader(strings.NewReader("x")))
	if req.ContentLength != 0 {
		t.Fatalf("ContentLength %d", req.ContentLength)
	}
	if _, err := tr.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(used) != "[https://a.test/ http://proxied.test/ http://127.0.0.1:1/ http://127.0.0.1:2/]" {
		t.Errorf("fallback used for %v", used)
	}
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTrace: the hooks the drivers use are called, GotFirstResponseByte
// before RoundTrip returns, and GotConn says when a connection is reused.
func TestTrace(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	tr := newTransport(t)
	var events []string
	trace := &httptrace.ClientTrace{
		GetConn:              func(string) { events = append(events, "get") },
		GotConn:              func(i httptrace.GotConnInfo) { events = append(events, fmt.Sprintf("got reused=%v", i.Reused)) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { events = append(events, "wrote") },
		GotFirstResponseByte: func() { events = append(events, "first byte") },
	}
	ctx := httptrace.WithClientTrace(context.Background(), trace)
	for range 2 {
		resp, err := get(t, tr, ctx, "GET", srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, "returned")
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	want := "[get got reused=false wrote first byte returned get got reused=true wrote first byte returned]"
	if fmt.Sprint(events) != want {
		t.Errorf("events %v\nwant %s", events, want)
	}
}

// TestConcurrent: many goroutines share the transport; every body is its
// own request's (run with -race).
func TestConcurrent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Query().Get("chunked") != "" {
			w.(http.Flusher).Flush()
		}
		w.Write(bytes.Repeat(b, 3))
	}))
	defer srv.Close()
	tr := newTransport(t)
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			for i := range 50 {
				want := fmt.Sprintf("<%d.%d>", g, i)
				u := srv.URL
				if i%2 == 1 {
					u += "?chunked=1"
				}
				req, _ := http.NewRequest("POST", u, strings.NewReader(want))
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != strings.Repeat(want, 3) {
					t.Errorf("got %q, %v; want %q", b, err, strings.Repeat(want, 3))
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestDialError: a refused connection is the dialer's error, once, and
// says it was the dial (the drivers class it as a connect failure).
func TestDialError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = get(t, newTransport(t), context.Background(), "GET", "http://"+addr+"/")
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" || strings.Count(err.Error(), "dial") != 1 {
		t.Errorf("err = %v, want one dial error", err)
	}
	tr := newTransport(t)
	tr.Dial = func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("no route") }
	_, err = get(t, tr, context.Background(), "GET", "http://"+addr+"/")
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Errorf("err = %v, want a dial error", err)
	}
}

// TestDeadlinesUnderReuse: requests whose deadlines end around the time
// their responses arrive, on connections passed from one to the next: a
// request fails only when its own context ended (an interrupt meant for
// an earlier request never fails a later one on the same connection), and
// every body read whole is its own request's (run with -race).
func TestDeadlinesUnderReuse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if d, _ := time.ParseDuration(r.URL.Query().Get("wait")); d > 0 {
			time.Sleep(d)
		}
		if r.URL.Query().Get("chunked") != "" {
			w.(http.Flusher).Flush()
		}
		w.Write(b)
	}))
	defer srv.Close()
	tr := newTransport(t)
	var failed, ok atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				want := fmt.Sprintf("<%d.%d>", g, i)
				u := fmt.Sprintf("%s?wait=%dus", srv.URL, (i*37)%1500)
				if i%2 == 1 {
					u += "&chunked=1"
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(500+(i*53)%4000)*time.Microsecond)
				req, _ := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(want))
				resp, err := tr.RoundTrip(req)
				var b []byte
				if err == nil {
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				// A deadline can end a dial or a read (the poller's timer)
				// a moment before the context's own timer marks it done.
				deadline, _ := ctx.Deadline()
				ended := ctx.Err() != nil || !time.Now().Before(deadline)
				cancel()
				switch {
				case err != nil && !ended:
					t.Errorf("request %s failed with its context alive: %v", want, err)
				case err != nil:
					failed.Add(1)
				case string(b) != want:
					t.Errorf("request %s read %q", want, b)
				default:
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d whole, %d ended by their deadline", ok.Load(), failed.Load())
}

// TestIdleKeepsNoLargeBuffer: a connection back in the pool after a large
// request keeps no buffer of that size (thousands of idle connections
// would hold a long prompt each).
func TestIdleKeepsNoLargeBuffer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer srv.Close()
	tr := newTransport(t)
	for _, size := range []int{100, 40 << 10} {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(strings.Repeat("p", size)))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	c := tr.hosts[strings.TrimPrefix(srv.URL, "http://")].pop()
	if c == nil {
		t.Fatal("no idle connection")
	}
	if cap(c.wbuf) > keptBuffer {
		t.Errorf("idle connection keeps a %d-byte buffer", cap(c.wbuf))
	}
}
