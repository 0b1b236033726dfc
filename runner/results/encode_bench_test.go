package results

import (
	"io"
	"testing"
	"time"
)

// BenchmarkSampleEncode is the per-sample cost of SampleWriter.Write for
// a streamed chat request (64 token gaps), encoding and buffering
// included, the flush to the operating system excluded (a samples file
// flushes every SampleFlushInterval).
func BenchmarkSampleEncode(b *testing.B) {
	s := &Sample{Seq: 12345, Worker: "node2/0", Scheduled: 1500 * time.Millisecond, Sent: 1500*time.Millisecond + 20*time.Microsecond,
		FirstByte: 1520 * time.Millisecond, FirstToken: 1540 * time.Millisecond, LastToken: 1860 * time.Millisecond, Done: 1861 * time.Millisecond,
		InputTokens: 512, OutputTokens: 64, TokenSource: TokensFromUsage, Status: 200}
	for i := range 63 {
		s.ITL = append(s.ITL, 5*time.Millisecond+time.Duration(i)*time.Microsecond)
	}
	w := NewSampleWriter(io.Discard)
	w.batched = true // as a samples file: no flush per line
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(s); err != nil {
			b.Fatal(err)
		}
	}
}
