package h1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"
)

// BenchmarkReadResponse is the transport's per-response parse: a vLLM
// non-streaming response's status line, uvicorn's lower-case header
// fields and its Content-Length body, read from memory. Compare across
// commits with benchstat (docs/performance.md).
func BenchmarkReadResponse(b *testing.B) {
	body := []byte(`{"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"m","choices":[{"index":0,"text":" one two three","finish_reason":"length"}],"usage":{"prompt_tokens":16,"total_tokens":19,"completion_tokens":3}}`)
	raw := []byte("HTTP/1.1 200 OK\r\ndate: Tue, 01 Dec 2026 20:00:00 GMT\r\nserver: uvicorn\r\ncontent-length: " +
		strconv.Itoa(len(body)) + "\r\ncontent-type: application/json\r\n\r\n" + string(body))
	rd := bytes.NewReader(raw)
	br := bufio.NewReaderSize(rd, 4096)
	var lines []byte
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(raw)
		br.Reset(rd)
		r, f, err := readResponse(br, &lines, http.MethodPost)
		if err != nil || f.kind != byLength {
			b.Fatal(r, err)
		}
		body := &bodyReader{br: br, kind: f.kind, left: f.length}
		n := 0
		for {
			m, err := body.Read(buf[n:])
			n += m
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
