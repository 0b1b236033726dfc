package openai

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/benchrun/benchrun/runner/internal/drivertest"
	"github.com/benchrun/benchrun/runner/results"
)

// wireEnd is how a rawServer ends a connection after its bytes.
type wireEnd int

const (
	keepOpen wireEnd = iota
	closeConn
	resetConn // RST instead of FIN: SO_LINGER 0, then close
)

// rawServer answers the n-th request (from 1, over all connections) with
// respond's bytes, written as they are, and ends the connection as it
// says: a server that frames, cuts and repeats responses as no real
// server would, to see what the driver makes of them.
func rawServer(t *testing.T, respond func(n int) (string, wireEnd)) string {
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
					case closeConn:
						return
					case resetConn:
						c.(*net.TCPConn).SetLinger(0)
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func chunk(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }

// TestOpenAIWireFailures: with benchrun's own client, a response cut,
// reset or garbled on the wire is a failed sample of the right class, and
// never a success; a connection that carried bytes beyond its response is
// not reused, so a stale response is never taken for the next request's.
func TestOpenAIWireFailures(t *testing.T) {
	whole := string(instantCompletion)
	okHead := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	sseHead := "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
	for _, c := range []struct {
		name   string
		stream bool
		raw    string
		end    wireEnd
		want   string
	}{
		{"whole body cut by a close", false, okHead + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(whole)) + whole[:40], closeConn, results.ErrStreamTruncated},
		{"whole body cut by a reset", false, okHead + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(whole)) + whole[:40], resetConn, results.ErrStreamTruncated},
		{"whole chunked body cut before its last chunk", false, okHead + "Transfer-Encoding: chunked\r\n\r\n" + chunk(whole), closeConn, results.ErrStreamTruncated},
		{"whole chunked body with a bad chunk size", false, okHead + "Transfer-Encoding: chunked\r\n\r\n" + "zz\r\n" + whole + "\r\n0\r\n\r\n", closeConn, results.ErrStreamTruncated},
		{"stream cut between events", true, sseHead + chunk(chatChunk(`{"content":"a"}`)) + chunk(chatChunk(`{"content":"b"}`)), closeConn, results.ErrStreamTruncated},
		{"stream reset between events", true, sseHead + chunk(chatChunk(`{"content":"a"}`)), resetConn, results.ErrStreamTruncated},
		{"stream cut inside a chunk", true, sseHead + chunk(chatChunk(`{"content":"a"}`)) + "100\r\n" + chatChunk(`{"content":"b"}`)[:30], closeConn, results.ErrStreamTruncated},
		{"headers cut", false, okHead + "Content-Le", closeConn, results.ErrOther},
		{"reset before a response", false, "", resetConn, results.ErrOther},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := rawServer(t, func(int) (string, wireEnd) { return c.raw, c.end })
			d := newTestOpenAI(t, Options{BaseURL: url, API: APICompletions, Stream: c.stream})
			s := drivertest.Do(context.Background(), d, 0)
			if s.Error != c.want {
				t.Errorf("error %q (%s), want %q", s.Error, s.ErrorDetail, c.want)
			}
		})
	}
	t.Run("a response sent twice is not the next request's", func(t *testing.T) {
		url := rawServer(t, func(n int) (string, wireEnd) {
			resp := okHead + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(whole)) + whole
			if n == 1 {
				return resp + resp, keepOpen // the second copy in the same segment
			}
			return "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", keepOpen
		})
		d := newTestOpenAI(t, Options{BaseURL: url, API: APICompletions})
		if s := drivertest.Do(context.Background(), d, 0); !s.OK() {
			t.Fatalf("first request: %s (%s)", s.Error, s.ErrorDetail)
		}
		if s := drivertest.Do(context.Background(), d, 1); s.Error != results.ErrHTTP5xx || !strings.Contains(s.ErrorDetail, "busy") {
			t.Errorf("second request: error %q (%s), want the server's 503 to it", s.Error, s.ErrorDetail)
		}
	})
}
