package openai

import (
	"context"
	"strconv"
	"testing"

	"github.com/benchrun/benchrun/runner/internal/drivertest"
	"github.com/benchrun/benchrun/runner/results"
)

// TestWireFaults: responses broken on the wire, through the driver's
// default client (benchrun's HTTP/1.1 transport), are failed samples,
// never successes with the tokens of what did arrive.
func TestWireFaults(t *testing.T) {
	whole := string(instantCompletion)
	sse := "data: {\"choices\":[{\"index\":0,\"text\":\" a\"}]}\n\n"
	for _, c := range []struct {
		name, raw string
		stream    bool
		class     string
	}{
		{"whole body cut short", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
			strconv.Itoa(len(whole)+50) + "\r\n\r\n" + whole, false, results.ErrStreamTruncated},
		{"whole chunked body without its last chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
			strconv.FormatInt(int64(len(whole)), 16) + "\r\n" + whole + "\r\n", false, results.ErrStreamTruncated},
		{"stream cut before [DONE]", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
			strconv.FormatInt(int64(len(sse)), 16) + "\r\n" + sse + "\r\n", true, results.ErrStreamTruncated},
		{"bad chunk size mid-stream", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
			strconv.FormatInt(int64(len(sse)), 16) + "\r\n" + sse + "\r\nzz\r\n", true, results.ErrStreamTruncated},
		{"not HTTP", "SSH-2.0-OpenSSH_9.2\r\n", false, results.ErrOther},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newTestOpenAI(t, Options{BaseURL: rawServer(t, func(int) (string, wireEnd) { return c.raw, closeConn }), API: APICompletions, Stream: c.stream})
			s := drivertest.Do(context.Background(), d, 0)
			if s.Error != c.class {
				t.Errorf("sample %+v, want class %s", s, c.class)
			}
		})
	}
}
