package baselines

import (
	"bytes"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

func historyRun(start time.Time, ttft float64) (*results.Manifest, *analysis.Summary) {
	m := &results.Manifest{Start: start, CI: &results.CIInfo{System: "gitlab", PipelineID: "42", CommitSHA: "abc"}}
	sum := &analysis.Summary{Suite: "nightly", Verdict: analysis.Pass, Cases: []analysis.Case{
		{ID: "chat/users=8", Verdict: analysis.Pass, Metrics: map[string]analysis.Metric{
			"ttft":                {Kind: analysis.KindDistribution, Unit: "s", P95: ttft, Mean: ttft / 2},
			"requests_per_second": {Kind: analysis.KindRate, Unit: "requests/s", Value: 12},
		}},
		{ID: "chat/users=64", Verdict: analysis.Error, Errors: []string{"service died"}, Metrics: map[string]analysis.Metric{
			"ttft": {Kind: analysis.KindDistribution, Unit: "s"}, // zeros: must not enter the history
		}},
	}}
	return m, sum
}

func keys(*analysis.Case) []string {
	return []string{"ttft.p95", "ttft", "requests_per_second", "itl.p50"}
}

func TestHistoryAppendLoad(t *testing.T) {
	dir := t.TempDir() + "/history"
	if _, err := LoadHistory(dir, "nightly"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no history yet: err %v, want fs.ErrNotExist", err)
	}
	t0 := time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC)
	for i, night := range []int{2, 0, 1, 1} { // out of order, and night 1 twice
		m, sum := historyRun(t0.AddDate(0, 0, night), 0.1*float64(night+1))
		added, err := Append(dir, RecordOf(m, sum, keys))
		if err != nil {
			t.Fatal(err)
		}
		if want := i < 3; added != want {
			t.Errorf("append %d (night %d): added %v, want %v", i, night, added, want)
		}
	}
	h, err := LoadHistory(dir, "nightly")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[0].Run != "2025-03-01T01:00:00Z" || h[2].Run != "2025-03-03T01:00:00Z" {
		t.Fatalf("history %+v, want 3 runs oldest first", h)
	}
	if h[0].Pipeline != "42" || h[0].Commit != "abc" {
		t.Errorf("CI fields %q %q, want 42 abc", h[0].Pipeline, h[0].Commit)
	}
	if _, ok := h[0].Cases["chat/users=64"]; ok {
		t.Error("a case with an execution error entered the history")
	}
	ss := h.Series()
	var got []string
	for _, s := range ss {
		got = append(got, s.Case+" "+s.Stat)
	}
	want := []string{"chat/users=8 requests_per_second.value", "chat/users=8 ttft.mean", "chat/users=8 ttft.p95"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("series %v, want %v", got, want)
	}
	p95 := ss[2]
	if p95.Unit != "s" || p95.Better != "lower" || len(p95.Values) != 3 || p95.Values[0] != 0.1 || p95.Values[2] != 0.30000000000000004 {
		t.Errorf("ttft.p95 series %+v", p95)
	}
	if ss[0].Better != "higher" {
		t.Errorf("requests_per_second better %q, want higher", ss[0].Better)
	}
}

func TestDecodeHistoryErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not json", "{\"version\":1,\"run\":\"a\"}\nnope\n", "line 2"},
		{"unknown version", `{"version":2,"run":"a","cases":{}}`, "history version 2"},
		{"no version", `{"run":"a","cases":{}}`, "history version 0"},
		{"unknown field", `{"version":1,"run":"a","valu":3}`, "unknown field"},
		{"no run", `{"version":1,"cases":{}}`, "no run"},
		{"every bad line", "x\n{\"version\":1,\"run\":\"a\"}\ny\n", "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeHistory(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	_, err := DecodeHistory(strings.NewReader("x\n{\"version\":1,\"run\":\"a\"}\ny\n"))
	if !strings.Contains(err.Error(), "line 3") {
		t.Errorf("err %v: want both bad lines", err)
	}
}

func FuzzDecodeHistory(f *testing.F) {
	f.Add([]byte(`{"version":1,"suite":"s","run":"2025-01-01T00:00:00Z","verdict":"pass","cases":{"c":{"ttft.p95":{"value":0.1,"unit":"s"}}}}` + "\n"))
	f.Add([]byte("{}\n\n{\"version\":1}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := DecodeHistory(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, r := range h {
			if r.Version != HistoryVersion || r.Run == "" {
				t.Fatalf("accepted %+v", r)
			}
		}
		_ = h.Series()
	})
}
