package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"

	"github.com/benchrun/benchrun/analysis"
)

// Compared is one run of `benchrun compare A B C...`: its name (the
// results directory) and its summary, judged against the reference run
// (its regression checks hold the reference's values as baselines).
type Compared struct {
	Name    string
	Summary *analysis.Summary
}

// WriteMultiCompare prints several runs compared with the reference ref
// in one table: a row per case and regression statistic, the reference's
// value, then each run's value, relative change and verdict. A case a run
// lacks is "missing", a case that errored is "error": never an empty cell
// that reads as no change. The runs' verdict lines follow.
func WriteMultiCompare(w io.Writer, ref string, runs []Compared) error {
	t := table.NewWriter()
	t.SetStyle(table.StyleLight)
	t.Style().Color = table.ColorOptions{}
	header := table.Row{"case", "metric", ref + " (reference)"}
	for _, r := range runs {
		header = append(header, r.Name)
	}
	t.AppendHeader(header)
	for _, id := range caseOrder(runs) {
		for _, name := range regressionChecks(runs, id) {
			row := table.Row{oneLine(id, 60), "", "—"}
			for _, r := range runs {
				c := findCase(r.Summary, id)
				ch, ok := findCheck(c, name)
				if ok {
					row[1] = checkLabel(ch)
					if ref := checkReference(ch); ref != "—" {
						row[2] = ref
					}
				}
				row = append(row, compareCell(c, ch, ok))
			}
			if row[1] == "" {
				row[1] = name
			}
			t.AppendRow(row)
		}
	}
	var b strings.Builder
	b.WriteString(t.Render())
	b.WriteString("\n")
	for _, r := range runs {
		fmt.Fprintf(&b, "%s: %s\n", r.Name, VerdictLine(r.Summary))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// compareCell renders one run's figure for a check: "412 ms +3.1% ✅ pass".
func compareCell(c *analysis.Case, ch analysis.Check, ok bool) string {
	switch {
	case c == nil:
		return "missing"
	case c.Verdict == analysis.Error:
		return symbol(analysis.Error) + " error"
	case c.Verdict == analysis.Skipped:
		return "skipped"
	case !ok && hasRegressionCheck(c):
		return "—" // this check is another run's (an incomparable baseline)
	case !ok:
		return "not compared"
	}
	if ch.Verdict == analysis.NoBaseline || ch.Verdict == analysis.Incomparable {
		s := verdictText(ch.Verdict)
		if ch.Detail != "" {
			s += ": " + oneLine(ch.Detail, 60)
		}
		return s
	}
	return analysis.FormatValue(ch.Value, ch.Unit) + " " + fmtDelta(ch.Delta) + " " + verdictText(ch.Verdict)
}

// caseOrder is the case ids of runs, in the first run's order, then those
// only later runs have.
func caseOrder(runs []Compared) []string {
	var ids []string
	seen := map[string]bool{}
	for _, r := range runs {
		for _, c := range r.Summary.Cases {
			if !seen[c.ID] {
				seen[c.ID] = true
				ids = append(ids, c.ID)
			}
		}
	}
	return ids
}

// regressionChecks is the names of case id's regression checks over runs,
// in order of appearance.
func regressionChecks(runs []Compared, id string) []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range runs {
		c := findCase(r.Summary, id)
		if c == nil {
			continue
		}
		for _, ch := range c.Checks {
			if ch.Kind == analysis.CheckRegression && !seen[ch.Name] {
				seen[ch.Name] = true
				names = append(names, ch.Name)
			}
		}
	}
	if len(names) == 0 {
		names = []string{"(no regression check)"}
	}
	return names
}

func findCase(sum *analysis.Summary, id string) *analysis.Case {
	for i := range sum.Cases {
		if sum.Cases[i].ID == id {
			return &sum.Cases[i]
		}
	}
	return nil
}

func findCheck(c *analysis.Case, name string) (analysis.Check, bool) {
	if c == nil {
		return analysis.Check{}, false
	}
	for _, ch := range c.Checks {
		if ch.Kind == analysis.CheckRegression && ch.Name == name {
			return ch, true
		}
	}
	return analysis.Check{}, false
}

func hasRegressionCheck(c *analysis.Case) bool {
	for _, ch := range c.Checks {
		if ch.Kind == analysis.CheckRegression {
			return true
		}
	}
	return false
}
