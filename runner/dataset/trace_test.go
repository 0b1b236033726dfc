package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sampleTrace = `{"timestamp": 100.0, "input_length": 8, "output_length": 2}
{"timestamp": 100.25, "input_length": 16, "output_length": 4, "hash_ids": [1, 2]}

{"timestamp": 101, "input_length": 1, "output_length": 1}
`

// TestReadTrace: offsets from the first arrival, lengths kept, unknown
// fields ignored; milliseconds accepted under their own key; the
// scheduled offsets scale.
func TestReadTrace(t *testing.T) {
	tr, err := ReadTrace(strings.NewReader(sampleTrace))
	if err != nil {
		t.Fatal(err)
	}
	want := []TraceEntry{{0, 8, 2}, {250 * time.Millisecond, 16, 4}, {time.Second, 1, 1}}
	if len(tr) != len(want) {
		t.Fatalf("trace %+v", tr)
	}
	for i := range want {
		if tr[i] != want[i] {
			t.Errorf("entry %d %+v, want %+v", i, tr[i], want[i])
		}
	}
	ms, err := ReadTrace(strings.NewReader(`{"timestamp_ms": 5000, "input_length": 3, "output_length": 3}
{"timestamp_ms": 5500, "input_length": 3, "output_length": 3}`))
	if err != nil || ms[1].Offset != 500*time.Millisecond {
		t.Fatalf("ms trace %+v, %v", ms, err)
	}
	s := Schedule(tr, 0.5)
	if s[1] != 125*time.Millisecond || s[2] != 500*time.Millisecond {
		t.Errorf("schedule at 0.5: %v", s)
	}
}

// TestReadTraceRefuses: a line that is not a trace request is an error
// naming it, never a request of length or offset zero.
func TestReadTraceRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "\n\n",
		"no timestamp":   `{"input_length": 8, "output_length": 2}`,
		"both stamps":    `{"timestamp": 1, "timestamp_ms": 1000, "input_length": 8, "output_length": 2}`,
		"no input":       `{"timestamp": 1, "output_length": 2}`,
		"zero output":    `{"timestamp": 1, "input_length": 8, "output_length": 0}`,
		"fraction":       `{"timestamp": 1, "input_length": 8.5, "output_length": 2}`,
		"string length":  `{"timestamp": 1, "input_length": "8", "output_length": 2}`,
		"out of order":   "{\"timestamp\": 2, \"input_length\": 8, \"output_length\": 2}\n{\"timestamp\": 1, \"input_length\": 8, \"output_length\": 2}",
		"ms as seconds":  "{\"timestamp\": 0, \"input_length\": 8, \"output_length\": 2}\n{\"timestamp\": 1700000000000, \"input_length\": 8, \"output_length\": 2}",
		"not json":       `timestamp,input_length`,
		"a json array":   `[1, 8, 2]`,
		"torn last line": "{\"timestamp\": 1, \"input_length\": 8, \"output_length\": 2}\n{\"timestamp\": 2, \"input_le",
	} {
		if tr, err := ReadTrace(strings.NewReader(in)); err == nil {
			t.Errorf("%s: read as %+v", name, tr)
		}
	}
}

// TestTraceDataset: operation k gets the trace's request k, a prompt of
// its input length asking for its output length.
func TestTraceDataset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.jsonl")
	if err := os.WriteFile(path, []byte(sampleTrace), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := New(Options{Kind: Trace, Path: path, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := ds.Prompt(1)
	if p.InputTokens != 16 || p.MaxTokens != 4 || len(strings.Fields(p.Text)) != 16 || ds.Len() != 3 {
		t.Errorf("prompt 1 %+v (len %d): want 16 words asking for 4 tokens", p, ds.Len())
	}
	if _, err := New(Options{Kind: Trace}); err == nil {
		t.Error("a trace dataset without a path")
	}
}

func FuzzReadTrace(f *testing.F) {
	f.Add([]byte(sampleTrace))
	f.Add([]byte(`{"timestamp_ms": 1, "input_length": 1, "output_length": 1}`))
	f.Add([]byte(`{"timestamp": -1e308, "input_length": 1e7, "output_length": 1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := ReadTrace(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		if len(tr) == 0 {
			t.Fatal("no error and no request")
		}
		for i, e := range tr {
			if e.InputTokens < 1 || e.OutputTokens < 1 || e.Offset < 0 || e.Offset > maxTraceOffset || (i > 0 && e.Offset < tr[i-1].Offset) {
				t.Fatalf("entry %d %+v", i, e)
			}
		}
	})
}

// TestLoopTrace: a looped trace repeats its requests with each pass a
// period (span + mean gap: 1.5 s for arrivals at 0, 0.5, 1 s) after the
// previous one, so the mean rate holds across the seam; a trace no
// shorter than n, or arriving all at once, is returned as it is.
func TestLoopTrace(t *testing.T) {
	tr := []TraceEntry{{0, 4, 2}, {500 * time.Millisecond, 5, 3}, {time.Second, 6, 4}}
	got := LoopTrace(tr, 7)
	want := []time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2 * time.Second, 2500 * time.Millisecond, 3 * time.Second}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i, e := range got {
		if e.Offset != want[i] || e.InputTokens != tr[i%3].InputTokens || e.OutputTokens != tr[i%3].OutputTokens {
			t.Errorf("entry %d %+v, want offset %v and the lengths of request %d", i, e, want[i], i%3)
		}
	}
	if s := Schedule(got, 0.5); s[6] != 1500*time.Millisecond {
		t.Errorf("scaled by 0.5: last arrival %v, want 1.5s", s[6])
	}
	if len(LoopTrace(tr, 3)) != 3 || len(LoopTrace(tr[:1], 5)) != 1 {
		t.Error("a trace long enough, or of one arrival, must come back as it is")
	}
}
