package h1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
)

// maxHeaderBytes bounds a response's header section, its interim
// responses' included.
const maxHeaderBytes = 1 << 20

// framingKind is how a response body's end is found (RFC 9112 §6.3).
type framingKind uint8

const (
	noBody     framingKind = iota // HEAD, 1xx, 204, 304
	byLength                      // Content-Length
	chunked                       // Transfer-Encoding: chunked
	untilClose                    // neither: the body ends with the connection
)

// framing is what readResponse found about the body and the connection.
type framing struct {
	kind   framingKind
	length int64 // byLength's; -1 for chunked and untilClose
	keep   bool  // the connection may carry another request after the body
	// chunked: the response named the chunked coding (its body may still
	// be none: HEAD, 204, 304)
	chunked bool
}

// errMalformed starts every error about a response this package cannot read.
var errMalformed = errors.New("h1: malformed response")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errMalformed}, args...)...)
}

// readResponse reads a response's status line and header section from br,
// skipping interim (1xx) responses, for a request of method. lines is
// scratch space for header lines longer than br's buffer. The response's
// Body and Request are left for the caller. The interim responses and the
// final one share maxHeaderBytes, as with net/http: a server that sends
// 1xx responses without end gets an error, not a request that never ends.
func readResponse(br *bufio.Reader, lines *[]byte, method string) (*http.Response, framing, error) {
	budget := maxHeaderBytes
	for {
		r, err := readHeader(br, lines, &budget)
		if err != nil {
			return nil, framing{}, err
		}
		switch {
		case r.StatusCode == http.StatusSwitchingProtocols:
			return nil, framing{}, errors.New("h1: 101 Switching Protocols is not supported")
		case r.StatusCode >= 100 && r.StatusCode < 200:
			continue
		}
		f, err := framingOf(r, method)
		if err != nil {
			return nil, framing{}, err
		}
		r.ContentLength = f.length
		r.Close = !f.keep
		if f.chunked {
			r.TransferEncoding = []string{"chunked"}
		}
		return r, f, nil
	}
}

// readHeader reads one status line and header section, charging their
// bytes to budget.
func readHeader(br *bufio.Reader, lines *[]byte, budget *int) (*http.Response, error) {
	line, err := readLine(br, lines, budget)
	if err != nil {
		return nil, err
	}
	r := &http.Response{ProtoMajor: 1}
	switch {
	case len(line) >= 9 && string(line[:9]) == "HTTP/1.1 ":
		r.Proto, r.ProtoMinor = "HTTP/1.1", 1
	case len(line) >= 9 && string(line[:9]) == "HTTP/1.0 ":
		r.Proto = "HTTP/1.0"
	default:
		return nil, malformed("status line %q", clip(line))
	}
	status := line[9:]
	for len(status) > 0 && status[0] == ' ' {
		status = status[1:]
	}
	if len(status) < 3 || (len(status) > 3 && status[3] != ' ') {
		return nil, malformed("status code in %q", clip(line))
	}
	code := 0
	for _, c := range status[:3] {
		if c < '0' || c > '9' {
			return nil, malformed("status code in %q", clip(line))
		}
		code = code*10 + int(c-'0')
	}
	r.StatusCode = code
	if code == http.StatusOK && string(status) == "200 OK" {
		r.Status = "200 OK"
	} else {
		r.Status = string(status)
	}
	r.Header, err = readFields(br, lines, budget)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// readFields reads header fields up to the empty line that ends them.
func readFields(br *bufio.Reader, lines *[]byte, budget *int) (http.Header, error) {
	h := make(http.Header, 8)
	var vals []string // one backing array for the values, as textproto does
	for {
		line, err := readLine(br, lines, budget)
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			return h, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			return nil, malformed("obsolete line folding in header line %q", clip(line))
		}
		i := 0
		for i < len(line) && line[i] != ':' {
			if !isTokenChar(line[i]) {
				return nil, malformed("header line %q", clip(line))
			}
			i++
		}
		if i == 0 || i == len(line) {
			return nil, malformed("header line %q", clip(line))
		}
		key := canonicalKey(line[:i])
		v := line[i+1:]
		for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
			v = v[1:]
		}
		for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
			v = v[:len(v)-1]
		}
		for _, c := range v {
			if c < ' ' && c != '\t' || c == 0x7f {
				return nil, malformed("control character in header line %q", clip(line))
			}
		}
		if vals == nil {
			vals = make([]string, 0, 8)
		}
		if len(vals) == cap(vals) {
			vals = make([]string, 0, 2*cap(vals))
		}
		vals = append(vals, string(v))
		if old, ok := h[key]; ok {
			h[key] = append(old, vals[len(vals)-1])
		} else {
			h[key] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
}

// commonKeys maps the lower-case names of the header fields LLM and
// vector-database servers send to their canonical form, so reading them
// allocates nothing.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"Content-Type", "Content-Length", "Date", "Server", "Transfer-Encoding",
		"Connection", "Keep-Alive", "Retry-After", "Cache-Control", "X-Request-Id", "Vary",
		"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Content-Encoding", "Trailer"} {
		m[strings.ToLower(k)] = k
	}
	return m
}()

// canonicalKey returns the canonical form of a header name (a valid
// token), as textproto.CanonicalMIMEHeaderKey does.
func canonicalKey(k []byte) string {
	var low [40]byte
	if len(k) <= len(low) {
		for i, c := range k {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			low[i] = c
		}
		if s, ok := commonKeys[string(low[:len(k)])]; ok {
			return s
		}
	}
	return textproto.CanonicalMIMEHeaderKey(string(k))
}

// framingOf decides how r's body ends (RFC 9112 §6.3) and whether the
// connection can be reused after it, and edits r.Header as net/http does:
// Transfer-Encoding is removed (its coding is in TransferEncoding), so is
// an HTTP/1.1 Connection field that says close (Close says it),
// repeated equal Content-Lengths become one, and a Content-Length beside
// chunked coding is dropped.
func framingOf(r *http.Response, method string) (framing, error) {
	h := r.Header
	conn := h["Connection"]
	keep := r.ProtoMinor == 1 && !hasToken(conn, "close") || r.ProtoMinor == 0 && hasToken(conn, "keep-alive")
	if r.ProtoMinor == 1 && !keep {
		delete(h, "Connection") // as net/http does: Response.Close says it
	}
	chunk := false
	if te, ok := h["Transfer-Encoding"]; ok {
		delete(h, "Transfer-Encoding")
		if r.ProtoMinor == 1 { // HTTP/1.0 has no transfer codings: ignored, as net/http does
			if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
				return framing{}, fmt.Errorf("h1: unsupported Transfer-Encoding %q", strings.Join(te, ", "))
			}
			chunk = true
		}
	}
	var length int64 = -1
	cl, hasCL := h["Content-Length"]
	if hasCL {
		n, err := contentLength(cl)
		if err != nil {
			return framing{}, err
		}
		if len(cl) > 1 {
			h["Content-Length"] = []string{strings.TrimSpace(cl[0])}
		}
		length = n
	}
	if method == http.MethodHead || r.StatusCode/100 == 1 || r.StatusCode == http.StatusNoContent || r.StatusCode == http.StatusNotModified {
		if method != http.MethodHead {
			length = 0 // a HEAD response keeps the length it announced (-1: none), as with net/http
		}
		return framing{kind: noBody, length: length, keep: keep, chunked: chunk}, nil
	}
	if chunk {
		delete(h, "Content-Length")
		// A Content-Length beside chunked is ignored, and the connection
		// not trusted with another request (RFC 9112 §6.3).
		return framing{kind: chunked, length: -1, keep: keep && !hasCL, chunked: true}, nil
	}
	if hasCL {
		if length == 0 {
			return framing{kind: noBody, length: 0, keep: keep}, nil
		}
		return framing{kind: byLength, length: length, keep: keep}, nil
	}
	return framing{kind: untilClose, length: -1, keep: false}, nil
}

// contentLength parses Content-Length values: decimal digits, all equal.
func contentLength(vs []string) (int64, error) {
	first := strings.TrimSpace(vs[0])
	for _, v := range vs[1:] {
		if strings.TrimSpace(v) != first {
			return 0, malformed("Content-Length values differ: %q", vs)
		}
	}
	if first == "" || len(first) > 18 {
		return 0, malformed("Content-Length %q", first)
	}
	var n int64
	for i := 0; i < len(first); i++ {
		c := first[i]
		if c < '0' || c > '9' {
			return 0, malformed("Content-Length %q", first)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// hasToken reports whether the comma-separated lists vs hold token,
// ignoring case.
func hasToken(vs []string, token string) bool {
	for _, v := range vs {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// readLine reads one line, without its CRLF (or LF), charging its length
// to budget. A line longer than br's buffer is put together in lines.
func readLine(br *bufio.Reader, lines *[]byte, budget *int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		buf := append((*lines)[:0], line...)
		for err == bufio.ErrBufferFull && len(buf) <= *budget {
			line, err = br.ReadSlice('\n')
			buf = append(buf, line...)
		}
		*lines = buf
		line = buf
	}
	*budget -= len(line)
	if *budget < 0 {
		return nil, malformed("header section larger than %d bytes", maxHeaderBytes)
	}
	if err != nil {
		if err == bufio.ErrBufferFull {
			err = malformed("header section larger than %d bytes", maxHeaderBytes)
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readChunkSize reads a chunk's size line as net/http does: ended by CRLF
// (a bare LF or another CR is an error), under 4096 bytes, trailing
// whitespace and extensions (from ';') dropped, then 1 to 15 hexadecimal
// digits. It returns the line's length too, for the overhead guard.
func readChunkSize(br *bufio.Reader) (size int64, lineLen int, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return 0, 0, malformed("chunk size line too long")
		}
		return 0, 0, noEOF(err)
	}
	if i := bytes.IndexByte(line, '\r'); i < 0 || i != len(line)-2 {
		return 0, 0, malformed("chunk size line %q not ended by CRLF", clip(line))
	}
	line = line[:len(line)-2]
	if len(line) >= 4096 {
		return 0, 0, malformed("chunk size line too long")
	}
	lineLen = len(line)
	digits := bytes.TrimRight(line, " \t\r\n")
	if i := bytes.IndexByte(digits, ';'); i >= 0 {
		digits = digits[:i]
	}
	if len(digits) == 0 || len(digits) > 15 {
		return 0, 0, malformed("chunk size %q", clip(line))
	}
	for _, c := range digits {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, 0, malformed("chunk size %q", clip(line))
		}
		size = size<<4 | int64(d)
	}
	return size, lineLen, nil
}

// readCRLF reads the CRLF that ends a chunk's data.
func readCRLF(br *bufio.Reader) error {
	b, err := br.Peek(2)
	if err != nil {
		return noEOF(err)
	}
	if b[0] != '\r' || b[1] != '\n' {
		return malformed("chunk data not followed by CRLF")
	}
	br.Discard(2)
	return nil
}

// skipTrailers reads a chunked body's trailer section up to its empty
// line, as strictly as net/http: every line ended by CRLF, field lines
// well formed, the section under 4096 bytes.
func skipTrailers(br *bufio.Reader) error {
	budget := 4096
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if err == bufio.ErrBufferFull {
				return malformed("trailer section too long")
			}
			return noEOF(err)
		}
		if budget -= len(line); budget < 0 {
			return malformed("trailer section too long")
		}
		if len(line) < 2 || line[len(line)-2] != '\r' {
			return malformed("trailer line %q not ended by CRLF", clip(line))
		}
		line = line[:len(line)-2]
		if len(line) == 0 {
			return nil
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 || !validToken(string(line[:i])) || !validValue(string(line[i+1:])) {
			return malformed("trailer line %q", clip(line))
		}
	}
}

// noEOF turns an end of stream inside a body into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// clip shortens a line quoted in an error.
func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
