package ollama

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/dataset"
	"github.com/benchrun/benchrun/runner/emulate"
	"github.com/benchrun/benchrun/runner/internal/drivertest"
	"github.com/benchrun/benchrun/runner/results"
)

func newTestOllama(t *testing.T, o Options) *Driver {
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

func TestOllamaStream(t *testing.T) {
	tok := `{"model":"m","response":" w","done":false}` + "\n"
	final := func(load int64) string {
		return `{"model":"m","response":"","done":true,"done_reason":"length","total_duration":3000000000,"load_duration":` +
			json.Number(itoa(load)).String() + `,"prompt_eval_count":5,"prompt_eval_duration":20000000,"eval_count":3,"eval_duration":10000000}` + "\n"
	}
	for _, tc := range []struct {
		name   string
		steps  []drivertest.Step
		errCls string
		check  func(t *testing.T, s results.Sample)
	}{
		{
			name:  "cold start is flagged",
			steps: []drivertest.Step{{Data: tok}, {Data: tok}, {Data: tok}, {Data: final(2_500_000_000)}},
			check: func(t *testing.T, s results.Sample) {
				want := map[string]float64{"load_duration": 2.5, "total_duration": 3, "prompt_eval_duration": 0.02,
					"eval_duration": 0.01, "prompt_eval_count": 5, "eval_count": 3, "cold_start": 1}
				for k, v := range want {
					if s.Server[k] != v {
						t.Errorf("server[%s] = %v, want %v", k, s.Server[k], v)
					}
				}
				if s.OutputTokens != 3 || s.InputTokens != 5 || s.TokenSource != results.TokensFromUsage || len(s.ITL) != 2 {
					t.Errorf("in %d out %d (%s) itl %v", s.InputTokens, s.OutputTokens, s.TokenSource, s.ITL)
				}
			},
		},
		{
			name:  "warm request is not flagged",
			steps: drivertest.Bytewise(tok + tok + tok + final(1_000_000)),
			check: func(t *testing.T, s results.Sample) {
				if _, ok := s.Server["cold_start"]; ok {
					t.Error("warm request flagged as cold start")
				}
			},
		},
		{
			name:  "chat message chunks",
			steps: []drivertest.Step{{Data: `{"message":{"role":"assistant","content":""},"done":false}` + "\n"}, {Wait: 100 * time.Millisecond, Data: `{"message":{"role":"assistant","content":"hi"},"done":false}` + "\n"}, {Data: final(0)}},
			check: func(t *testing.T, s results.Sample) {
				if s.FirstToken < 90*time.Millisecond {
					t.Errorf("empty message taken as first token: %v", s.FirstToken)
				}
			},
		},
		{name: "no done line", steps: []drivertest.Step{{Data: tok}, {Data: tok}}, errCls: results.ErrStreamTruncated},
		{name: "torn last line", steps: []drivertest.Step{{Data: tok}, {Data: `{"model":"m","resp`}}, errCls: results.ErrStreamTruncated},
		{name: "bad line", steps: []drivertest.Step{{Data: tok}, {Data: "nope\n"}, {Data: final(0)}}, errCls: results.ErrParse},
		{name: "error line", steps: []drivertest.Step{{Data: `{"error":"out of memory"}` + "\n"}}, errCls: results.ErrOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := drivertest.StreamServer(t, "application/x-ndjson", tc.steps...)
			s := drivertest.Do(context.Background(), newTestOllama(t, Options{BaseURL: srv.URL}), 0)
			if s.Error != tc.errCls {
				t.Fatalf("error %q (%s), want %q", s.Error, s.ErrorDetail, tc.errCls)
			}
			if tc.check != nil {
				tc.check(t, s)
			}
		})
	}
}

// TestOllamaStampsChunksAtArrival: as TestOpenAIStampsChunksAtArrival, for
// NDJSON streams.
func TestOllamaStampsChunksAtArrival(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("kernel receive stamps are read on Linux only")
	}
	drivertest.WarmStamps(t)
	tok := `{"model":"m","response":" w","done":false}` + "\n"
	const delay = 50 * time.Millisecond
	for name, client := range drivertest.SlowClients(delay) {
		t.Run(name, func(t *testing.T) {
			srv, written := drivertest.TimedStreamServer(t, "application/x-ndjson", drivertest.Step{Wait: 30 * time.Millisecond, Data: tok}, drivertest.Step{Wait: 80 * time.Millisecond, Data: tok},
				drivertest.Step{Wait: 80 * time.Millisecond, Data: tok + `{"model":"m","response":"","done":true,"eval_count":3,"prompt_eval_count":3}` + "\n"})
			d := newTestOllama(t, Options{BaseURL: srv.URL, Client: client})
			start := time.Now()
			s := drivertest.DoAt(context.Background(), d, 0, start)
			drivertest.CheckStampedAtArrival(t, s, start, written(), delay)
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestOllamaRequestBody(t *testing.T) {
	srv, body := drivertest.StreamServer(t, "application/x-ndjson", drivertest.Step{Data: `{"done":true}` + "\n"})
	d := newTestOllama(t, Options{BaseURL: srv.URL, API: APIGenerate, KeepAlive: json.RawMessage(`"10m"`), NumPredict: 50})
	drivertest.Do(context.Background(), d, 0)
	var got struct {
		Model     string
		Prompt    string
		Stream    bool
		KeepAlive string `json:"keep_alive"`
		Options   struct {
			NumPredict int `json:"num_predict"`
		}
	}
	if err := json.Unmarshal(body(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Model != "m" || got.Prompt != "one two three" || !got.Stream || got.KeepAlive != "10m" || got.Options.NumPredict != 8 {
		t.Errorf("request %s", body())
	}
}

// TestNewRejectsBadKeepAlive: keep_alive is sent as is, so what is not
// JSON is refused before any request.
func TestNewRejectsBadKeepAlive(t *testing.T) {
	if _, err := New(Options{BaseURL: "http://x", Dataset: drivertest.ThreeWords, KeepAlive: json.RawMessage("soon")}); err == nil {
		t.Error("New accepted keep_alive \"soon\"")
	}
}

// TestOllamaQueueFull: the emulator with one slot and a queue of one
// answers 503 to the others, which the driver records as http_5xx.
func TestOllamaQueueFull(t *testing.T) {
	e, err := emulate.New(emulate.Options{Flavor: emulate.FlavorOllama, Model: "m", Slots: 1, MaxQueue: 1,
		DecodeBase: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = e.NewServer()
	srv.Listener = runner.ReceiveListener(srv.Listener)
	srv.Start()
	defer srv.Close()
	defer e.Close()
	d := newTestOllama(t, Options{BaseURL: srv.URL, Dataset: drivertest.Fixed{P: dataset.Prompt{Text: "x", InputTokens: 1, MaxTokens: 30}}})
	samples := make([]results.Sample, 5)
	var wg sync.WaitGroup
	for i := range samples {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 20 * time.Millisecond)
			samples[i] = drivertest.Do(context.Background(), d, int64(i))
		}()
	}
	wg.Wait()
	ok, busy := 0, 0
	for _, s := range samples {
		switch {
		case s.Error == "" && s.OutputTokens == 30:
			ok++
		case s.Error == results.ErrHTTP5xx && s.Status == 503:
			busy++
		default:
			t.Errorf("sample %+v", s)
		}
	}
	if ok != 2 || busy != 3 {
		t.Errorf("%d ok, %d busy; want 2 and 3", ok, busy)
	}
}

// TestOllamaRateLimited: a 429 is rate_limited with its Retry-After, and
// an echoed Authorization header is not kept.
func TestOllamaRateLimited(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "2")
		http.Error(w, `{"error":"busy; Authorization: Bearer tok-123456"}`, http.StatusTooManyRequests)
	}))
	defer srv.Close()
	s := drivertest.Do(context.Background(), newTestOllama(t, Options{BaseURL: srv.URL}), 0)
	if s.Error != results.ErrRateLimited || s.Status != 429 || s.RetryAfter != 2*time.Second {
		t.Errorf("sample %+v, want rate_limited, retry after 2s", s)
	}
	if strings.Contains(s.ErrorDetail, "tok-123456") {
		t.Errorf("detail %q keeps the token", s.ErrorDetail)
	}
}

// TestOllamaTwoStreamsInOneRead: on a reused connection, a stream followed
// in the same read by another fails its request: the first may be an
// earlier request's second copy, and the second this request's answer.
func TestOllamaTwoStreamsInOneRead(t *testing.T) {
	lines := `{"model":"m","response":" w","done":false}` + "\n" +
		`{"model":"m","response":"","done":true,"done_reason":"length","eval_count":1}` + "\n"
	stream := "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n" +
		fmt.Sprintf("%x\r\n%s\r\n", len(lines), lines) + "0\r\n\r\n"
	url := drivertest.RawServer(t, func(n int) (string, drivertest.WireEnd) {
		if n == 2 {
			return stream + stream, drivertest.KeepOpen
		}
		return stream, drivertest.KeepOpen
	})
	d := newTestOllama(t, Options{BaseURL: url})
	for i, want := range []string{"", results.ErrOther, ""} {
		s := drivertest.Do(context.Background(), d, int64(i))
		if s.Error != want || (want != "" && !strings.Contains(s.ErrorDetail, "followed the response's end")) {
			t.Errorf("request %d: error %q (%s), want %q", i, s.Error, s.ErrorDetail, want)
		}
	}
}
