package scrape

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/benchrun/benchrun/runner/emulate"
	"github.com/benchrun/benchrun/runner/results"
)

// emulated starts benchrun's vLLM emulator (its real /metrics, served by
// client_golang) and returns its URL.
func emulated(t *testing.T) string {
	t.Helper()
	e, err := emulate.New(emulate.DefaultOptions(emulate.FlavorVLLM))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = e.NewServer()
	srv.Start()
	t.Cleanup(func() { srv.Close(); e.Close() })
	return srv.URL
}

func TestScrapeEmulator(t *testing.T) {
	url := emulated(t)
	// One request, so the histograms have an observation.
	resp, err := http.Post(url+"/v1/completions", "application/json",
		strings.NewReader(`{"model":"`+emulate.DefaultOptions(emulate.FlavorVLLM).Model+`","prompt":"hi","max_tokens":3}`))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || body.Usage.CompletionTokens == 0 {
		t.Fatalf("completion: %+v, %v", body, err)
	}
	s := &Scraper{URL: url + "/metrics"}
	pts, err := s.Scrape(context.Background(), 7*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]float64{}
	for _, p := range pts {
		if p.T != 7*time.Millisecond {
			t.Fatalf("point at %v, want the offset given", p.T)
		}
		if p.Labels["model_name"] != "" {
			found[p.Metric+"/"+p.Labels["le"]] = p.Value
		}
	}
	for _, want := range []string{"vllm:num_requests_waiting/", "vllm:num_requests_running/", "vllm:kv_cache_usage_perc/",
		"vllm:time_to_first_token_seconds_count/", "vllm:time_to_first_token_seconds_sum/", "vllm:time_to_first_token_seconds_bucket/+Inf",
		"vllm:generation_tokens_total/", "vllm:prefix_cache_hits_total/"} {
		if _, ok := found[want]; !ok {
			t.Errorf("no series %s in the scrape", want)
		}
	}
	if found["vllm:time_to_first_token_seconds_count/"] != 1 || found["vllm:generation_tokens_total/"] != float64(body.Usage.CompletionTokens) {
		t.Errorf("ttft count %v, generation tokens %v; want 1 and %d (the usage)",
			found["vllm:time_to_first_token_seconds_count/"], found["vllm:generation_tokens_total/"], body.Usage.CompletionTokens)
	}
}

// TestScrapeRefusesWhatIsNotAnExposition: an HTML page, an empty page,
// JSON, a 500 are failures, never an empty or zero series.
func TestScrapeRefusesWhatIsNotAnExposition(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"html": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>metrics</body></html>")
		},
		"empty text": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		},
		"json": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"num_requests_waiting": 3}`)
		},
		"garbage as text": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "<html>{{{ not metrics\n")
		},
		"500": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(500)
			fmt.Fprint(w, "up 1\n")
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			pts, err := (&Scraper{URL: srv.URL}).Scrape(context.Background(), 0)
			if err == nil || len(pts) != 0 {
				t.Fatalf("Scrape = %d points, %v; want an error", len(pts), err)
			}
			if name != "500" && !errors.Is(err, ErrNotExposition) {
				t.Fatalf("err = %v, want ErrNotExposition", err)
			}
		})
	}
}

// TestScrapeRefusesLongExposition: an exposition longer than maxBody is
// refused, not cut at a line boundary: the series after the cut would be
// missing from the scrape, and a counter missing from one scrape reads as
// counting from zero in the next.
func TestScrapeRefusesLongExposition(t *testing.T) {
	defer func(n int64) { maxBody = n }(maxBody)
	maxBody = 1 << 10
	lines := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		for i := range lines {
			fmt.Fprintf(w, "m_%03d 1\n", i) // 8 bytes a line
		}
	}))
	defer srv.Close()
	lines = 128 // 1024 bytes: at the bound
	if pts, err := (&Scraper{URL: srv.URL}).Scrape(context.Background(), 0); err != nil || len(pts) != 128 {
		t.Fatalf("an exposition at the bound: %d points, %v; want 128", len(pts), err)
	}
	lines = 200
	pts, err := (&Scraper{URL: srv.URL}).Scrape(context.Background(), 0)
	if err == nil || !strings.Contains(err.Error(), "longer than 1024 bytes") {
		t.Fatalf("an exposition over the bound: %d points, %v; want an error", len(pts), err)
	}
}

// TestRunScrapesUntilDoneAndOnceMore: Run scrapes at once, at the
// interval, and a last time after the context ends; failures are counted.
func TestRunScrapesUntilDoneAndOnceMore(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		i := n.Add(1)
		if i == 2 {
			w.WriteHeader(503)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintf(w, "# TYPE demo_total counter\ndemo_total %d\n", i)
	}))
	defer srv.Close()
	var buf bytes.Buffer
	w := results.NewPointWriter(&buf)
	ctx, cancel := context.WithTimeout(context.Background(), 550*time.Millisecond)
	defer cancel()
	st := (&Scraper{URL: srv.URL, Interval: 100 * time.Millisecond}).Run(ctx, time.Now(), w)
	written, _ := w.Count()
	if st.Attempts < 5 || st.Failures != 1 || !strings.Contains(st.LastError, "503") || written != int64(st.Attempts-1) {
		t.Fatalf("Run = %+v, %d points; want ≥5 attempts, 1 failure (503), one point per successful scrape", st, written)
	}
	var last results.Point
	results.ScanPoints(&buf, func(p results.Point) error { last = p; return nil })
	if last.Metric != "demo_total" || last.Value != float64(n.Load()) || last.T < 500*time.Millisecond {
		t.Fatalf("last point %+v, want the final scrape (value %d) after the context ended", last, n.Load())
	}
}

// FuzzParse: the exposition parser never panics, and what it accepts has
// at least one series, each with a name.
func FuzzParse(f *testing.F) {
	f.Add([]byte("# TYPE a counter\na_total{x=\"1\"} 3\n"))
	f.Add([]byte("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n"))
	f.Add([]byte("vllm:num_requests_waiting{model_name=\"m\"} NaN\n"))
	f.Add([]byte("<html>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pts, err := Parse(bytes.NewReader(data), expfmt.NewFormat(expfmt.TypeTextPlain), 0)
		if err != nil {
			return
		}
		if len(pts) == 0 {
			t.Fatal("accepted an exposition without a series")
		}
		for _, p := range pts {
			if p.Metric == "" {
				t.Fatalf("a point without a name from %q", data)
			}
		}
	})
}
