package report

import (
	"fmt"
	"strings"

	"github.com/benchrun/benchrun/analysis"
)

// explain is a check's explanation for its details row: the test's
// p-value, the samples on each side, the 95% confidence interval of the
// statistic in this run (analysis, Metric.CI), the tolerance, and the
// reason the check records (why inconclusive, incomparable, without
// baseline). Everything shown is in the summary; nothing is computed here.
func explain(c *analysis.Case, ch analysis.Check) string {
	var parts []string
	add := func(format string, a ...any) { parts = append(parts, fmt.Sprintf(format, a...)) }
	switch {
	case ch.Verdict == analysis.NoBaseline && ch.Detail == "":
		add("no baseline entry for this case: `benchrun baseline promote DIR` makes one")
	case ch.Verdict == analysis.Pass && ch.Kind == analysis.CheckRegression && ch.Tolerance != 0:
		add("change within the tolerance ±%s%%: no significance test needed", analysis.FormatNumber(ch.Tolerance*100))
	case ch.PValue > 0 && ch.Kind == analysis.CheckRegression && ch.Verdict != analysis.Incomparable:
		add("p = %.3g", ch.PValue)
	}
	switch {
	case ch.Count > 0 && ch.BaseCount > 0:
		add("n = %d in this run, %d in the baseline", ch.Count, ch.BaseCount)
	case ch.Metric != "":
		if m, ok := c.Metrics[ch.Metric]; ok && m.Count > 0 {
			add("n = %d", m.Count)
		}
	}
	if m, ok := c.Metrics[ch.Metric]; ok {
		if ci, ok := m.CI[ch.Stat]; ok {
			add("95%% CI of %s in this run: %s – %s", ch.Stat, analysis.FormatValue(ci[0], m.Unit), analysis.FormatValue(ci[1], m.Unit))
		}
	}
	if ch.Detail != "" {
		parts = append(parts, ch.Detail)
	}
	return strings.Join(parts, "; ")
}
