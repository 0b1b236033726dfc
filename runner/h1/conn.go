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
	"slices"
	"sync/atomic"
	"time"
)

// conn is one kept-alive connection. It serves one request at a time:
// from RoundTrip until its response body ends it belongs to that request,
// then it goes back to its host's pool (or is closed).
type conn struct {
	t         *Transport
	h         *host
	nc        net.Conn
	br        *bufio.Reader
	wbuf      []byte // the request being written, reused
	lines     []byte // a header line longer than br's buffer, reused
	idleSince time.Time
	reused    bool
	sent      uint64 // bytes written on the connection

	interrupt   func() // setInterrupted, bound once for context.AfterFunc
	interrupted atomic.Bool
}

// aLongTimeAgo is a deadline that has passed: setting it makes every
// blocked and future read and write on the connection fail at once.
var aLongTimeAgo = time.Unix(1, 0)

// setInterrupted runs when the request's context ends.
func (c *conn) setInterrupted() {
	c.interrupted.Store(true)
	c.nc.SetDeadline(aLongTimeAgo)
}

// ErrUnsolicited is the error of a response on a reused connection whose
// end the same read found followed by more bytes. A server sent something
// nobody asked for: a response twice, or a body longer than its framing.
// On the connection's first response, the response read is the request's
// and the bytes are dropped with the connection; on a later one, the bytes
// may be the request's answer and the response read an earlier request's
// (its second copy, arrived after that request ended), and which is which
// cannot be told, so the request fails.
var ErrUnsolicited = errors.New("h1: bytes followed the response's end on a kept-alive connection (a response sent twice, or a body longer than its framing): the response read may be an earlier request's")

// unsolicited says whether the response that just ended is followed, in
// what the connection's reader holds, by bytes on a reused connection.
func (c *conn) unsolicited() error {
	if n := c.br.Buffered(); n > 0 && c.reused {
		return fmt.Errorf("%w (%d bytes after it)", ErrUnsolicited, n)
	}
	return nil
}

// errServerClosed is the error of a connection the server closed before
// any byte of the response.
var errServerClosed = errors.New("h1: server closed the connection before sending a response")

// roundTrip writes req (its header section already in c.wbuf, its body
// read from body) and reads the response's header section. wrote says
// whether any byte of the request may have reached the server. On error
// the connection is closed and body too.
func (c *conn) roundTrip(ctx context.Context, trace *httptrace.ClientTrace, req *http.Request, body io.ReadCloser) (resp *http.Response, wrote bool, err error) {
	c.interrupted.Store(false)
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, c.interrupt)
	}
	fail := func(err error) (*http.Response, bool, error) {
		if stop != nil {
			stop()
		}
		c.nc.Close()
		if body != nil {
			body.Close()
		}
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
		}
		return nil, wrote, err
	}
	n := req.ContentLength
	if body == nil || body == http.NoBody {
		n = 0
	}
	if n > 0 && n <= maxBufferedBody {
		start := len(c.wbuf)
		c.wbuf = slices.Grow(c.wbuf, int(n))[:start+int(n)]
		if _, err := io.ReadFull(body, c.wbuf[start:]); err != nil {
			return fail(errors.Join(errors.New("h1: reading the request body"), err))
		}
	}
	before := c.sent
	m, err := c.nc.Write(c.wbuf)
	wrote = m > 0
	c.sent += uint64(m)
	if err == nil && n > maxBufferedBody {
		var k int64
		k, err = io.CopyN(c.nc, body, n)
		c.sent += uint64(k)
	}
	if body != nil {
		body.Close()
		body = nil
	}
	if cap(c.wbuf) > keptBuffer {
		c.wbuf = nil // an idle connection does not keep a long prompt's buffer
	}
	if trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{Err: err})
	}
	// A request not sent whole may still have its answer: a server can
	// answer and close before it read the body (413 for a body too large,
	// 401), and that answer is the request's, as with net/http. Without
	// one, the write's error is the request's.
	writeErr := err
	if writeErr != nil && (!wrote || c.interrupted.Load()) {
		return fail(writeErr)
	}
	if _, err := c.br.Peek(1); err != nil {
		switch {
		case writeErr != nil:
			err = writeErr
		case err == io.EOF:
			err = errServerClosed
		}
		// A reused connection the server closed just before the request
		// went out (after its last response, without Connection: close,
		// too soon for the idle probe): none of the request reached the
		// server, which may be asked again, as net/http does when its
		// reader sees the close first.
		if c.reused && !c.interrupted.Load() && unreceived(c.nc, before) {
			wrote = false
		}
		return fail(err)
	}
	if trace != nil && trace.GotFirstResponseByte != nil {
		trace.GotFirstResponseByte()
	}
	r, f, err := readResponse(c.br, &c.lines, req.Method)
	if cap(c.lines) > keptBuffer {
		c.lines = nil
	}
	if err != nil {
		return fail(err)
	}
	r.Request = req
	keep := f.keep && !wantsClose(req) && writeErr == nil
	r.Close = r.Close || writeErr != nil
	if f.kind == noBody {
		if err := c.unsolicited(); err != nil {
			return fail(err)
		}
		r.Body = http.NoBody
		c.release(stop, keep)
		return r, true, nil
	}
	b := &bodyReader{c: c, br: c.br, ctx: ctx, stop: stop, kind: f.kind, keep: keep}
	if f.kind == byLength {
		b.left = f.length
	}
	r.Body = b
	return r, true, nil
}

// keptBuffer is the largest request (or long header line) buffer a
// connection keeps for its next request: with thousands of idle
// connections, each keeping the buffer of its largest long-context prompt
// would hold hundreds of MiB; a larger request allocates its own.
const keptBuffer = 16 << 10

// errBodyClosed is what reading a closed response body returns, as with
// net/http.
var errBodyClosed = errors.New("http: read on closed response body")

// bodyReader is a response body. It holds its connection until the body's
// end, which returns the connection to its pool (or closes it). Read and
// Close are for one goroutine at a time; the request's context interrupts
// a blocked Read.
type bodyReader struct {
	c    *conn // nil once released
	br   *bufio.Reader
	ctx  context.Context
	stop func() bool
	kind framingKind
	left int64 // byLength: bytes left; chunked: bytes left of the chunk
	crlf bool  // chunked: a chunk's data ended, its CRLF is next
	// excess is the chunked coding's overhead beyond what its data allows
	excess int64
	keep   bool
	err    error // sticky, once the body ended or failed
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var err error
	switch b.kind {
	case byLength:
		if int64(len(p)) > b.left {
			p = p[:b.left]
		}
		n, err = b.br.Read(p)
		b.left -= int64(n)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err == nil && b.left == 0 {
			err = io.EOF
		}
	case chunked:
		n, err = b.readChunked(p)
	default: // untilClose
		n, err = b.br.Read(p)
	}
	if err != nil {
		b.end(err)
		return n, b.err
	}
	return n, nil
}

// end records the body's end or failure and releases the connection:
// back to its pool after a clean end, closed otherwise.
func (b *bodyReader) end(err error) {
	if err == io.EOF && b.c != nil {
		if uerr := b.c.unsolicited(); uerr != nil {
			err = uerr
		}
	}
	clean := err == io.EOF
	if !clean && b.c != nil && b.c.interrupted.Load() {
		if cerr := b.ctx.Err(); cerr != nil {
			err = cerr
		}
	}
	b.err = err
	b.release(clean && b.keep)
}

func (b *bodyReader) release(reuse bool) {
	c := b.c
	if c == nil {
		return
	}
	b.c, b.br = nil, nil
	c.release(b.stop, reuse)
}

// release ends the request's hold on c when its response is over: stop
// ends the watch on the request's context, and c goes back to its pool
// when reuse allows and the context did not end (its interrupt spent the
// connection's deadline), or is closed.
func (c *conn) release(stop func() bool, reuse bool) {
	if stop != nil && !stop() {
		reuse = false
	}
	if reuse {
		c.t.put(c)
	} else {
		c.nc.Close()
	}
}

// Close ends the body; before its end, that closes the connection (what
// is left of the response is not read), as net/http does.
func (b *bodyReader) Close() error {
	b.release(false)
	b.err = errBodyClosed
	return nil
}

// readChunked reads chunked transfer coding (RFC 9112 §7.1): size line,
// data, CRLF, ... then a zero size, trailer fields (dropped) and an empty
// line.
func (b *bodyReader) readChunked(p []byte) (int, error) {
	for b.left == 0 {
		if b.crlf {
			if err := readCRLF(b.br); err != nil {
				return 0, err
			}
			b.crlf = false
		}
		size, lineLen, err := readChunkSize(b.br)
		if err != nil {
			return 0, err
		}
		// Overhead guard, as net/http's: 16 bytes of size line per chunk
		// plus twice its data are allowed, and at most 16 KiB more.
		b.excess = max(b.excess+int64(lineLen)+2-16-2*size, 0)
		if b.excess > 16<<10 {
			return 0, malformed("chunked encoding with too much non-data")
		}
		if size == 0 {
			if err := skipTrailers(b.br); err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		b.left = size
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.br.Read(p)
	b.left -= int64(n)
	if b.left == 0 {
		b.crlf = true
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
