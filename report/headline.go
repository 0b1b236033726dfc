package report

import (
	"fmt"
	"strings"

	"github.com/benchrun/benchrun/analysis"
)

// runHead is how every output heads a run: its verdict, except that a
// pass that has not earned green says so. A pass of a run cut short reads
// INCOMPLETE; a pass with cases whose baseline was incomparable keeps its
// word but not its green, and says why. Outputs never colour a run green
// that was not fully measured and compared where it could be.
type runHead struct {
	Word  string // PASS, FAIL, ERROR, INCOMPLETE
	Class string // ok, bad or warn: the HTML class; the colour and symbol elsewhere
	Note  string // why a pass is not green, e.g. "1 incomparable baseline"; "" otherwise
}

func runHeadline(s *analysis.Summary) runHead {
	h := runHead{Word: strings.ToUpper(s.Verdict), Class: verdictClass(s.Verdict)}
	if h.Word == "" {
		h.Word = "UNKNOWN"
	}
	if s.Verdict != analysis.Pass {
		return h
	}
	switch n := incomparableCases(s); {
	case s.Incomplete:
		h.Word, h.Class = "INCOMPLETE", "warn"
	case n > 0:
		h.Class, h.Note = "warn", plural(n, "incomparable baseline", "incomparable baselines")
	}
	return h
}

// text is the headline as the markdown title shows it: "✅ pass",
// "⚠️ incomplete", "⚠️ pass, 1 incomparable baseline".
func (h runHead) text() string {
	t := classSymbol(h.Class) + " " + strings.ToLower(h.Word)
	if h.Note != "" {
		t += ", " + h.Note
	}
	return t
}

// classSymbol is the marker of a headline class.
func classSymbol(class string) string {
	switch class {
	case "ok":
		return "✅"
	case "bad":
		return "❌"
	case "warn":
		return "⚠️"
	}
	return "?"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// incomparableCases counts the cases with an incomparable baseline.
func incomparableCases(s *analysis.Summary) int {
	n := 0
	for i := range s.Cases {
		if incomparable(&s.Cases[i]) != nil {
			n++
		}
	}
	return n
}

// incomparable returns the check saying c's baseline is incomparable, or nil.
func incomparable(c *analysis.Case) *analysis.Check {
	for i := range c.Checks {
		if c.Checks[i].Verdict == analysis.Incomparable {
			return &c.Checks[i]
		}
	}
	return nil
}

// incomparableNote is the footnote of a case whose baseline was not
// compared: the fields that differ first (Detail: "fingerprint differs:
// key: baseline value → run value, ..."), then how to compare anyway.
func incomparableNote(ch *analysis.Check) string {
	d := ch.Detail
	if d == "" {
		d = "fingerprint differs"
	}
	return "baseline not compared, " + d + " (--ignore-fingerprint KEY or [suite] ignore_fingerprint compares anyway)"
}

// shownVerdict is the verdict shown for case c where one word stands for
// it: its verdict, except "incomparable" for a pass whose baseline could
// not be compared.
func shownVerdict(c *analysis.Case) string {
	if c.Verdict == analysis.Pass && incomparable(c) != nil {
		return analysis.Incomparable
	}
	return c.Verdict
}
