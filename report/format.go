package report

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/benchrun/benchrun/analysis"
)

// fmtDelta renders a relative change (0.1 → "+10.0%").
func fmtDelta(d float64) string {
	if math.IsNaN(d) || math.IsInf(d, 0) {
		return analysis.FormatNumber(d)
	}
	return fmt.Sprintf("%+.1f%%", d*100)
}

// metricStats returns the statistics exports list for m: value for a
// rate, analysis.DistStats for a distribution.
func metricStats(m analysis.Metric) []string {
	if m.Kind == analysis.KindRate {
		return []string{"value"}
	}
	return analysis.DistStats()
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
		return op + " " + analysis.FormatValue(c.Limit, c.Unit)
	}
	if c.Verdict == analysis.NoBaseline || c.Verdict == analysis.Incomparable {
		return "—"
	}
	return analysis.FormatValue(c.Baseline, c.Unit)
}

// checkDelta renders a regression check's relative change and tolerance.
func checkDelta(c analysis.Check) string {
	if c.Kind == analysis.CheckThreshold || c.Op != "" || c.Verdict == analysis.NoBaseline || c.Verdict == analysis.Incomparable {
		return ""
	}
	s := fmtDelta(c.Delta)
	if c.Tolerance != 0 {
		s += fmt.Sprintf(" (±%s%%)", analysis.FormatNumber(c.Tolerance*100))
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
