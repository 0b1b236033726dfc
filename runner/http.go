package runner

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	neturl "net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/benchrun/benchrun/runner/h1"
	"github.com/benchrun/benchrun/runner/results"
)

// What the HTTP drivers (runner/openai, runner/ollama) share: the endpoint
// check, the benchmarking client, and the Exchange that sends one request,
// stamps its response's arrival and classifies its failure.

// Endpoint returns the URL of api under baseURL, where paths maps every API
// the driver speaks to its path. Errors start with the driver's name.
func Endpoint(driver, baseURL, api string, paths map[string]string) (string, error) {
	path, ok := paths[api]
	if !ok {
		return "", fmt.Errorf("%s: api %q: want one of %s", driver, api, strings.Join(slices.Sorted(maps.Keys(paths)), ", "))
	}
	if baseURL == "" {
		return "", fmt.Errorf("%s: base URL is required", driver)
	}
	return strings.TrimRight(baseURL, "/") + path, nil
}

// ClientOr returns c, or a benchmarking client when c is nil.
func ClientOr(c *http.Client) *http.Client {
	if c == nil {
		return newBenchClient()
	}
	return c
}

// newBenchClient returns a client whose pool keeps a connection per
// concurrent request, so connection setup does not pollute latencies.
func newBenchClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = results.DefaultMaxInFlight // every open-loop slot keeps its connection
	t.DisableCompression = true                        // compressed SSE would be buffered
	// Chunks are stamped with the kernel's receive time where it has one
	// (ReceiveTime), not when this process got to read them.
	t.DialContext = ReceiveDialer(&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second})
	// Plain-http requests go through benchrun's own HTTP/1.1 transport,
	// which sends and reads on the caller's goroutine (runner/h1); https,
	// proxied hosts and bodies of unknown length through net/http's.
	return &http.Client{Transport: &h1.Transport{
		Dial:           t.DialContext,
		Fallback:       t,
		Proxy:          t.Proxy,
		MaxIdlePerHost: t.MaxIdleConnsPerHost,
		IdleTimeout:    t.IdleConnTimeout,
	}}
}

// Exchange is the HTTP request a driver's Do sends for one operation, and
// its response. Its times are offsets from the operation's start
// (Op.Start), like every results.Sample offset. The httptrace callbacks
// run on the transport's goroutines, possibly after Do returned (a
// canceled request): they touch only start, sent and the atomics, never
// the sample. Everything else is for Do's goroutine only.
type Exchange struct {
	start     time.Time
	sent      time.Duration // s.Sent, copied for the callbacks
	s         *results.Sample
	firstByte atomic.Int64 // offset from start, set by httptrace
	early     atomic.Bool  // the first byte was stamped before the send (gotFirstByte)
	conn      atomic.Pointer[connRef]
	floor     time.Duration // the latest arrival given to the body reader

	// secrets are the credentials this request sent (Authorization and
	// API key headers, and their tokens): Detail and Settle redact them.
	secrets  [2 * len(secretHeaders)]string
	nSecrets int
}

type connRef struct{ c net.Conn }

// NewExchange returns the exchange of operation op, recorded in s; the
// caller has set s.Sent.
func NewExchange(op Op, s *results.Sample) *Exchange {
	return &Exchange{start: op.Start, sent: s.Sent, s: s}
}

// Now returns the offset of now from the operation's start.
func (x *Exchange) Now() time.Duration { return time.Since(x.start) }

func (x *Exchange) gotConn() bool { return x.conn.Load() != nil }

// Settle runs when Do ends (defer it). The first byte cannot arrive after
// the first token; when it was measured so, its read had no kernel stamp
// and was timed when the process got to it, so the token's arrival bounds
// it. It also redacts the request's credentials from the sample's
// ErrorDetail, whoever set it (drivers should set it through Detail, which
// redacts before it truncates, so that no part of a secret is left).
func (x *Exchange) Settle() {
	s := x.s
	if s.FirstToken > 0 && s.FirstByte > s.FirstToken {
		s.FirstByte = s.FirstToken
	}
	if s.ErrorDetail != "" {
		s.ErrorDetail = Redact(s.ErrorDetail, x.secrets[:x.nSecrets]...)
	}
}

// Detail returns text as a Sample.ErrorDetail: the request's credentials
// and anything that looks like one redacted (Redact), then cut to 200
// bytes (ErrorDetail). Drivers pass every error body, stream error and
// message that may quote the request through it.
func (x *Exchange) Detail(text string) string {
	return ErrorDetail(text, x.secrets[:x.nSecrets]...)
}

// Snippet is Detail for the start of a response body.
func (x *Exchange) Snippet(b []byte) string {
	return Snippet(b, x.secrets[:x.nSecrets]...)
}

// keepSecrets remembers the credentials req carries, for Detail.
func (x *Exchange) keepSecrets(req *http.Request) {
	x.nSecrets = 0
	for _, h := range secretHeaders {
		v := strings.TrimSpace(req.Header.Get(h))
		if v == "" {
			continue
		}
		x.secrets[x.nSecrets] = v
		x.nSecrets++
		if _, token, ok := strings.Cut(v, " "); ok && strings.TrimSpace(token) != "" {
			x.secrets[x.nSecrets] = strings.TrimSpace(token)
			x.nSecrets++
		}
	}
}

// received returns when the bytes just read reached this host, as an
// offset from start: the kernel's receive stamp when the connection has
// one (ReceiveTime) and it falls between the send and now, else now.
func (x *Exchange) received() time.Duration {
	now := x.Now()
	if d, ok := x.stamp(); ok && d >= x.sent && d < now {
		return d
	}
	return now
}

// stamp returns the kernel's receive stamp of the bytes just read from the
// request's connection (ReceiveTime), as an offset from start.
func (x *Exchange) stamp() (time.Duration, bool) {
	if r := x.conn.Load(); r != nil {
		if t, ok := ReceiveTime(r.c); ok {
			return t.Sub(x.start), true
		}
	}
	return 0, false
}

// gotFirstByte runs when the response's first byte can be read
// (httptrace): it records the byte's arrival, and notes a first read the
// kernel stamped before the request was sent. Those bytes cannot be this
// request's answer: they were left on a reused connection by an earlier
// response (a server that sent more than it framed, in a later segment),
// and send fails the request instead of taking them for its response.
func (x *Exchange) gotFirstByte() {
	now := x.Now()
	d, ok := x.stamp()
	if ok && d < x.sent {
		x.early.Store(true)
	}
	if !ok || d < x.sent || d >= now {
		d = now // as received: a stamp outside the exchange is not used
	}
	x.firstByte.Store(int64(d))
}

// Arrival returns when the response bytes just read arrived, for the body
// reader: the receive stamp (see received), never earlier than the arrival
// it gave before, since a stamped read may follow one timed by the clock.
func (x *Exchange) Arrival() time.Duration {
	x.floor = max(x.received(), x.floor)
	return x.floor
}

// Post sends body to url as JSON under the per-request timeout (0: none),
// with header adding the driver's own headers, tracing the connection and
// the first response byte. On failure it has filled in the sample and resp
// is nil. rctx is the request's context; the caller calls done when it has
// read the response.
func (x *Exchange) Post(ctx context.Context, client *http.Client, url string, body []byte, timeout time.Duration, header func(*http.Request)) (resp *http.Response, rctx context.Context, done context.CancelFunc) {
	return x.Send(ctx, client, http.MethodPost, url, body, timeout, header)
}

// PostURL is Post to a URL the driver parsed once (ParseTarget), which
// saves parsing it for every request; u is only read.
func (x *Exchange) PostURL(ctx context.Context, client *http.Client, u *neturl.URL, body []byte, timeout time.Duration, header func(*http.Request)) (resp *http.Response, rctx context.Context, done context.CancelFunc) {
	return x.sendTo(ctx, client, http.MethodPost, "", u, body, timeout, header)
}

// ParseTarget parses a URL a driver sends every request to, for PostURL.
func ParseTarget(url string) (*neturl.URL, error) {
	// As http.NewRequest reads it, so that PostURL sends what Post would.
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		return nil, err
	}
	return req.URL, nil
}

// Send is Post with another method (GET, DELETE); a nil body sends none
// and no Content-Type. Any 2xx status is a success.
func (x *Exchange) Send(ctx context.Context, client *http.Client, method, url string, body []byte, timeout time.Duration, header func(*http.Request)) (resp *http.Response, rctx context.Context, done context.CancelFunc) {
	return x.sendTo(ctx, client, method, url, nil, body, timeout, header)
}

// sendTo is Send to url, or to u when it is not nil.
func (x *Exchange) sendTo(ctx context.Context, client *http.Client, method, url string, u *neturl.URL, body []byte, timeout time.Duration, header func(*http.Request)) (resp *http.Response, rctx context.Context, done context.CancelFunc) {
	rctx, done = ctx, func() {}
	if timeout > 0 {
		rctx, done = context.WithTimeout(ctx, timeout)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	// The request carries the trace from the start: adding it later
	// (WithContext) copies the request.
	trace := &httptrace.ClientTrace{
		GotConn:              func(i httptrace.GotConnInfo) { x.conn.Store(&connRef{i.Conn}) },
		GotFirstResponseByte: x.gotFirstByte,
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(rctx, trace), method, url, rd)
	if err != nil {
		x.s.Error, x.s.ErrorDetail, x.s.Done = results.ErrOther, err.Error(), x.Now()
		return nil, rctx, done
	}
	if u != nil {
		// url was empty: the request's URL is a zero URL of its own, which
		// takes a copy of the parsed one (the request may be changed).
		*req.URL = *u
		req.Host = strings.TrimSuffix(u.Host, ":") // as NewRequest sets it
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if header != nil {
		header(req)
	}
	x.keepSecrets(req)
	return x.send(rctx, ctx, client, req), rctx, done
}

// send performs the HTTP request, traced by sendTo. On failure it has
// filled in the sample and returns a nil response.
func (x *Exchange) send(ctx, parent context.Context, client *http.Client, req *http.Request) *http.Response {
	resp, err := client.Do(req)
	x.s.FirstByte = time.Duration(x.firstByte.Load())
	if err != nil {
		x.Fail(parent, ctx, err, results.ErrConnect)
		return nil
	}
	if x.early.Load() {
		// Closing the body before its end closes the connection too.
		resp.Body.Close()
		x.s.Status, x.s.Error, x.s.Done = resp.StatusCode, results.ErrOther, x.Now()
		x.s.ErrorDetail = "the response's first bytes reached this host before the request was sent: " +
			"left on the connection by an earlier response, not this request's answer"
		return nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Read more than is kept, so that a secret cut by the read limit
		// is still whole when it is redacted.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		x.s.Status = resp.StatusCode
		x.s.Done = x.Now()
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			x.s.Error = results.ErrRateLimited
			x.s.RetryAfter = RetryAfter(resp.Header, time.Now())
		case resp.StatusCode >= 500:
			x.s.Error = results.ErrHTTP5xx
		case resp.StatusCode >= 400:
			x.s.Error = results.ErrHTTP4xx
		default:
			x.s.Error = results.ErrOther
		}
		x.s.ErrorDetail = x.Detail(resp.Status + ": " + strings.TrimSpace(string(body)))
		return nil
	}
	x.s.Status = resp.StatusCode
	return resp
}

// Fail records err as the sample's error class; parent is the context Do
// was given, ctx the request's (Post's rctx). A canceled parent context is
// "canceled" (the load generator relabels it "unfinished" when the case's
// drain ended it); a deadline (per-request timeout, parent deadline, client
// timeout) is "timeout"; the client running out of its own resources
// (ClientSide) is "client"; a failure before a connection existed is
// "connect"; anything else is class fallback (for errors while reading a
// response, typically results.ErrStreamTruncated), or other when fallback
// is results.ErrConnect.
func (x *Exchange) Fail(parent, ctx context.Context, err error, fallback string) {
	x.s.Done = x.Now()
	x.s.ErrorDetail = x.Detail(err.Error())
	var ne net.Error
	var op *net.OpError
	var terr tls.RecordHeaderError
	switch {
	case errors.Is(parent.Err(), context.Canceled):
		x.s.Error = results.ErrCanceled
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()):
		x.s.Error = results.ErrTimeout
	case ClientSide(err):
		x.s.Error = results.ErrClient
	case !x.gotConn() || (errors.As(err, &op) && op.Op == "dial") || errors.As(err, &terr):
		x.s.Error = results.ErrConnect
	case fallback == results.ErrConnect || errors.Is(err, h1.ErrUnsolicited):
		x.s.Error = results.ErrOther
	default:
		x.s.Error = fallback
	}
}

// clientErrnos are the errors of a client out of its own resources.
var clientErrnos = []error{syscall.EMFILE, syscall.ENFILE, syscall.EADDRNOTAVAIL, syscall.ENOBUFS, syscall.ENOMEM}

// ClientSide reports whether err is the client running out of a resource
// of its own (file descriptors, local ports, socket buffers, memory)
// rather than a failure of the server or the network: results.ErrClient.
func ClientSide(err error) bool {
	for _, e := range clientErrnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// RetryAfter returns the Retry-After of a response with header h received
// at now, as a duration: delay-seconds, or an HTTP date taken relative to
// the response's Date header (now when it has none). 0 when absent,
// unreadable or in the past.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 || secs > math.MaxInt64/int64(time.Second) {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date
	}
	return max(at.Sub(now), 0)
}

// DrainBody reads what is left of a response body after the protocol's
// end (SSE's [DONE], Ollama's done line): the chunked terminator, usually.
// The transports (runner/h1, and net/http for https) return a connection
// to their pool only when its body was read to EOF, and close it
// otherwise, so without this every streamed request could pay a new
// connection. Call it only after the end marker, so that it
// does not wait for a stream still running; it reads at most maxDrain
// bytes. Its one error is h1.ErrUnsolicited: the stream was followed by
// bytes on a reused connection, so it may have been an earlier request's
// (sent twice), and the sample fails (other errors after the end marker
// only cost the connection).
func DrainBody(body io.Reader) error {
	if _, err := io.CopyN(io.Discard, body, maxDrain); errors.Is(err, h1.ErrUnsolicited) {
		return err
	}
	return nil
}

// maxDrain bounds what DrainBody reads: a server that sends more after the
// end of its stream loses its connection instead.
const maxDrain = 64 << 10

// maxErrorDetail bounds Sample.ErrorDetail, in bytes.
const maxErrorDetail = 200

// maxErrorBody is how much of an error response's body is read: more
// than is kept, so that a secret straddling the kept part is redacted
// whole.
const maxErrorBody = 4096

// ErrorDetail returns s as Sample.ErrorDetail keeps it: secrets and
// anything that looks like a credential redacted (Redact), then cut to 200
// bytes at a rune boundary (with "…" after the cut).
func ErrorDetail(s string, secrets ...string) string {
	s = Redact(s, secrets...)
	n := maxErrorDetail
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Snippet returns the start of a response body as text for an error
// message or an ErrorDetail, redacted as ErrorDetail does.
func Snippet(b []byte, secrets ...string) string {
	return ErrorDetail(strings.TrimSpace(string(b)), secrets...)
}
