package analysis

import (
	"math"
	"strconv"
	"strings"
)

// BaseUnit returns the unit constant a unit spelling stands for: "sec",
// "second", "seconds" → UnitSeconds; "B", "byte", "bytes" → UnitBytes;
// "fraction", "1", "ratio" → UnitRatio; any other unit unchanged.
func BaseUnit(unit string) string {
	switch unit {
	case "s", "sec", "second", "seconds":
		return UnitSeconds
	case "B", "byte", "bytes":
		return UnitBytes
	case "ratio", "fraction", "1":
		return UnitRatio
	}
	return unit
}

// FormatNumber formats v with about four significant digits and never an
// exponent ("1234", "0.01235", "NaN", "+Inf"), so tables, JUnit text and
// CSV read the same.
func FormatNumber(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == 0:
		return "0"
	}
	d := 3 - int(math.Floor(math.Log10(math.Abs(v))))
	d = min(max(d, 0), 12)
	s := strconv.FormatFloat(v, 'f', d, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// FormatValue renders a value v in base unit for people, with
// FormatNumber and a space before the unit: seconds as µs, ms or s
// ("12.3 ms"), bytes as B, KiB, MiB or GiB, ratios as percent ("1.5%"),
// plain numbers bare, anything else followed by its unit ("42 tokens").
// It is the one formatter of warnings, check details, reports and the CLI.
func FormatValue(v float64, unit string) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return FormatNumber(v)
	}
	switch BaseUnit(unit) {
	case UnitSeconds:
		switch {
		case a == 0:
			return "0 s"
		case a < 1e-3:
			return FormatNumber(v*1e6) + " µs"
		case a < 1:
			return FormatNumber(v*1e3) + " ms"
		}
		return FormatNumber(v) + " s"
	case UnitBytes:
		for _, u := range []struct {
			f    float64
			name string
		}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
			if a >= u.f {
				return FormatNumber(v/u.f) + " " + u.name
			}
		}
		return FormatNumber(v) + " B"
	case UnitRatio:
		return FormatNumber(v*100) + "%"
	case UnitBytesPerSecond:
		for _, u := range []struct {
			f    float64
			name string
		}{{1 << 30, "GiB/s"}, {1 << 20, "MiB/s"}, {1 << 10, "KiB/s"}} {
			if a >= u.f {
				return FormatNumber(v/u.f) + " " + u.name
			}
		}
		return FormatNumber(v) + " B/s"
	case UnitOpsPerSecond:
		if a >= 1e3 {
			return FormatNumber(v/1e3) + " kops/s"
		}
		return FormatNumber(v) + " ops/s"
	case UnitNone:
		return FormatNumber(v)
	}
	return FormatNumber(v) + " " + unit
}
