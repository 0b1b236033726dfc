package results

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanSamples: every kind of damage is reported with its line, the
// good samples around it are all read, and a whole stream reports none.
func TestScanSamples(t *testing.T) {
	good := `{"seq":1,"rep":0,"scheduled_ns":0,"sent_ns":1,"done_ns":5}` + "\n"
	for _, tc := range []struct {
		name       string
		in         string
		samples    int64
		torn       int
		bad        []int
		badCount   int
		readErrMsg string // ReadSamples' error, "" for none
	}{
		{"whole", good + good + good, 3, 0, nil, 0, ""},
		{"empty", "", 0, 0, nil, 0, ""},
		{"cut mid-line", good + good + `{"seq":3,"rep":0,"sched`, 2, 3, nil, 0, ""},
		{"last line whole without newline", good + strings.TrimSuffix(good, "\n"), 2, 0, nil, 0, ""},
		{"bad line in the middle", good + "{\"seq\":\n" + good, 2, 0, []int{2}, 1, "line 2: "},
		{"not JSON", "hello\n" + good, 1, 0, []int{1}, 1, "line 1: "},
		{"wrong type", `{"seq":"one"}` + "\n" + good, 1, 0, []int{1}, 1, "line 1: "},
		{"bad and torn", good + "x\n" + good + `{"seq"`, 2, 4, []int{2}, 1, "line 2: "},
		{"many bad lines", strings.Repeat("x\n", MaxBadLines+5) + good, 1, 0, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, MaxBadLines + 5, "line 1: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seqs []int64
			in, err := ScanSamples(strings.NewReader(tc.in), func(s *Sample) error { seqs = append(seqs, s.Seq); return nil })
			if err != nil {
				t.Fatal(err)
			}
			var bad []int
			for _, b := range in.BadLines {
				bad = append(bad, b.Line)
				if b.Err == "" {
					t.Errorf("bad line %d without a message", b.Line)
				}
			}
			if in.Samples != tc.samples || int64(len(seqs)) != tc.samples || in.TornLine != tc.torn ||
				!equalInts(bad, tc.bad) || in.BadCount != tc.badCount {
				t.Errorf("got samples %d (fn called %d times), torn %d, bad %v (%d); want %d, %d, %v (%d)",
					in.Samples, len(seqs), in.TornLine, bad, in.BadCount, tc.samples, tc.torn, tc.bad, tc.badCount)
			}
			rerr := ReadSamples(strings.NewReader(tc.in), func(*Sample) error { return nil })
			switch {
			case tc.readErrMsg == "" && rerr != nil:
				t.Errorf("ReadSamples: %v", rerr)
			case tc.readErrMsg != "" && (rerr == nil || !strings.HasPrefix(rerr.Error(), tc.readErrMsg)):
				t.Errorf("ReadSamples: %v, want an error starting %q", rerr, tc.readErrMsg)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSampleCount: a worker's count comes back through its count file,
// and the manifest keeps counts by file name.
func TestSampleCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node1-0.jsonl")
	if err := WriteSampleCount(path, 42); err != nil {
		t.Fatal(err)
	}
	n, err := ReadSampleCount(path)
	if err != nil || n != 42 {
		t.Fatalf("ReadSampleCount = %d, %v; want 42", n, err)
	}
	if _, err := ReadSampleCount(path + "x"); err == nil {
		t.Error("a missing count file read without error")
	}
	var c CaseInfo
	c.RecordSamples(path, 42)
	if got, ok := c.RecordedSamples("/elsewhere/samples/case/node1-0.jsonl"); !ok || got != 42 {
		t.Errorf("RecordedSamples = %d, %v", got, ok)
	}
	if _, ok := c.RecordedSamples("node2-0.jsonl"); ok {
		t.Error("a file without a count has one")
	}
}

// TestDecodeManifest: what no benchrun writes is refused with the case
// named; a manifest with sample counts round-trips.
func TestDecodeManifest(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"negative count", `{"cases":[{"id":"a","status":"done","sample_counts":{"a.jsonl":-1}}]}`, "negative"},
		{"unknown status", `{"cases":[{"id":"a","status":"finished"}]}`, `unknown status "finished"`},
		{"not JSON", `{"cases":[`, "unexpected end"},
	} {
		if _, err := DecodeManifest([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, err, tc.want)
		}
	}
	m, err := DecodeManifest([]byte(`{"cases":[{"id":"a","status":"done","sample_counts":{"a.jsonl":120}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := m.Cases[0].RecordedSamples("samples/a.jsonl"); !ok || n != 120 {
		t.Errorf("sample count read back as %d, %v", n, ok)
	}
}

// FuzzScanSamples: the samples decoder never panics, accounts for every
// line (a sample, a bad line or the torn last one), and a stream written
// back from the samples it read scans whole, with the same samples.
func FuzzScanSamples(f *testing.F) {
	f.Add([]byte(`{"seq":1,"scheduled_ns":0,"sent_ns":1,"done_ns":5,"itl_ns":[1,2]}` + "\n"))
	f.Add([]byte("{\"seq\":1}\n{\"seq\":2,\"err"))
	f.Add([]byte("x\n\n{\"seq\":\"a\"}\n{}"))
	f.Add([]byte(`{"server":{"a":1e308},"values":{"b":-0}}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got []Sample
		in, err := ScanSamples(bytes.NewReader(data), func(s *Sample) error { got = append(got, *s); return nil })
		if err != nil {
			t.Fatal(err)
		}
		torn := 0
		if in.TornLine != 0 {
			torn = 1
			if in.TornLine != in.Lines {
				t.Fatalf("torn line %d is not the last (%d lines)", in.TornLine, in.Lines)
			}
		}
		if in.Samples+int64(in.BadCount+torn) != int64(in.Lines) || in.Samples != int64(len(got)) {
			t.Fatalf("%d lines, but %d samples + %d bad + %d torn (fn called %d times)", in.Lines, in.Samples, in.BadCount, torn, len(got))
		}
		var buf bytes.Buffer
		w := NewSampleWriter(&buf)
		for i := range got {
			if err := w.Write(&got[i]); err != nil {
				return // a value JSON cannot carry (NaN cannot come from JSON; keep going anyway)
			}
		}
		w.Close()
		var again []Sample
		in2, err := ScanSamples(&buf, func(s *Sample) error { again = append(again, *s); return nil })
		if err != nil || in2.BadCount != 0 || in2.TornLine != 0 || in2.Samples != int64(len(got)) {
			t.Fatalf("rewritten stream: %+v, %v", in2, err)
		}
		for i := range got {
			a, _ := json.Marshal(got[i])
			b, _ := json.Marshal(again[i])
			if !bytes.Equal(a, b) {
				t.Fatalf("sample %d changed: %s → %s", i, a, b)
			}
		}
	})
}

// FuzzReadManifest: the manifest decoder never panics, and a manifest it
// accepts encodes to JSON that decodes to the same manifest.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(`{"version":1,"suite":"s","start":"2025-03-04T01:30:00Z","fingerprint":{"cpu":"x"},"cases":[{"id":"a/b=1","status":"done","samples":"samples/a%2Fb=1.jsonl","sample_counts":{"a%2Fb=1.jsonl":3},"load":{"mode":"open","rate":2,"seed":1}}]}`))
	f.Add([]byte(`{"incomplete":true,"reason":"interrupted","cases":[{"id":"x","status":"running"}]}`))
	f.Add([]byte(`{"cases":[{"id":"x","status":"done","sample_counts":{"x":-3}}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeManifest(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			return // e.g. a time JSON can read but not write (year beyond 9999)
		}
		m2, err := DecodeManifest(b)
		if err != nil {
			t.Fatalf("re-encoded manifest refused: %v\n%s", err, b)
		}
		b2, err := json.Marshal(m2)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("manifest changed in a round trip:\n%s\n%s", b, b2)
		}
		m.Unfinished() // never panics on what was accepted
	})
}
