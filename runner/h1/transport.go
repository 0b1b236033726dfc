package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	neturl "net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Transport is an http.RoundTripper for plain-http targets; see the
// package documentation. The zero value is not usable: Dial and Fallback
// are required.
type Transport struct {
	// Dial opens a connection (net.Dialer.DialContext, or a wrapper).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Fallback takes every request this transport does not send itself.
	Fallback http.RoundTripper
	// Proxy, when set, is asked once per host (scheme and host of the
	// URL) whether requests to it go through a proxy; those go to
	// Fallback. http.ProxyFromEnvironment is what net/http uses.
	Proxy func(*http.Request) (*neturl.URL, error)
	// MaxIdlePerHost bounds the idle connections kept per host; 0 means 2
	// (net/http's default).
	MaxIdlePerHost int
	// IdleTimeout closes a connection idle for longer; 0 means 90 s.
	IdleTimeout time.Duration

	mu    sync.Mutex
	hosts map[string]*host
}

// probeAfter is how long a connection may sit idle before it is checked
// for a close by the server when it is taken from the pool. Servers close
// idle connections after seconds (uvicorn 5 s, Go 90 s...); a connection
// reused within this is not checked, which saves a system call per request
// under load.
const probeAfter = 10 * time.Millisecond

// maxBufferedBody is the largest request body sent in the same write as
// the header; a larger one follows it in writes of its own.
const maxBufferedBody = 64 << 10

// host is one scheme+host's pool.
type host struct {
	addr    string // host:port to dial
	proxied bool   // requests go to Fallback
	mu      sync.Mutex
	idle    []*conn
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		closeBody(req)
		return nil, errors.New("h1: nil Request.URL")
	}
	// A body with ContentLength 0 is one of unknown length too (see
	// http.Request.ContentLength): sent as none, its bytes would be lost.
	if req.URL.Scheme != "http" || (req.Body != nil && req.Body != http.NoBody && req.ContentLength <= 0) {
		return t.Fallback.RoundTrip(req)
	}
	h, err := t.host(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if h.proxied {
		return t.Fallback.RoundTrip(req)
	}
	ctx := req.Context()
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.GetConn != nil {
		trace.GetConn(h.addr)
	}
	body := req.Body
	for attempt := 0; ; attempt++ {
		c, err := t.conn(ctx, h)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		if c.wbuf, err = appendRequestHeader(c.wbuf[:0], req); err != nil {
			t.put(c)
			closeBody(req)
			return nil, err
		}
		if trace != nil && trace.GotConn != nil {
			trace.GotConn(httptrace.GotConnInfo{Conn: c.nc, Reused: c.reused, WasIdle: c.reused})
		}
		resp, wrote, err := c.roundTrip(ctx, trace, req, body)
		if err == nil {
			return resp, nil
		}
		if wrote || !c.reused || attempt > 0 || ctx.Err() != nil {
			closeBody(req)
			return nil, err
		}
		// Nothing left on a reused connection the server had closed: send
		// it again on a new one, with a new copy of the body.
		if body, err = rewind(req); err != nil {
			return nil, err
		}
	}
}

// rewind returns a fresh copy of req's body for a second attempt.
func rewind(req *http.Request) (io.ReadCloser, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req.Body, nil
	}
	if req.GetBody == nil {
		closeBody(req)
		return nil, errors.New("h1: connection closed before the request was sent, and its body cannot be sent again")
	}
	return req.GetBody()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// host returns the pool of req's host, creating it (and asking Proxy) on
// first use.
func (t *Transport) host(req *http.Request) (*host, error) {
	key := req.URL.Host
	t.mu.Lock()
	h := t.hosts[key]
	t.mu.Unlock()
	if h != nil {
		return h, nil
	}
	h = &host{addr: dialAddr(req.URL)}
	if t.Proxy != nil {
		u, err := t.Proxy(req)
		if err != nil {
			return nil, err
		}
		h.proxied = u != nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hosts == nil {
		t.hosts = make(map[string]*host)
	}
	if old := t.hosts[key]; old != nil {
		return old, nil
	}
	t.hosts[key] = h
	return h, nil
}

// dialAddr is the host:port of an http URL.
func dialAddr(u *neturl.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// conn returns an idle connection of h, or a new one. A context that has
// ended gets neither: its request is not sent, and an idle connection is
// not spent on it.
func (t *Transport) conn(ctx context.Context, h *host) (*conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	idleTimeout := t.idleTimeout()
	for {
		c := h.pop()
		if c == nil {
			break
		}
		idle := time.Since(c.idleSince)
		if idle > idleTimeout || (idle > probeAfter && !alive(c.nc)) {
			c.nc.Close()
			continue
		}
		c.reused = true
		return c, nil
	}
	nc, err := t.Dial(ctx, "tcp", h.addr)
	if err != nil {
		var op *net.OpError
		if !errors.As(err, &op) {
			// Say it was the dial, as net.Dialer's errors do.
			err = &net.OpError{Op: "dial", Net: "tcp", Err: err}
		}
		return nil, err
	}
	c := &conn{t: t, h: h, nc: nc, br: bufio.NewReaderSize(nc, 4096)}
	c.interrupt = c.setInterrupted
	return c, nil
}

func (h *host) pop() *conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.idle)
	if n == 0 {
		return nil
	}
	c := h.idle[n-1]
	h.idle[n-1] = nil
	h.idle = h.idle[:n-1]
	return c
}

// put returns c to its pool, or closes it when the pool is full or bytes
// nobody asked for follow the response that ended (a server that sent
// more than it framed, or a response twice): the next request on c would
// read them as its own response.
func (t *Transport) put(c *conn) {
	if c.br.Buffered() > 0 {
		c.nc.Close()
		return
	}
	max := t.MaxIdlePerHost
	if max <= 0 {
		max = 2
	}
	now, timeout := time.Now(), t.idleTimeout()
	c.idleSince = now
	h := c.h
	h.mu.Lock()
	// The pool is a stack: its bottom holds the connections idle longest.
	// Those past the idle timeout are closed here, since a pool used by
	// fewer requests at a time than it holds never pops them.
	var expired []*conn
	if len(h.idle) > 0 && now.Sub(h.idle[0].idleSince) > timeout {
		k := 1
		for k < len(h.idle) && now.Sub(h.idle[k].idleSince) > timeout {
			k++
		}
		expired = slices.Clone(h.idle[:k])
		h.idle = slices.Delete(h.idle, 0, k)
	}
	if len(h.idle) < max {
		h.idle = append(h.idle, c)
		c = nil
	}
	h.mu.Unlock()
	if c != nil {
		c.nc.Close()
	}
	for _, e := range expired {
		e.nc.Close()
	}
}

// idleTimeout is IdleTimeout or its default.
func (t *Transport) idleTimeout() time.Duration {
	if t.IdleTimeout <= 0 {
		return 90 * time.Second
	}
	return t.IdleTimeout
}

// CloseIdleConnections closes the idle connections of this transport and
// of Fallback (http.Client.CloseIdleConnections calls it).
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	hosts := make([]*host, 0, len(t.hosts))
	for _, h := range t.hosts {
		hosts = append(hosts, h)
	}
	t.mu.Unlock()
	for _, h := range hosts {
		for c := h.pop(); c != nil; c = h.pop() {
			c.nc.Close()
		}
	}
	if f, ok := t.Fallback.(interface{ CloseIdleConnections() }); ok {
		f.CloseIdleConnections()
	}
}

// appendRequestHeader appends the request line and header section of req
// to b, as net/http writes them for the same request (header order aside).
func appendRequestHeader(b []byte, req *http.Request) ([]byte, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	if !validToken(method) {
		return nil, fmt.Errorf("h1: invalid method %q", method)
	}
	hostName := req.Host
	if hostName == "" {
		hostName = req.URL.Host
	}
	if !validValue(hostName) || hostName == "" {
		return nil, fmt.Errorf("h1: invalid Host %q", hostName)
	}
	uri := req.URL.RequestURI()
	if !validValue(uri) {
		return nil, fmt.Errorf("h1: invalid request URI %q", uri)
	}
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, uri...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, hostName...)
	b = append(b, "\r\n"...)
	ua, set := req.Header["User-Agent"]
	switch {
	case !set:
		b = append(b, "User-Agent: Go-http-client/1.1\r\n"...)
	case len(ua) > 0 && ua[0] != "":
		if !validValue(ua[0]) {
			return nil, fmt.Errorf("h1: invalid User-Agent %q", ua[0])
		}
		b = append(b, "User-Agent: "...)
		b = append(b, ua[0]...)
		b = append(b, "\r\n"...)
	}
	n := req.ContentLength
	if req.Body == nil || req.Body == http.NoBody {
		n = 0
	}
	if n > 0 || (n == 0 && (method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch)) {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, n, 10)
		b = append(b, "\r\n"...)
	}
	for k, vs := range req.Header {
		switch k {
		case "Host", "User-Agent", "Content-Length", "Transfer-Encoding", "Trailer", "Connection":
			continue
		}
		if !validToken(k) {
			return nil, fmt.Errorf("h1: invalid header name %q", k)
		}
		for _, v := range vs {
			if !validValue(v) {
				return nil, fmt.Errorf("h1: invalid value for header %q", k)
			}
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, trimOWS(v)...)
			b = append(b, "\r\n"...)
		}
	}
	if wantsClose(req) {
		b = append(b, "Connection: close\r\n"...)
	}
	return append(b, "\r\n"...), nil
}

// wantsClose reports whether req asks for its connection to be closed
// after it: Request.Close, or a Connection field that says close (as
// net/http reads it).
func wantsClose(req *http.Request) bool {
	return req.Close || hasToken(req.Header["Connection"], "close")
}

// validToken reports whether s is an HTTP token (RFC 9110 §5.6.2).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// validValue reports whether s may be sent as a field value: no control
// characters but horizontal tab (RFC 9110 §5.5), so nothing can end the
// line early.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
