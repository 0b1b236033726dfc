package openai

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
)

// TestConnectionReuse: one user's requests in sequence, streaming or not,
// all go over one connection: the driver reads each response to its end
// (the chunked terminator after [DONE] included), so the client returns
// the connection to its pool instead of closing it.
func TestConnectionReuse(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run("stream="+strconv.FormatBool(stream), func(t *testing.T) {
			var conns atomic.Int64
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if !stream {
					w.Write(instantCompletion)
					return
				}
				w.Header().Set("Content-Type", "text/event-stream")
				for _, ev := range []string{chatChunk(`{"content":" w"}`), usageChunk, doneEvent} {
					io.WriteString(w, ev)
					w.(http.Flusher).Flush()
				}
			}))
			srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
				if st == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			d := newTestOpenAI(t, Options{BaseURL: srv.URL, API: APICompletions, Stream: stream})
			for i := range 20 {
				var s results.Sample
				d.Do(context.Background(), runner.Op{Start: time.Now(), Seq: int64(i)}, &s)
				if !s.OK() {
					t.Fatalf("request %d: %s: %s", i, s.Error, s.ErrorDetail)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("20 requests in sequence opened %d connections, want 1", n)
			}
		})
	}
}
