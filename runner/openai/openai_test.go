package openai

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/internal/drivertest"
	"github.com/benchrun/benchrun/runner/results"
)

func newTestOpenAI(t *testing.T, o Options) *Driver {
	t.Helper()
	if o.Dataset == nil {
		o.Dataset = drivertest.ThreeWords
	}
	if o.Model == "" {
		o.Model = "m"
	}
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
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
		steps  []drivertest.Step
		opts   Options
		check  func(t *testing.T, s results.Sample)
		errCls string
	}{
		{
			name:  "role-only first chunk is not the first token",
			steps: []drivertest.Step{{Data: roleChunk}, {Wait: 150 * time.Millisecond, Data: word}, {Data: word}, {Data: usageChunk}, {Data: doneEvent}},
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
			steps: []drivertest.Step{{Data: ": ping\n\n"}, {Data: chatChunk(`{}`)}, {Data: chatChunk(`{"content":""}`)}, {Data: chatChunk(`{"tool_calls":[]}`)}, {Data: word}, {Data: ": ping\n\n"}, {Data: word}, {Data: doneEvent}},
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
			steps: []drivertest.Step{{Data: roleChunk}, {Data: word}, {Data: word}, {Data: word}, {Wait: 150 * time.Millisecond, Data: usageChunk}, {Data: doneEvent}},
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
			steps: drivertest.Bytewise(roleChunk + ": ping\r\n\r\n" + strings.ReplaceAll(word+word, "\n", "\r\n") + usageChunk + doneEvent),
			check: func(t *testing.T, s results.Sample) {
				if s.OutputTokens != 7 || len(s.ITL) != 1 || s.FirstToken == 0 {
					t.Errorf("tokens %d itl %v first %v", s.OutputTokens, s.ITL, s.FirstToken)
				}
			},
		},
		{
			name:  "reasoning_content is a token",
			steps: []drivertest.Step{{Data: roleChunk}, {Data: chatChunk(`{"reasoning_content":"hmm"}`)}, {Data: chatChunk(`{"reasoning":"so"}`)}, {Data: doneEvent}},
			check: func(t *testing.T, s results.Sample) {
				if s.OutputTokens != 2 || s.FirstToken == 0 {
					t.Errorf("tokens %d first %v", s.OutputTokens, s.FirstToken)
				}
			},
		},
		{
			name:  "tool_calls delta is a token",
			steps: []drivertest.Step{{Data: roleChunk}, {Data: chatChunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\""}}]}`)}, {Data: doneEvent}},
			check: func(t *testing.T, s results.Sample) {
				if s.OutputTokens != 1 || s.FirstToken == 0 {
					t.Errorf("tokens %d first %v", s.OutputTokens, s.FirstToken)
				}
			},
		},
		{
			name: "continuous usage divides a multi-token chunk's gap",
			opts: Options{ContinuousUsage: true},
			steps: []drivertest.Step{
				{Data: `data: {"choices":[{"delta":{"role":"assistant","content":""}}],"usage":{"prompt_tokens":3,"completion_tokens":0}}` + "\n\n"},
				{Data: `data: {"choices":[{"delta":{"content":" a"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}` + "\n\n"},
				{Wait: 100 * time.Millisecond, Data: `data: {"choices":[{"delta":{"content":" b c d"}}],"usage":{"prompt_tokens":3,"completion_tokens":4}}` + "\n\n"},
				{Data: `data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}` + "\n\n"},
				{Data: doneEvent},
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
			steps:  []drivertest.Step{{Data: roleChunk}, {Data: word}, {Data: word}},
			errCls: results.ErrStreamTruncated,
			check: func(t *testing.T, s results.Sample) {
				if s.OutputTokens != 2 || s.TokenSource != results.TokensFromCounted {
					t.Errorf("tokens %d (%s)", s.OutputTokens, s.TokenSource)
				}
			},
		},
		{
			name:   "stream cut mid-event is truncated",
			steps:  []drivertest.Step{{Data: word}, {Data: `data: {"choices":[{"delta":{"cont`}},
			errCls: results.ErrStreamTruncated,
		},
		{
			name:  "[DONE] without the usage chunk is a success with counted tokens",
			steps: []drivertest.Step{{Data: word}, {Data: doneEvent}},
			check: func(t *testing.T, s results.Sample) {
				if s.OutputTokens != 1 || s.TokenSource != results.TokensFromCounted {
					t.Errorf("tokens %d (%s)", s.OutputTokens, s.TokenSource)
				}
			},
		},
		{
			name:   "bad JSON chunk",
			steps:  []drivertest.Step{{Data: word}, {Data: "data: {nope\n\n"}, {Data: doneEvent}},
			errCls: results.ErrParse,
		},
		{
			name:   "error object in stream",
			steps:  []drivertest.Step{{Data: word}, {Data: `data: {"error":{"message":"boom","code":500}}` + "\n\n"}},
			errCls: results.ErrOther,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := drivertest.StreamServer(t, "text/event-stream", tc.steps...)
			o := tc.opts
			o.BaseURL, o.Stream = srv.URL, true
			s := drivertest.Do(context.Background(), newTestOpenAI(t, o), 1)
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
	srv, body := drivertest.StreamServer(t, "text/event-stream", drivertest.Step{Data: doneEvent})
	d := newTestOpenAI(t, Options{BaseURL: srv.URL, Stream: true, ContinuousUsage: true, IgnoreEOS: true, MaxTokens: 99})
	drivertest.Do(context.Background(), d, 0)
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
	for status, cls := range map[int]string{400: results.ErrHTTP4xx, 429: results.ErrRateLimited, 500: results.ErrHTTP5xx, 503: results.ErrHTTP5xx} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			w.Write([]byte(`{"error":"bad thing"}` + strings.Repeat("x", 1000)))
		}))
		s := drivertest.Do(context.Background(), newTestOpenAI(t, Options{BaseURL: srv.URL, Stream: true}), 0)
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
		s := drivertest.Do(context.Background(), newTestOpenAI(t, Options{BaseURL: slow.URL, Stream: true, Timeout: 200 * time.Millisecond}), 0)
		if s.Error != results.ErrTimeout || s.FirstToken == 0 {
			t.Errorf("error %q (%s), first token %v", s.Error, s.ErrorDetail, s.FirstToken)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		s := drivertest.Do(ctx, newTestOpenAI(t, Options{BaseURL: slow.URL, Stream: true}), 0)
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
		s := drivertest.Do(context.Background(), newTestOpenAI(t, Options{BaseURL: "http://" + addr, Stream: true}), 0)
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
	d, err := New(Options{BaseURL: srv.URL + "/", APIKeyEnv: "BENCHRUN_TEST_KEY", Dataset: drivertest.ThreeWords})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.Model() != "first" {
		t.Errorf("model %q", d.Model())
	}
	s := drivertest.Do(context.Background(), d, 0)
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
	for name, o := range map[string]Options{
		"api":     {BaseURL: "http://x", API: "generate", Dataset: drivertest.ThreeWords},
		"url":     {Dataset: drivertest.ThreeWords},
		"dataset": {BaseURL: "http://x"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestOpenAIStampsChunksAtArrival: a client that gets to every chunk 50ms
// after it arrived still times each token chunk at its arrival (the
// server's write of it), because chunks are stamped with the kernel's
// receive time.
func TestOpenAIStampsChunksAtArrival(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("kernel receive stamps are read on Linux only")
	}
	drivertest.WarmStamps(t)
	const delay = 50 * time.Millisecond
	for name, client := range drivertest.SlowClients(delay) {
		t.Run(name, func(t *testing.T) {
			srv, written := drivertest.TimedStreamServer(t, "text/event-stream",
				drivertest.Step{Data: roleChunk}, drivertest.Step{Wait: 30 * time.Millisecond, Data: chatChunk(`{"content":"a"}`)},
				drivertest.Step{Wait: 80 * time.Millisecond, Data: chatChunk(`{"content":"b"}`)},
				drivertest.Step{Wait: 80 * time.Millisecond, Data: chatChunk(`{"content":"c"}`) + usageChunk + doneEvent})
			d := newTestOpenAI(t, Options{BaseURL: srv.URL, Stream: true, Client: client})
			start := time.Now()
			s := drivertest.DoAt(context.Background(), d, 0, start)
			w := written()
			drivertest.CheckStampedAtArrival(t, s, start, w[1:], delay) // the role chunk carries no token
			// The header section was flushed before the role chunk: the
			// first byte is timed at its arrival, not the late read.
			if hi := w[0].After.Sub(start) + delay/2; s.FirstByte > hi {
				t.Errorf("first byte timed at %v, after the role chunk's write %v: want the arrival, not the read %v later",
					s.FirstByte, w[0].After.Sub(start), delay)
			}
		})
	}
}
