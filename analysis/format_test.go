package analysis

import (
	"math"
	"testing"
)

func TestFormatValue(t *testing.T) {
	tests := []struct {
		v    float64
		unit string
		want string
	}{
		{0.41234, "s", "412.3 ms"}, {1.5, "s", "1.5 s"}, {0.0000123, "s", "12.3 µs"}, {0, "s", "0 s"},
		{0.0153, "ratio", "1.53%"}, {3 << 20, "bytes", "3 MiB"}, {123456.7, "tokens/s", "123457 tokens/s"},
		{1e-12, "", "0.000000000001"},
		{0.012, "seconds", "12 ms"}, {2048, "B", "2 KiB"}, {0.5, "fraction", "50%"}, {math.NaN(), "s", "NaN"},
		{math.Inf(-1), "", "-Inf"}, {-0.25, "s", "-250 ms"}, {42, "tokens", "42 tokens"},
		{1.5 * (1 << 30), "bytes/s", "1.5 GiB/s"}, {512, "bytes/s", "512 B/s"}, {40 << 20, "bytes/s", "40 MiB/s"},
		{123456, "ops/s", "123.5 kops/s"}, {950, "ops/s", "950 ops/s"},
	}
	for _, tt := range tests {
		if got := FormatValue(tt.v, tt.unit); got != tt.want {
			t.Errorf("FormatValue(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}
