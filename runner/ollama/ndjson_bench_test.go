package ollama

import (
	"bytes"
	"strings"
	"testing"
)

// BenchmarkNDJSONReader frames a 1,000-line Ollama stream; it reports
// lines/s (the framing alone, decoding excluded).
func BenchmarkNDJSONReader(b *testing.B) {
	line := `{"model":"m","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":" word"},"done":false}` + "\n"
	in := []byte(strings.Repeat(line, 1000))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		nd := NewNDJSONReader(bytes.NewReader(in))
		n := 0
		for {
			if _, err := nd.Next(); err != nil {
				break
			}
			n++
		}
		if n != 1000 {
			b.Fatalf("%d lines, want 1000", n)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "lines/s")
}
