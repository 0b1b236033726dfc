package results

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// TestAppendSampleAsEncodingJSON: every member, set and unset, escaped
// strings, maps and float formats come out as encoding/json writes them.
func TestAppendSampleAsEncodingJSON(t *testing.T) {
	for _, s := range []*Sample{
		{},
		{Seq: 1, Rep: 2, Worker: "node2/0", Warmup: true, Op: "query", Scheduled: 3, Sent: 4, FirstByte: 5, FirstToken: 6,
			LastToken: 7, Done: 8, SlotWait: 9, ITL: []time.Duration{10, 11, -12}, InputTokens: 13, OutputTokens: 14,
			TokenSource: TokensFromUsage, Status: 503, Error: ErrHTTP5xx, ErrorDetail: `503 Service Unavailable: {"error":"<busy> & \"full\"\n"} é ` + "\u2028\xff",
			RetryAfter: 15 * time.Second, Server: map[string]float64{"queue": 3, "kv_cache": 0.5, "z": 1e-7, "a": 1e21, "neg": -2.5e-9},
			Values: map[string]float64{"recall": 0.98765, "bytes_per_s": 1.2345678901234567e9, "zero": 0}},
		{ITL: []time.Duration{}, Server: map[string]float64{}, Values: map[string]float64{}},
		{Seq: math.MaxInt64, Scheduled: math.MinInt64, Values: map[string]float64{"max": math.MaxFloat64, "tiny": math.SmallestNonzeroFloat64, "m0": math.Copysign(0, -1)}},
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendSample(nil, s)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("appendSample\n%s\nencoding/json\n%s", got, want)
		}
	}
	if _, ok := appendSample(nil, &Sample{Values: map[string]float64{"x": math.NaN()}}); ok {
		t.Error("a NaN encoded")
	}
}

// TestSampleWriterNaN: a sample that cannot be encoded is an error of its
// own, writes nothing, and leaves the writer working.
func TestSampleWriterNaN(t *testing.T) {
	var buf bytes.Buffer
	w := NewSampleWriter(&buf)
	if err := w.Write(&Sample{Seq: 1, Values: map[string]float64{"x": math.Inf(1)}}); err == nil || !strings.Contains(err.Error(), "unsupported value") {
		t.Errorf("err = %v", err)
	}
	if err := w.Write(&Sample{Seq: 2}); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != `{"seq":2,"rep":0,"scheduled_ns":0,"sent_ns":0,"done_ns":0}`+"\n" {
		t.Errorf("wrote %q", got)
	}
}

// FuzzAppendSample: appendSample writes what encoding/json writes for any
// strings, numbers and map entries.
func FuzzAppendSample(f *testing.F) {
	f.Add(int64(1), int64(2), "node2/0", "stream_truncated", "503: <x> & \"y\"\n\xff", "recall", 0.5, 1e-7, true)
	f.Add(int64(-1), int64(0), "", "", "", "", 0.0, 1e21, false)
	f.Fuzz(func(t *testing.T, seq, d int64, worker, class, detail, key string, v1, v2 float64, warm bool) {
		s := &Sample{Seq: seq, Rep: int(d), Worker: worker, Warmup: warm, Op: key, Scheduled: time.Duration(d), Sent: time.Duration(seq),
			FirstByte: time.Duration(d), ITL: []time.Duration{time.Duration(d), time.Duration(seq)}, Error: class, ErrorDetail: detail,
			TokenSource: worker, Status: int(seq), RetryAfter: time.Duration(-d),
			Server: map[string]float64{key: v1, worker: v2}, Values: map[string]float64{detail: v2}}
		want, werr := json.Marshal(s)
		got, ok := appendSample(nil, s)
		if (werr == nil) != ok {
			t.Fatalf("encoding/json err %v, appendSample ok %v", werr, ok)
		}
		if ok && !bytes.Equal(got, want) {
			t.Fatalf("appendSample\n%s\nencoding/json\n%s", got, want)
		}
	})
}
