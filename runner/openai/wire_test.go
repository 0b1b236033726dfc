package openai

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/runner/internal/drivertest"
	"github.com/benchrun/benchrun/runner/results"
)

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
		end    drivertest.WireEnd
		want   string
	}{
		{"whole body cut by a close", false, okHead + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(whole)) + whole[:40], drivertest.CloseConn, results.ErrStreamTruncated},
		{"whole body cut by a reset", false, okHead + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(whole)) + whole[:40], drivertest.ResetConn, results.ErrStreamTruncated},
		{"whole chunked body cut before its last chunk", false, okHead + "Transfer-Encoding: chunked\r\n\r\n" + chunk(whole), drivertest.CloseConn, results.ErrStreamTruncated},
		{"whole chunked body with a bad chunk size", false, okHead + "Transfer-Encoding: chunked\r\n\r\n" + "zz\r\n" + whole + "\r\n0\r\n\r\n", drivertest.CloseConn, results.ErrStreamTruncated},
		{"stream cut between events", true, sseHead + chunk(chatChunk(`{"content":"a"}`)) + chunk(chatChunk(`{"content":"b"}`)), drivertest.CloseConn, results.ErrStreamTruncated},
		{"stream reset between events", true, sseHead + chunk(chatChunk(`{"content":"a"}`)), drivertest.ResetConn, results.ErrStreamTruncated},
		{"stream cut inside a chunk", true, sseHead + chunk(chatChunk(`{"content":"a"}`)) + "100\r\n" + chatChunk(`{"content":"b"}`)[:30], drivertest.CloseConn, results.ErrStreamTruncated},
		{"headers cut", false, okHead + "Content-Le", drivertest.CloseConn, results.ErrOther},
		{"reset before a response", false, "", drivertest.ResetConn, results.ErrOther},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := drivertest.RawServer(t, func(int) (string, drivertest.WireEnd) { return c.raw, c.end })
			d := newTestOpenAI(t, Options{BaseURL: url, API: APICompletions, Stream: c.stream})
			s := drivertest.Do(context.Background(), d, 0)
			if s.Error != c.want {
				t.Errorf("error %q (%s), want %q", s.Error, s.ErrorDetail, c.want)
			}
		})
	}
	t.Run("a response sent twice is not the next request's", func(t *testing.T) {
		url := drivertest.RawServer(t, func(n int) (string, drivertest.WireEnd) {
			resp := okHead + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(whole)) + whole
			if n == 1 {
				return resp + resp, drivertest.KeepOpen // the second copy in the same segment
			}
			return "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", drivertest.KeepOpen
		})
		d := newTestOpenAI(t, Options{BaseURL: url, API: APICompletions})
		if s := drivertest.Do(context.Background(), d, 0); !s.OK() {
			t.Fatalf("first request: %s (%s)", s.Error, s.ErrorDetail)
		}
		if s := drivertest.Do(context.Background(), d, 1); s.Error != results.ErrHTTP5xx || !strings.Contains(s.ErrorDetail, "busy") {
			t.Errorf("second request: error %q (%s), want the server's 503 to it", s.Error, s.ErrorDetail)
		}
	})
	t.Run("two responses in one read on a reused connection fail the request", func(t *testing.T) {
		// Which of the two is this request's cannot be told: the first may
		// be an earlier request's second copy that arrived after it ended.
		url := drivertest.RawServer(t, func(n int) (string, drivertest.WireEnd) {
			resp := okHead + fmt.Sprintf("Content-Length: %d\r\n\r\n", len(whole)) + whole
			if n == 2 {
				return resp + resp, drivertest.KeepOpen
			}
			return resp, drivertest.KeepOpen
		})
		d := newTestOpenAI(t, Options{BaseURL: url, API: APICompletions})
		for i, want := range []string{"", results.ErrOther, ""} {
			s := drivertest.Do(context.Background(), d, int64(i))
			if s.Error != want || (want != "" && !strings.Contains(s.ErrorDetail, "followed the response's end")) {
				t.Errorf("request %d: error %q (%s), want %q", i, s.Error, s.ErrorDetail, want)
			}
		}
	})
	t.Run("two streams in one read on a reused connection fail the request", func(t *testing.T) {
		stream := sseHead + chunk(roleChunk) + chunk(chatChunk(`{"content":"a"}`)) + chunk(doneEvent) + "0\r\n\r\n"
		url := drivertest.RawServer(t, func(n int) (string, drivertest.WireEnd) {
			if n == 2 {
				return stream + stream, drivertest.KeepOpen
			}
			return stream, drivertest.KeepOpen
		})
		d := newTestOpenAI(t, Options{BaseURL: url, API: APIChat, Stream: true})
		for i, want := range []string{"", results.ErrOther, ""} {
			s := drivertest.Do(context.Background(), d, int64(i))
			if s.Error != want || (want != "" && !strings.Contains(s.ErrorDetail, "followed the response's end")) {
				t.Errorf("request %d: error %q (%s), want %q", i, s.Error, s.ErrorDetail, want)
			}
		}
	})
}
