package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/dataset"
	"github.com/benchrun/benchrun/runner/internal/drivertest"
	"github.com/benchrun/benchrun/runner/results"
)

// cycle is a dataset whose prompt seq asks for seq+1 tokens, so a test
// server can answer each request differently.
type cycle struct{}

func (cycle) Prompt(seq int64) dataset.Prompt {
	return dataset.Prompt{Text: "x", InputTokens: 1, MaxTokens: int(seq) + 1}
}
func (cycle) Hash() string { return "cycle" }
func (cycle) Len() int     { return 3 }

// TestKeyNeverStored: a server that echoes the API key and the
// Authorization header (in a 401 body, in a stream's error object, in a
// chunk that does not parse, and in model discovery's error) does not get
// the key into the samples file, nor into Prepare's error.
func TestKeyNeverStored(t *testing.T) {
	const key = "sk-live-0123456789abcdef"
	echo := func(r *http.Request) string {
		return fmt.Sprintf("invalid api key %s (header Authorization: %s)", key, r.Header.Get("Authorization"))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			http.Error(w, echo(r), http.StatusUnauthorized)
			return
		}
		var body openAIRequest
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Error(err)
		}
		switch body.MaxTokens {
		case 1: // 401 echoing the request
			http.Error(w, echo(r), http.StatusUnauthorized)
		case 2: // an error object in the stream
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"error\":{\"message\":%q}}\n\n", echo(r))
		default: // a chunk that is not JSON
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {%s\n\n", echo(r))
		}
	}))
	defer srv.Close()
	t.Setenv("BENCHRUN_TEST_KEY", key)

	discover, err := New(Options{BaseURL: srv.URL, APIKeyEnv: "BENCHRUN_TEST_KEY", Dataset: cycle{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := discover.Prepare(context.Background()); err == nil || strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "0123") {
		t.Errorf("model discovery error %v: want one without the key", err)
	}

	d, err := New(Options{BaseURL: srv.URL, Model: "m", Stream: true, APIKeyEnv: "BENCHRUN_TEST_KEY", Dataset: cycle{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "samples.jsonl")
	w, err := results.CreateSampleFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := results.Load{Mode: results.ModeClosed, Users: 1, Requests: 3}
	if _, err := runner.RunCase(context.Background(), runner.Case{ID: "secret", Load: l, Driver: d}, time.Now(), w, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), key) || strings.Contains(string(b), "0123456789") {
		t.Errorf("the samples file holds the key:\n%s", b)
	}
	classes := map[string]int{}
	results.ReadSamples(strings.NewReader(string(b)), func(s *results.Sample) error {
		classes[s.Error]++
		if !strings.Contains(s.ErrorDetail, runner.Redacted) {
			t.Errorf("seq %d: detail %q, want the key shown redacted", s.Seq, s.ErrorDetail)
		}
		return nil
	})
	if classes[results.ErrHTTP4xx] != 1 || classes[results.ErrOther] != 1 || classes[results.ErrParse] != 1 {
		t.Errorf("classes %v, want one 401, one stream error, one parse error", classes)
	}
}

// TestOpenAIRateLimited: a 429 is rate_limited with its Retry-After.
func TestOpenAIRateLimited(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		http.Error(w, `{"error":"rate limit"}`, http.StatusTooManyRequests)
	}))
	defer srv.Close()
	s := drivertest.Do(context.Background(), newTestOpenAI(t, Options{BaseURL: srv.URL, Stream: true}), 0)
	if s.Error != results.ErrRateLimited || s.Status != 429 || s.RetryAfter != 3*time.Second {
		t.Errorf("sample %+v, want rate_limited, retry after 3s", s)
	}
}
