package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/benchrun/benchrun/analysis"
)

// num formats v with about four significant digits and never an exponent,
// so tables, JUnit text and CSV read the same.
func num(v float64) string {
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

// isSeconds reports whether unit names seconds.
func isSeconds(unit string) bool {
	switch unit {
	case "s", "sec", "second", "seconds":
		return true
	}
	return false
}

func isBytes(unit string) bool { return unit == "B" || unit == "bytes" || unit == "byte" }

func isRatio(unit string) bool { return unit == "ratio" || unit == "fraction" || unit == "1" }

// fmtValue renders a value given in base unit for people: seconds as µs,
// ms or s, bytes as KiB..GiB, ratios as percent, anything else as a number
// followed by its unit.
func fmtValue(v float64, unit string) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return num(v)
	case isSeconds(unit):
		switch {
		case a == 0:
			return "0 s"
		case a < 1e-3:
			return num(v*1e6) + " µs"
		case a < 1:
			return num(v*1e3) + " ms"
		}
		return num(v) + " s"
	case isBytes(unit):
		for _, u := range []struct {
			f    float64
			name string
		}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
			if a >= u.f {
				return num(v/u.f) + " " + u.name
			}
		}
		return num(v) + " B"
	case isRatio(unit):
		return num(v*100) + "%"
	case unit == "":
		return num(v)
	}
	return num(v) + " " + unit
}

// fmtDelta renders a relative change (0.1 → "+10.0%").
func fmtDelta(d float64) string {
	if math.IsNaN(d) || math.IsInf(d, 0) {
		return num(d)
	}
	return fmt.Sprintf("%+.1f%%", d*100)
}

// distStats are the statistics of a distribution metric that exports and
// metrics.txt list, in this order.
var distStats = []string{"count", "mean", "stddev", "min", "p50", "p90", "p95", "p99", "p999", "max"}

// metricStats returns the statistics listed for m.
func metricStats(m analysis.Metric) []string {
	if m.Kind == analysis.KindRate {
		return []string{"value"}
	}
	return distStats
}

// sortedKeys returns the keys of m in ascending order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkLabel is the short name of a check: "metric.stat", or its own name
// when it has no metric.
func checkLabel(c analysis.Check) string {
	if c.Metric != "" && c.Stat == "value" {
		return c.Metric // a rate has one value
	}
	if c.Metric != "" && c.Stat != "" {
		return c.Metric + "." + c.Stat
	}
	return c.Name
}

// checkReference renders what a check compares against: "< 500 ms" for a
// threshold, the baseline value for a regression check.
func checkReference(c analysis.Check) string {
	if c.Kind == analysis.CheckThreshold || c.Op != "" {
		op := c.Op
		switch op {
		case "<", "<=", ">", ">=", "==":
		default:
			op = "limit" // never echo an unknown operator into a table
		}
		return op + " " + fmtValue(c.Limit, c.Unit)
	}
	if c.Verdict == analysis.NoBaseline || c.Verdict == analysis.Incomparable {
		return "—"
	}
	return fmtValue(c.Baseline, c.Unit)
}

// checkDelta renders a regression check's relative change and tolerance.
func checkDelta(c analysis.Check) string {
	if c.Kind == analysis.CheckThreshold || c.Op != "" || c.Verdict == analysis.NoBaseline || c.Verdict == analysis.Incomparable {
		return ""
	}
	s := fmtDelta(c.Delta)
	if c.Tolerance != 0 {
		s += fmt.Sprintf(" (±%s%%)", num(c.Tolerance*100))
	}
	return s
}

// checkFailed reports whether a check's verdict fails the run.
func checkFailed(v string) bool { return v == analysis.Fail || v == analysis.Regression }

// symbol returns the marker of a verdict in markdown and terminal tables.
func symbol(verdict string) string {
	switch verdict {
	case analysis.Pass:
		return "✅"
	case analysis.Improvement:
		return "✅"
	case analysis.Fail, analysis.Regression:
		return "❌"
	case analysis.Error, "warning":
		return "⚠️"
	case analysis.Inconclusive:
		return "~"
	case analysis.NoBaseline:
		return "🆕"
	case analysis.Incomparable:
		return "≠"
	case analysis.Skipped:
		return "—"
	}
	return "?"
}

// verdictText is symbol plus the verdict's words.
func verdictText(verdict string) string {
	w := strings.ReplaceAll(verdict, "_", " ")
	if w == "" {
		w = "unknown"
	}
	return symbol(verdict) + " " + w
}

// oneLine folds s onto one line and cuts it to at most n runes, so a
// multi-line server message cannot break a table.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// caseLabel shortens a case id for chart axes by dropping its benchmark
// prefix: "chat/users=8" → "users=8".
func caseLabel(c *analysis.Case) string {
	if rest, ok := strings.CutPrefix(c.ID, c.Benchmark+"/"); ok && rest != "" {
		return rest
	}
	return c.ID
}
