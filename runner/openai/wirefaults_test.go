package openai

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
			d := newTestOpenAI(t, Options{BaseURL: drivertest.RawServer(t, func(int) (string, drivertest.WireEnd) { return c.raw, drivertest.CloseConn }), API: APICompletions, Stream: c.stream})
			s := drivertest.Do(context.Background(), d, 0)
			if s.Error != c.class {
				t.Errorf("sample %+v, want class %s", s, c.class)
			}
		})
	}
}

// TestStaleResponseRefused: a server that sends a second response after
// its answer, in a later segment, before the client's next request on the
// kept-alive connection (within the transport's idle check): the next
// request's first read holds those bytes, stamped by the kernel before the
// request was sent. They cannot be its answer, and the sample is a failure,
// not a success with the stale response's tokens. The server takes 100 ms
// to answer that request, as a model server takes its time, so the first
// read holds only the stale bytes. (On a machine so busy
// that the idle check comes due first, the check finds the bytes and the
// request goes on a new connection: a success, but the fresh answer.)
func TestStaleResponseRefused(t *testing.T) {
	drivertest.WarmStamps(t)
	whole := string(instantCompletion)
	resp := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(whole)) + "\r\n\r\n" + whole
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	staleSent := make(chan struct{})
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			first := conns.Add(1) == 1
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for n := 1; ; n++ {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, r.Body)
					if n > 1 {
						// As a model server takes its time: the client's
						// first read after its request holds only what
						// was there before.
						time.Sleep(100 * time.Millisecond)
					}
					io.WriteString(c, resp)
					if first && n == 1 {
						time.Sleep(time.Millisecond)
						io.WriteString(c, resp) // unsolicited, in a segment of its own
						close(staleSent)
					}
				}
			}()
		}
	}()
	d := newTestOpenAI(t, Options{BaseURL: "http://" + ln.Addr().String(), API: APICompletions})
	if s := drivertest.Do(context.Background(), d, 0); s.Error != "" {
		t.Fatalf("first request: %+v", s)
	}
	<-staleSent // on loopback the bytes are in this side's socket when the write returns
	s := drivertest.Do(context.Background(), d, 1)
	switch {
	case s.Error == results.ErrOther && strings.Contains(s.ErrorDetail, "before the request was sent"):
	case s.Error == "" && conns.Load() == 2:
		t.Log("the idle check came first: the request went on a new connection")
	default:
		t.Errorf("second request: %+v on %d connections, want a failure naming bytes from before the request", s, conns.Load())
	}
}
