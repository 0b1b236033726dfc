package dataset

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

// Trace is the dataset kind of a trace replay (docs/suite-format.md): a
// JSONL file of requests with their arrival times and lengths, the form
// GuideLLM's and AIPerf's trace replays read. Each line is an object with
// "input_length" and "output_length" (tokens, ≥ 1) and its arrival as
// "timestamp" (seconds) or "timestamp_ms" (milliseconds), exactly one of
// the two, in non-decreasing order; other fields (hash_ids, ...) are
// ignored. Offsets are from the first line's arrival.
const Trace = "trace"

// TraceEntry is one request of a trace.
type TraceEntry struct {
	Offset       time.Duration // arrival, from the trace's first request
	InputTokens  int
	OutputTokens int
}

// maxTraceOffset bounds an arrival offset (a week): beyond, a timestamp
// is in another unit or corrupt.
const maxTraceOffset = 7 * 24 * time.Hour

// ReadTrace parses a trace. Any line that is not such an object (a
// missing or non-numeric field, a length below 1, an arrival before the
// previous one or beyond a week after the first) is an error naming it;
// an empty trace is an error.
func ReadTrace(r io.Reader) ([]TraceEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	var out []TraceEntry
	var first, prev float64
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var v struct {
			Timestamp    *float64 `json:"timestamp"`
			TimestampMS  *float64 `json:"timestamp_ms"`
			InputLength  *float64 `json:"input_length"`
			OutputLength *float64 `json:"output_length"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("trace line %d: %w", line, err)
		}
		var t float64
		switch {
		case v.Timestamp != nil && v.TimestampMS == nil:
			t = *v.Timestamp
		case v.TimestampMS != nil && v.Timestamp == nil:
			t = *v.TimestampMS / 1e3
		default:
			return nil, fmt.Errorf("trace line %d: want exactly one of timestamp (s) and timestamp_ms", line)
		}
		in, okIn := traceLength(v.InputLength)
		outLen, okOut := traceLength(v.OutputLength)
		if !okIn || !okOut {
			return nil, fmt.Errorf("trace line %d: input_length and output_length must be whole numbers ≥ 1", line)
		}
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, fmt.Errorf("trace line %d: timestamp is not a number", line)
		}
		if len(out) == 0 {
			first, prev = t, t
		}
		if t < prev {
			return nil, fmt.Errorf("trace line %d: arrival %v before the previous one (%v): a trace is in arrival order", line, t, prev)
		}
		off := t - first
		if off > maxTraceOffset.Seconds() {
			return nil, fmt.Errorf("trace line %d: arrival %v s after the first: beyond a week (timestamp in milliseconds? use timestamp_ms)", line, off)
		}
		prev = t
		out = append(out, TraceEntry{Offset: time.Duration(math.Round(off * 1e9)), InputTokens: in, OutputTokens: outLen})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("trace: no request")
	}
	return out, nil
}

func traceLength(p *float64) (int, bool) {
	if p == nil || !(*p >= 1) || *p > 1e7 || *p != math.Trunc(*p) {
		return 0, false
	}
	return int(*p), true
}

// ReadTraceFile reads the trace at path (ReadTrace).
func ReadTraceFile(path string) ([]TraceEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr, err := ReadTrace(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tr, nil
}

// LoopTrace returns the first n requests of tr replayed in a loop: pass k
// (0-based) of the trace starts k periods after the first, a period being
// the trace's span plus its mean gap between arrivals, span·len/(len−1),
// so the loop keeps the trace's mean rate across the seam. tr itself when
// n ≤ len(tr) or the trace has a single arrival time (no period).
func LoopTrace(tr []TraceEntry, n int) []TraceEntry {
	m := len(tr)
	if n <= m || m < 2 || tr[m-1].Offset <= 0 {
		return tr
	}
	period := float64(tr[m-1].Offset) * float64(m) / float64(m-1)
	out := make([]TraceEntry, n)
	for i := range out {
		e := tr[i%m]
		e.Offset += time.Duration(math.Round(float64(i/m) * period))
		out[i] = e
	}
	return out
}

// Schedule returns the trace's arrival offsets multiplied by scale (0.5
// replays twice as fast).
func Schedule(tr []TraceEntry, scale float64) []time.Duration {
	out := make([]time.Duration, len(tr))
	for i, e := range tr {
		out[i] = time.Duration(math.Round(float64(e.Offset) * scale))
	}
	return out
}

// traceDataset gives operation seq the trace's request seq: a prompt of
// its input length in vocabulary words and its output length as
// MaxTokens. Operations beyond the trace (none are scheduled) reuse it
// from the start.
type traceDataset struct {
	entries []TraceEntry
	seed    int64
	hash    string
}

func newTraceDataset(entries []TraceEntry, seed int64) *traceDataset {
	h := sha256.New()
	fmt.Fprintf(h, "trace\x00%d\x00", seed)
	for _, e := range entries {
		fmt.Fprintf(h, "%d %d %d\n", e.Offset, e.InputTokens, e.OutputTokens)
	}
	return &traceDataset{entries: entries, seed: seed, hash: hex.EncodeToString(h.Sum(nil))}
}

func (d *traceDataset) Prompt(seq int64) Prompt {
	e := d.entries[int(seq%int64(len(d.entries)))]
	r := seqRand(d.seed, seq, purposeText)
	var b strings.Builder
	b.Grow(e.InputTokens * 6)
	for i := range e.InputTokens {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(VocabularyWord(r.IntN(VocabularySize)))
	}
	return Prompt{Text: b.String(), InputTokens: e.InputTokens, MaxTokens: e.OutputTokens}
}

func (d *traceDataset) Hash() string { return d.hash }
func (d *traceDataset) Len() int     { return len(d.entries) }
