package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

// FuzzReadResponse reads arbitrary bytes as a response and its body, with
// a small buffer so that long lines take their own path, and compares
// with net/http's reader on the same bytes: whatever this package accepts,
// net/http accepts too, with the same status, header fields and body. It
// may reject more (obsolete line folding, transfer codings other than
// chunked, 101), never read something else. When it would keep the
// connection, net/http would too, and the response ends at the same byte
// (a response that ended early or late would leave bytes that the next
// request reads as its response).
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-type: application/json\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: t\r\n\r\n",
		"HTTP/1.1 200 OK\r\n\r\nuntil close",
		"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 4\r\n\r\nbusy",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.1 404 Not Found\r\nSet-Cookie: a\r\nset-cookie: b\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, raw []byte, head bool) {
		method := http.MethodGet
		if head {
			method = http.MethodHead
		}
		src := bytes.NewReader(raw)
		br := bufio.NewReaderSize(src, 16)
		var lines []byte
		r, fr, err := readResponse(br, &lines, method)
		if err != nil {
			return
		}
		var body []byte
		if fr.kind != noBody {
			b := &bodyReader{br: br, kind: fr.kind}
			if fr.kind == byLength {
				b.left = fr.length
			}
			body, err = io.ReadAll(b)
			if err != nil {
				return // an error is never a success
			}
		}
		// Where the response ended: the next response on the connection
		// starts there.
		end := len(raw) - src.Len() - br.Buffered()
		nsrc := bytes.NewReader(raw)
		nbr := bufio.NewReader(nsrc)
		var nr *http.Response
		for {
			nr, err = http.ReadResponse(nbr, &http.Request{Method: method})
			if err != nil {
				t.Fatalf("net/http rejects what h1 read (%d %q): %v", r.StatusCode, body, err)
			}
			if nr.StatusCode < 100 || nr.StatusCode >= 200 || nr.StatusCode == 101 {
				break
			}
		}
		nbody, nerr := io.ReadAll(nr.Body)
		if nerr != nil {
			t.Fatalf("net/http fails the body h1 read as %q: %v", body, nerr)
		}
		if nr.StatusCode != r.StatusCode || !bytes.Equal(nbody, body) || nr.ContentLength != r.ContentLength {
			t.Fatalf("h1 read %d %q (length %d), net/http %d %q (length %d)", r.StatusCode, body, r.ContentLength, nr.StatusCode, nbody, nr.ContentLength)
		}
		if nend := len(raw) - nsrc.Len() - nbr.Buffered(); fr.keep && nend != end {
			t.Fatalf("response ends at byte %d, net/http's at %d: the rest would be read as the next response", end, nend)
		}
		if fr.keep && nr.Close {
			t.Fatalf("h1 keeps the connection, net/http closes it")
		}
		for k, v := range r.Header {
			if nv := nr.Header[k]; len(nv) != len(v) {
				t.Fatalf("header %q: h1 %q, net/http %q", k, v, nv)
			}
		}
	})
}
