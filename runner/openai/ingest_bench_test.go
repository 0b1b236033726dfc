package openai

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
)

// BenchmarkStreamIngest is the driver's per-chunk path of a streamed
// response, on one goroutine: SSE framing, chunk decoding, the arrival
// stamp and the ITL gap, over a 10,000-chunk chat stream read from memory
// (no socket: the kernel's share is not counted). It reports chunks/s
// (issue 18's goal: ≥ 500,000 on one core; make bench pins it to one) and
// allocs/chunk.
func BenchmarkStreamIngest(b *testing.B) {
	const n = 10_000
	var buf bytes.Buffer
	buf.WriteString(roleChunk)
	word := chatChunk(`{"content":" word"}`)
	buf.WriteString(strings.Repeat(word, n))
	buf.WriteString(usageChunk)
	buf.WriteString(doneEvent)
	in := buf.Bytes()
	d := &Driver{o: Options{Stream: true}}
	s := &results.Sample{ITL: make([]time.Duration, 0, n)}
	ctx := context.Background()
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		*s = results.Sample{Sent: 1, ITL: s.ITL[:0]}
		x := runner.NewExchange(runner.Op{Start: start}, s)
		d.readStream(ctx, ctx, bytes.NewReader(in), x, s)
		if s.Error != "" || len(s.ITL) != n-1 {
			b.Fatalf("%s %s: %d gaps, want %d", s.Error, s.ErrorDetail, len(s.ITL), n-1)
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "chunks/s")
}
