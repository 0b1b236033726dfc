package openai

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
)

// fixedDataset returns the same prompt for every seq.
type fixedDataset struct{ p Prompt }

func (d fixedDataset) Prompt(int64) Prompt { return d.p }
func (d fixedDataset) Hash() string        { return "fixed" }
func (d fixedDataset) Len() int            { return 1 }

var testPrompt = fixedDataset{Prompt{Text: "one two three", InputTokens: 3, MaxTokens: 8}}

// step is one write of a handcrafted stream: wait, then write and flush.
type step struct {
	wait time.Duration
	data string
}

// streamServer serves steps as a text/event-stream (or any contentType),
// recording the last request body, which the returned function gives.
// (It takes the lock: the race detector does not see the ordering that a
// response read with recvmsg gives.)
func streamServer(t *testing.T, contentType string, steps ...step) (*httptest.Server, func() []byte) {
	t.Helper()
	var mu sync.Mutex
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		body = b
		mu.Unlock()
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		for _, s := range steps {
			time.Sleep(s.wait)
			w.Write([]byte(s.data))
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []byte {
		mu.Lock()
		defer mu.Unlock()
		return body
	}
}

// bytewise splits data into one step per byte, so the client sees events
// split across TCP reads.
func bytewise(data string) []step {
	var out []step
	for i := range len(data) {
		out = append(out, step{data: data[i : i+1]})
	}
	return out
}

func newTestOpenAI(t *testing.T, o OpenAIOptions) *OpenAI {
	t.Helper()
	if o.Dataset == nil {
		o.Dataset = testPrompt
	}
	if o.Model == "" {
		o.Model = "m"
	}
	d, err := NewOpenAI(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// do runs one operation the way the load generator does.
func do(ctx context.Context, d runner.Driver, seq int64) results.Sample {
	start := time.Now()
	s := results.Sample{Seq: seq, Sent: time.Since(start)}
	d.Do(ctx, runner.Op{Start: start, Seq: seq}, &s)
	return s
}

func chatChunk(delta string) string {
	return `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":` + delta + `,"finish_reason":null}]}` + "\n\n"
}

const (
	roleChunk  = `data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}` + "\n\n"
	usageChunk = `data: {"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}` + "\n\n"
	doneEvent  = "data: [DONE]\n\n"
)

func TestOpenAIStream(t *testing.T) {
	word := chatChunk(`{"content":" w"}`)
	for _, tc := range []struct {
		name   string
		steps  []step
		opts   OpenAIOptions
		check  func(t *testing.T, s results.Sample)
		errCls string
	}{
		{
			name:  "role-only first chunk is not the first token",
			steps: []step{{0, roleChunk}, {150 * time.Millisecond, word}, {0, word}, {0, usageChunk}, {0, doneEvent}},
			check: func(t *testing.T, s results.Sample) {
				if s.FirstToken < 140*time.Millisecond {
					t.Errorf("first token at %v: the role chunk was taken as a token", s.FirstToken)
				}
				if s.FirstByte <= 0 || s.FirstByte > s.FirstToken {
					t.Errorf("first byte %v, first token %v", s.FirstByte, s.FirstToken)
				}
			},
		},
		{
			name:  "comments and empty chunks are not tokens",
			steps: []step{{0, ": ping\n\n"}, {0, chatChunk(`{}`)}, {0, chatChunk(`{"content":""}`)}, {0, chatChunk(`{"tool_calls":[]}`)}, {0, word}, {0, ": ping\n\n"}, {0, word}, {0, doneEvent}},
			check: func(t *testing.T, s results.Sample) {
				if s.OutputTokens != 2 || s.TokenSource != results.TokensFromCounted || len(s.ITL) != 1 {
					t.Errorf("tokens %d (%s), itl %v", s.OutputTokens, s.TokenSource, s.ITL)
				}
				if s.InputTokens != 3 {
					t.Errorf("input tokens %d, want the dataset's 3", s.InputTokens)
				}
			},
		},
		{
			name:  "usage chunk supplies counts and is not a token",
			steps: []step{{0, roleChunk}, {0, word}, {0, word}, {0, word}, {150 * time.Millisecond, usageChunk}, {0, doneEvent}},
			check: func(t *testing.T, s results.Sample) {
				if s.OutputTokens != 7 || s.InputTokens != 11 || s.TokenSource != results.TokensFromUsage {
					t.Errorf("tokens in %d out %d (%s)", s.InputTokens, s.OutputTokens, s.TokenSource)
				}
				if len(s.ITL) != 2 || s.Done-s.LastToken < 140*time.Millisecond {
					t.Errorf("itl %v; last token %v, done %v: the usage chunk counted as a token", s.ITL, s.LastToken, s.Done)
				}
			},
		},
		{
			name:  "split TCP reads mid-event",
			steps: bytewise(roleChunk + ": ping\r\n\r\n" + strings.ReplaceAll(word+word, "\n", "\r\n") + usageChunk + doneEvent),
			check: func(t *testing.T, s results.Sample) {
				if s.OutputTokens != 7 || len(s.ITL) != 1 || s.FirstToken == 0 {
					t.Errorf("tokens %d itl %v first %v", s.OutputTokens, s.ITL, s.FirstToken)
				}
			},
		},
		{
			name:  "reasoning_content is a token",
			steps: []step{{0, roleChunk}, {0, chatChunk(`{"reasoning_content":"hmm"}`)}, {0, chatChunk(`{"reasoning":"so"}`)}, {0, doneEvent}},
			check: func(t *testing.T, s results.Sample) {
				if s.OutputTokens != 2 || s.FirstToken == 0 {
					t.Errorf("tokens %d first %v", s.OutputTokens, s.FirstToken)
				}
			},
		},
		{
			name:  "tool_calls delta is a token",
			steps: []step{{0, roleChunk}, {0, chatChunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\""}}]}`)}, {0, doneEvent}},
			check: func(t *testing.T, s results.Sample) {
				if s.OutputTokens != 1 || s.FirstToken == 0 {
					t.Errorf("tokens %d first %v", s.OutputTokens, s.FirstToken)
				}
			},
		},
		{
			name: "continuous usage divides a multi-token chunk's gap",
			opts: OpenAIOptions{ContinuousUsage: true},
			steps: []step{
				{0, `data: {"choices":[{"delta":{"role":"assistant","content":""}}],"usage":{"prompt_tokens":3,"completion_tokens":0}}` + "\n\n"},
				{0, `data: {"choices":[{"delta":{"content":" a"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}` + "\n\n"},
				{100 * time.Millisecond, `data: {"choices":[{"delta":{"content":" b c d"}}],"usage":{"prompt_tokens":3,"completion_tokens":4}}` + "\n\n"},
				{0, `data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}` + "\n\n"},
				{0, doneEvent},
			},
			check: func(t *testing.T, s results.Sample) {
				if len(s.ITL) != 3 || s.ITL[0] != s.ITL[1] || s.ITL[1] != s.ITL[2] {
					t.Fatalf("itl %v, want 3 equal gaps", s.ITL)
				}
				if s.ITL[0] < 30*time.Millisecond || s.ITL[0] > 1000*time.Millisecond {
					t.Errorf("itl %v, want ~100ms/3", s.ITL[0])
				}
				if s.OutputTokens != 4 {
					t.Errorf("tokens %d", s.OutputTokens)
				}
			},
		},
		{
			name:   "stream without [DONE] is truncated",
			steps:  []step{{0, roleChunk}, {0, word}, {0, word}},
			errCls: results.ErrStreamTruncated,
			check: func(t *testing.T, s results.Sample) {
				if s.OutputTokens != 2 || s.TokenSource != results.TokensFromCounted {
					t.Errorf("tokens %d (%s)", s.OutputTokens, s.TokenSource)
				}
			},
		},
		{
			name:   "stream cut mid-event is truncated",
			steps:  []step{{0, word}, {0, `data: {"choices":[{"delta":{"cont`}},
			errCls: results.ErrStreamTruncated,
		},
		{
			name:  "[DONE] without the usage chunk is a success with counted tokens",
			steps: []step{{0, word}, {0, doneEvent}},
			check: func(t *testing.T, s results.Sample) {
				if s.OutputTokens != 1 || s.TokenSource != results.TokensFromCounted {
					t.Errorf("tokens %d (%s)", s.OutputTokens, s.TokenSource)
				}
			},
		},
		{
			name:   "bad JSON chunk",
			steps:  []step{{0, word}, {0, "data: {nope\n\n"}, {0, doneEvent}},
			errCls: results.ErrParse,
		},
		{
			name:   "error object in stream",
			steps:  []step{{0, word}, {0, `data: {"error":{"message":"boom","code":500}}` + "\n\n"}},
			errCls: results.ErrOther,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := streamServer(t, "text/event-stream", tc.steps...)
			o := tc.opts
			o.BaseURL, o.Stream = srv.URL, true
			s := do(context.Background(), newTestOpenAI(t, o), 1)
			if s.Error != tc.errCls {
				t.Fatalf("error %q (%s), want %q", s.Error, s.ErrorDetail, tc.errCls)
			}
			if s.Status != 200 || s.Done == 0 {
				t.Errorf("status %d done %v", s.Status, s.Done)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

func TestOpenAIRequestBody(t *testing.T) {
	srv, body := streamServer(t, "text/event-stream", step{0, doneEvent})
	d := newTestOpenAI(t, OpenAIOptions{BaseURL: srv.URL, Stream: true, ContinuousUsage: true, IgnoreEOS: true, MaxTokens: 99})
	do(context.Background(), d, 0)
	var got map[string]any
	if err := json.Unmarshal(body(), &got); err != nil {
		t.Fatal(err)
	}
	so, _ := got["stream_options"].(map[string]any)
	if got["model"] != "m" || got["stream"] != true || got["ignore_eos"] != true || got["max_tokens"] != 8.0 ||
		so["include_usage"] != true || so["continuous_usage_stats"] != true || got["temperature"] != 0.0 {
		t.Errorf("request %s", body())
	}
	if msgs, _ := got["messages"].([]any); len(msgs) != 1 {
		t.Errorf("messages %v", got["messages"])
	}
}

func TestOpenAIHTTPErrors(t *testing.T) {
	for status, cls := range map[int]string{400: results.ErrHTTP4xx, 429: results.ErrHTTP4xx, 500: results.ErrHTTP5xx, 503: results.ErrHTTP5xx} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			w.Write([]byte(`{"error":"bad thing"}` + strings.Repeat("x", 1000)))
		}))
		s := do(context.Background(), newTestOpenAI(t, OpenAIOptions{BaseURL: srv.URL, Stream: true}), 0)
		srv.Close()
		if s.Error != cls || s.Status != status || !strings.Contains(s.ErrorDetail, "bad thing") || len(s.ErrorDetail) > 240 {
			t.Errorf("%d: error %q status %d detail %q", status, s.Error, s.Status, s.ErrorDetail)
		}
	}
}

func TestOpenAIFailures(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte(chatChunk(`{"content":"a"}`)))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	t.Run("timeout", func(t *testing.T) {
		s := do(context.Background(), newTestOpenAI(t, OpenAIOptions{BaseURL: slow.URL, Stream: true, Timeout: 200 * time.Millisecond}), 0)
		if s.Error != results.ErrTimeout || s.FirstToken == 0 {
			t.Errorf("error %q (%s), first token %v", s.Error, s.ErrorDetail, s.FirstToken)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		s := do(ctx, newTestOpenAI(t, OpenAIOptions{BaseURL: slow.URL, Stream: true}), 0)
		if s.Error != results.ErrCanceled {
			t.Errorf("error %q (%s)", s.Error, s.ErrorDetail)
		}
	})
	t.Run("connect", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		s := do(context.Background(), newTestOpenAI(t, OpenAIOptions{BaseURL: "http://" + addr, Stream: true}), 0)
		if s.Error != results.ErrConnect || s.Status != 0 {
			t.Errorf("error %q (%s) status %d", s.Error, s.ErrorDetail, s.Status)
		}
	})
}

func TestOpenAIPrepare(t *testing.T) {
	var auth []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path == "/v1/models" {
			w.Write([]byte(`{"object":"list","data":[{"id":"first"},{"id":"second"}]}`))
			return
		}
		w.Write([]byte(`{"choices":[{"message":{"content":"a b c"}}],"usage":{"prompt_tokens":3,"completion_tokens":3}}`))
	}))
	defer srv.Close()
	t.Setenv("BENCHRUN_TEST_KEY", "sekrit")
	d, err := NewOpenAI(OpenAIOptions{BaseURL: srv.URL + "/", APIKeyEnv: "BENCHRUN_TEST_KEY", Dataset: testPrompt})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.Model() != "first" {
		t.Errorf("model %q", d.Model())
	}
	s := do(context.Background(), d, 0)
	if s.Error != "" || s.OutputTokens != 3 || s.TokenSource != results.TokensFromUsage || s.FirstToken != s.LastToken || s.LastToken > s.Done {
		t.Errorf("non-streaming sample %+v", s)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range auth {
		if a != "Bearer sekrit" {
			t.Errorf("authorization %q", a)
		}
	}
	if strings.Contains(s.ErrorDetail, "sekrit") {
		t.Error("key leaked")
	}
	t.Setenv("BENCHRUN_TEST_KEY", "")
	if err := d.Prepare(context.Background()); err == nil || strings.Contains(err.Error(), "sekrit") {
		t.Errorf("empty key: %v", err)
	}
}

func TestNewOpenAIValidates(t *testing.T) {
	for name, o := range map[string]OpenAIOptions{
		"api":     {BaseURL: "http://x", API: "generate", Dataset: testPrompt},
		"url":     {Dataset: testPrompt},
		"dataset": {BaseURL: "http://x"},
	} {
		if _, err := NewOpenAI(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// slowConn returns every read late, as a busy client would get to the
// bytes. Its receive time is that of the connection it wraps.
type slowConn struct {
	net.Conn
	delay time.Duration
}

func (c slowConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	time.Sleep(c.delay)
	return n, err
}

func (c slowConn) ReceiveTime() (time.Time, bool) { return runner.ReceiveTime(c.Conn) }

// TestOpenAIStampsChunksAtArrival: a client that gets to every chunk 50ms
// after it arrived still measures the server's first token at 30ms,
// because chunks are stamped with the kernel's receive time.
func TestOpenAIStampsChunksAtArrival(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("kernel receive stamps are read on Linux only")
	}
	srv, _ := streamServer(t, "text/event-stream",
		step{data: roleChunk}, step{wait: 30 * time.Millisecond, data: chatChunk(`{"content":"a"}`)},
		step{wait: 80 * time.Millisecond, data: chatChunk(`{"content":"b"}`)},
		step{wait: 80 * time.Millisecond, data: chatChunk(`{"content":"c"}`) + usageChunk + doneEvent})
	d := newTestOpenAI(t, OpenAIOptions{BaseURL: srv.URL, Stream: true, Client: slowClient(50 * time.Millisecond)})
	checkStampedAtArrival(t, do(context.Background(), d, 0))
}

// slowClient is an HTTP client whose connections are stamped
// (runner.ReceiveDialer) and return every read delay late.
func slowClient(delay time.Duration) *http.Client {
	dial := runner.ReceiveDialer(&net.Dialer{})
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return slowConn{Conn: c, delay: delay}, nil
	}}}
}

// checkStampedAtArrival checks a sample of a stream whose first token was
// sent after 30ms and the next two 80ms apart, read 50ms late.
func checkStampedAtArrival(t *testing.T, s results.Sample) {
	t.Helper()
	if s.Error != "" {
		t.Fatalf("%s: %s", s.Error, s.ErrorDetail)
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	if ttft := ms(s.FirstToken - s.Sent); ttft < 29 || ttft > 65 {
		t.Errorf("ttft %.1fms, want about 30ms (the arrival, not the read 50ms later)", ttft)
	}
	if len(s.ITL) != 2 {
		t.Fatalf("itl %v, want 2 gaps", s.ITL)
	}
	for _, g := range s.ITL {
		if g := ms(g); g < 75 || g > 125 {
			t.Errorf("itl gap %.1fms, want about 80ms", g)
		}
	}
	if s.Done < s.LastToken || s.LastToken < s.FirstToken || s.FirstByte > s.FirstToken {
		t.Errorf("offsets out of order: first byte %v, first token %v, last token %v, done %v", s.FirstByte, s.FirstToken, s.LastToken, s.Done)
	}
}

// fakeStampConn reports a receive time the test sets.
type fakeStampConn struct {
	net.Conn
	at *time.Time
}

func (c fakeStampConn) ReceiveTime() (time.Time, bool) { return *c.at, !c.at.IsZero() }

// TestArrivalNeverGoesBack: a stamped read after one timed by the clock
// cannot make a chunk arrive before the one before it (a negative ITL),
// and a stamp is used when it falls between the send and now.
func TestArrivalNeverGoesBack(t *testing.T) {
	start := time.Now()
	q := newRequest(runner.Op{Start: start}, &results.Sample{})
	var at time.Time
	q.conn.Store(&connRef{fakeStampConn{at: &at}})
	time.Sleep(2 * time.Millisecond)
	first := q.arrival() // no stamp: the clock
	if first < 2*time.Millisecond {
		t.Fatalf("first arrival %v, want the clock (≥ 2ms)", first)
	}
	at = start.Add(time.Millisecond) // stamped, but before the first
	if second := q.arrival(); second != first {
		t.Errorf("second arrival %v, want the first's %v", second, first)
	}
	time.Sleep(2 * time.Millisecond)
	at = start.Add(first + time.Millisecond)
	if third := q.arrival(); third != first+time.Millisecond {
		t.Errorf("third arrival %v, want its stamp %v", third, first+time.Millisecond)
	}
}
