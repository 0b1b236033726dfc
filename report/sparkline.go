package report

import (
	"fmt"
	"html/template"
	"sort"
	"strings"

	"github.com/benchrun/benchrun/analysis"
)

// Sparkline geometry on the Pages index, in CSS pixels.
const (
	sparkWidth  = 160
	sparkHeight = 28
	sparkRuns   = 30 // the latest runs of a suite drawn
)

// sparkRow is one case's key statistic across the runs of its suite on the
// Pages index: an inline SVG polyline, oldest run left, newest right.
type sparkRow struct {
	Case, Stat  string
	Latest      string // the newest run's value, formatted
	Range       string // "min – max" over the runs drawn
	Runs        int
	SVG         template.HTML
	LatestClass string // the newest run's case verdict class
	// Changes names the change points marked on the sparkline ("changed
	// at 2026-10-26 02:00, +15.2% (100.2 ms → 115.4 ms)"), from the newest
	// run's trend; empty when there are none or no trend.
	Changes []string
}

// sparkSuite is the sparklines of one suite.
type sparkSuite struct {
	Suite string
	Rows  []sparkRow
}

// keyStat is the statistic a case's sparkline draws: its first regression
// check's, else its first headline statistic; ok false when it has neither.
func keyStat(c *analysis.Case) (metric, stat string, ok bool) {
	for _, ch := range c.Checks {
		if ch.Kind == analysis.CheckRegression && ch.Metric != "" && ch.Stat != "" {
			if _, has := c.Metrics[ch.Metric]; has {
				return ch.Metric, ch.Stat, true
			}
		}
	}
	if h := headlineMetrics(c); len(h) > 0 {
		return h[0][0], h[0][1], true
	}
	return "", "", false
}

// sparklines draws, per suite (sorted), each case of its newest run: the
// key statistic (keyStat of that run). When the newest run has a trend of
// that statistic (analysis.HistoryTrend, from the suite's history), the
// sparkline is that trend with its change points marked; otherwise it is
// the statistic in every one of the suite's runs on the site that has it,
// up to the last sparkRuns, without change points (none were computed
// over them). runs is newest first.
func sparklines(runs []PagesRun) []sparkSuite {
	bySuite := map[string][]PagesRun{}
	for _, r := range runs {
		if r.sum != nil {
			bySuite[r.Suite] = append(bySuite[r.Suite], r)
		}
	}
	var out []sparkSuite
	for suite, rs := range bySuite {
		ss := sparkSuite{Suite: suite}
		newest := rs[0].sum
		for i := range newest.Cases {
			c := &newest.Cases[i]
			metric, stat, ok := keyStat(c)
			if !ok {
				continue
			}
			var vals []float64
			var changes []analysis.ChangePoint
			var labels []string
			unit := ""
			if t := caseTrend(c, metric, stat); t != nil {
				vals, unit, changes = t.Values, t.Unit, t.ChangePoints
				for _, cp := range t.ChangePoints {
					labels = append(labels, changeLabel(t, cp))
				}
			} else {
				vals, unit = siteValues(rs, c.ID, metric, stat)
			}
			if len(vals) == 0 {
				continue
			}
			lo, hi := vals[0], vals[0]
			for _, v := range vals {
				lo, hi = min(lo, v), max(hi, v)
			}
			ss.Rows = append(ss.Rows, sparkRow{Case: c.ID, Stat: checkLabel(analysis.Check{Metric: metric, Stat: stat}),
				Latest: analysis.FormatValue(vals[len(vals)-1], unit), Runs: len(vals),
				Range:       analysis.FormatValue(lo, unit) + " – " + analysis.FormatValue(hi, unit),
				SVG:         sparkSVG(vals, lo, hi, changes, labels),
				LatestClass: verdictClass(c.Verdict), Changes: labels})
		}
		if len(ss.Rows) > 0 {
			out = append(out, ss)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Suite < out[j].Suite })
	return out
}

// caseTrend is c's trend of metric.stat, nil when it has none.
func caseTrend(c *analysis.Case, metric, stat string) *analysis.HistoryTrend {
	for i := range c.Trends {
		if t := &c.Trends[i]; t.Metric == metric && t.Stat == stat && len(t.Values) > 0 {
			return t
		}
	}
	return nil
}

// siteValues is metric.stat of case id in each of rs (newest first) that
// has it, oldest first, the last sparkRuns of them, with its unit: the
// newest run's, older runs in another unit left out.
func siteValues(rs []PagesRun, id, metric, stat string) ([]float64, string) {
	var vals []float64
	unit := ""
	for j := len(rs) - 1; j >= 0; j-- {
		if v, u, ok := caseStat(rs[j].sum, id, metric, stat); ok {
			if len(vals) > 0 && u != unit {
				vals = vals[:0] // another unit: not one line with the newer values
			}
			vals, unit = append(vals, v), u
		}
	}
	if len(vals) > sparkRuns {
		vals = vals[len(vals)-sparkRuns:]
	}
	return vals, unit
}

// changeLabel names change point cp of t as report.md's trend line does:
// "changed at 2026-10-26 02:00, +15.2% (100.2 ms → 115.4 ms)".
func changeLabel(t *analysis.HistoryTrend, cp analysis.ChangePoint) string {
	run := ""
	if cp.Index < len(t.Runs) {
		run = runLabel(t.Runs[cp.Index])
	}
	return fmt.Sprintf("changed at %s, %s (%s → %s)", run, fmtDelta(cp.Delta),
		analysis.FormatValue(cp.Before, t.Unit), analysis.FormatValue(cp.After, t.Unit))
}

// caseStat is statistic metric.stat of case id in sum, with its unit.
func caseStat(sum *analysis.Summary, id, metric, stat string) (float64, string, bool) {
	for i := range sum.Cases {
		if c := &sum.Cases[i]; c.ID == id {
			m, ok := c.Metrics[metric]
			if !ok {
				return 0, "", false
			}
			v, ok := m.Stat(stat)
			return v, m.Unit, ok
		}
	}
	return 0, "", false
}

// sparkSVG is an inline SVG polyline of vals between lo (bottom) and hi
// (top), the newest value a dot, and a dashed red vertical line at the
// value where each change point starts, titled with its label. It holds
// only numbers it formats itself and labels html/template escapes.
func sparkSVG(vals []float64, lo, hi float64, changes []analysis.ChangePoint, labels []string) template.HTML {
	const pad = 3.0
	w, h := float64(sparkWidth)-2*pad, float64(sparkHeight)-2*pad
	pt := func(i int) (float64, float64) {
		x := pad + w/2
		if len(vals) > 1 {
			x = pad + w*float64(i)/float64(len(vals)-1)
		}
		y := pad + h/2
		if hi > lo {
			y = pad + h*(hi-vals[i])/(hi-lo)
		}
		return x, y
	}
	var pts []string
	for i := range vals {
		x, y := pt(i)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
	}
	var marks strings.Builder
	for k, cp := range changes {
		if cp.Index < 0 || cp.Index >= len(vals) {
			continue
		}
		x, _ := pt(cp.Index)
		fmt.Fprintf(&marks, `<line class="change" x1="%.1f" y1="0" x2="%.1f" y2="%d" stroke="#c62828" stroke-width="1" stroke-dasharray="2,2"><title>%s</title></line>`,
			x, x, sparkHeight, template.HTMLEscapeString(labels[k]))
	}
	label := fmt.Sprintf("%d runs", len(vals))
	if n := len(changes); n == 1 {
		label += ", 1 change point"
	} else if n > 1 {
		label += fmt.Sprintf(", %d change points", n)
	}
	x, y := pt(len(vals) - 1)
	return template.HTML(fmt.Sprintf(`<svg class="spark" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`+
		`%s<polyline fill="none" stroke="#5470c6" stroke-width="1.5" points="%s"/><circle cx="%.1f" cy="%.1f" r="2.5" fill="#222"/></svg>`,
		sparkWidth, sparkHeight, sparkWidth, sparkHeight, label, marks.String(), strings.Join(pts, " "), x, y))
}
