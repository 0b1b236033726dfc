package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"

	"github.com/benchrun/benchrun/analysis"
)

// row is one line of the markdown and terminal tables.
type row struct {
	caseID, caseLabel string
	notes             []int // footnote numbers, on the first row of a case
	metric            string
	value, reference  string
	delta, verdict    string
	why               string // the check's explanation (explain), "" for rows that are not checks
}

// footnote is a numbered warning or error of one case.
type footnote struct {
	N      int
	CaseID string
	Kind   string // "warning" or "error"
	Text   string
}

// tableModel is what the markdown and terminal renderers share.
type tableModel struct {
	benchmarks []benchmark
	rows       map[string][]row // by benchmark
	notes      []footnote
}

// headline lists the metric statistics shown for a case without checks, in
// order of preference.
var headline = []struct{ metric, stat string }{
	{"ttft", "p95"}, {"e2e", "p95"}, {"itl", "p95"},
	{"output_tokens_per_second", "value"}, {"requests_per_second", "value"}, {"error_rate", "value"},
}

// headlineMetrics returns the (metric, stat) pairs shown for c when it has
// no checks: the known headline ones it has, else the p95 or value of its
// first metrics.
func headlineMetrics(c *analysis.Case) [][2]string {
	if batchCase(c) {
		if out := commandHeadline(c); len(out) > 0 {
			return out
		}
	}
	var out [][2]string
	for _, h := range headline {
		if _, ok := c.Metrics[h.metric]; ok {
			out = append(out, [2]string{h.metric, h.stat})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Metrics)) {
		if strings.HasPrefix(name, "recall_at_") { // a vector query's quality, beside its QPS
			out = append(out, [2]string{name, "mean"})
		}
	}
	if len(out) > 0 {
		return out
	}
	return firstMetrics(c, "p95", func(string) bool { return false })
}

// firstMetrics is the (metric, stat) pairs of c's first four metrics in
// name order, skipping those skip names: stat of a distribution, the
// value of a rate.
func firstMetrics(c *analysis.Case, stat string, skip func(name string) bool) [][2]string {
	var out [][2]string
	for _, name := range slices.Sorted(maps.Keys(c.Metrics)) {
		if skip(name) {
			continue
		}
		st := stat
		if c.Metrics[name].Kind == analysis.KindRate {
			st = "value"
		}
		out = append(out, [2]string{name, st})
		if len(out) == 4 {
			break
		}
	}
	return out
}

// batchCase says whether c is a batch benchmark's case (kinds exec and
// io500, suites' batch kinds): its numbers are its command's (a score, a
// bandwidth, a time), and the request figures analysis also gives it (a
// run's e2e, no tokens, runs per second) are not its headline.
func batchCase(c *analysis.Case) bool { return c.Kind == "exec" || c.Kind == "io500" }

// ioScores are an IO500 case's headline: its scores.
var ioScores = []string{"score_total", "score_bandwidth", "score_metadata"}

// commandHeadline is a batch case's headline: the IO500 scores, or else
// the first four metrics its command's output gave (those analysis does
// not compute from the operations itself).
func commandHeadline(c *analysis.Case) [][2]string {
	var out [][2]string
	for _, name := range ioScores {
		if _, ok := c.Metrics[name]; ok {
			out = append(out, [2]string{name, "mean"})
		}
	}
	if len(out) > 0 {
		return out
	}
	return firstMetrics(c, "mean", analysis.Computed)
}

// headlineRows are c's headline numbers (headlineMetrics) as table rows
// with verdict.
func headlineRows(c *analysis.Case, verdict string) []row {
	var rows []row
	for _, h := range headlineMetrics(c) {
		m := c.Metrics[h[0]]
		v, _ := m.Stat(h[1])
		rows = append(rows, row{metric: h[0] + "." + h[1], value: analysis.FormatValue(v, m.Unit), reference: "—", verdict: verdict})
	}
	return rows
}

func buildTable(in *Input) *tableModel {
	tm := &tableModel{benchmarks: in.benchmarks(), rows: map[string][]row{}}
	for _, b := range tm.benchmarks {
		for _, c := range b.Cases {
			var refs []int
			for _, e := range c.Errors {
				tm.notes = append(tm.notes, footnote{len(tm.notes) + 1, c.ID, "error", e})
				refs = append(refs, len(tm.notes))
			}
			for _, w := range c.Warnings {
				tm.notes = append(tm.notes, footnote{len(tm.notes) + 1, c.ID, "warning", w})
				refs = append(refs, len(tm.notes))
			}
			for _, l := range c.Labels {
				tm.notes = append(tm.notes, footnote{len(tm.notes) + 1, c.ID, "label " + l.Name, labelText(l)})
				refs = append(refs, len(tm.notes))
			}
			if ch := incomparable(c); ch != nil {
				tm.notes = append(tm.notes, footnote{len(tm.notes) + 1, c.ID, "incomparable", incomparableNote(ch)})
				refs = append(refs, len(tm.notes))
			}
			var rows []row
			for _, ch := range c.Checks {
				value := analysis.FormatValue(ch.Value, ch.Unit)
				if ch.Metric == "" || valueless(ch) {
					// A whole-case check ("no baseline") has no value of its
					// own; a threshold on a metric not measured has none.
					value = "—"
				}
				rows = append(rows, row{
					metric:    checkLabel(ch),
					value:     value,
					reference: checkReference(ch),
					delta:     checkDelta(ch),
					verdict:   verdictText(ch.Verdict),
					why:       explain(c, ch),
				})
			}
			if len(rows) > 0 && !slices.ContainsFunc(c.Checks, func(ch analysis.Check) bool { return ch.Metric != "" }) &&
				c.Verdict != analysis.Error && c.Verdict != analysis.Skipped {
				// Only whole-case checks ("no baseline"): the case's numbers
				// still show, before them.
				rows = append(headlineRows(c, ""), rows...)
			}
			if len(rows) == 0 {
				switch c.Verdict {
				case analysis.Error, analysis.Skipped:
					rows = append(rows, row{metric: "—", value: "—", reference: "—", verdict: verdictText(c.Verdict)})
				default:
					rows = headlineRows(c, verdictText(analysis.NoBaseline))
				}
			}
			if len(rows) == 0 {
				rows = append(rows, row{metric: "—", value: "—", reference: "—", verdict: verdictText(c.Verdict)})
			} else if c.Verdict == analysis.Error || len(c.Errors) > 0 {
				// Checks of a case that also had execution errors: say so once.
				rows = append(rows, row{metric: "execution", value: "—", reference: "—", verdict: verdictText(analysis.Error)})
			}
			rows = append(rows, labelRows(c)...)
			for i := range rows {
				rows[i].caseID, rows[i].caseLabel = c.ID, caseLabel(c)
			}
			rows[0].notes = refs
			tm.rows[b.Name] = append(tm.rows[b.Name], rows...)
		}
	}
	return tm
}

// labelRows are a case's saturation labels as table rows: the label and
// the test that found it, and what it does (warning, fail or error); the
// evidence is in the label's footnote.
func labelRows(c *analysis.Case) []row {
	var rows []row
	for _, l := range c.Labels {
		rows = append(rows, row{metric: "label: " + l.Name + " (" + l.Test + ")", value: "—", reference: "—", verdict: verdictText(labelVerdict(l))})
	}
	return rows
}

// labelVerdict is the verdict word a label shows: fail or error when the
// suite made it one, else warning.
func labelVerdict(l analysis.Label) string {
	switch l.Effect {
	case analysis.EffectFail:
		return analysis.Fail
	case analysis.EffectError:
		return analysis.Error
	}
	return "warning"
}

// labelText is a label's footnote: its evidence, the test and what the
// suite made it do.
func labelText(l analysis.Label) string {
	effect := l.Effect
	if effect == "" {
		effect = analysis.EffectWarn
	}
	return fmt.Sprintf("%s (test %s; saturation = %s)", l.Evidence, l.Test, effect)
}

// mdLinkTarget makes a relative path a markdown link target: characters
// that would end or break it are percent-encoded.
func mdLinkTarget(s string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "[", "%5B", "]", "%5D", "\n", "").Replace(s)
}

// mdEscape makes a string from a suite or server inert in markdown: it
// folds it onto one line and backslash-escapes the characters that start
// HTML, code, links or emphasis (go-pretty escapes '|').
func mdEscape(s string) string {
	s = oneLine(s, 300)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '<', '>', '`', '*', '[', ']', '&', '#', '!', '~', '$':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func noteRefs(refs []int) string {
	if len(refs) == 0 {
		return ""
	}
	var parts []string
	for _, n := range refs {
		parts = append(parts, fmt.Sprintf("[%d]", n))
	}
	return " " + strings.Join(parts, "")
}

// WriteMarkdown writes report.md: a header with the suite and its verdict,
// per benchmark a table of case, metric, value, baseline, delta and verdict
// (✅ pass, ❌ fail or regression, ⚠️ error, ~ inconclusive, 🆕 no
// baseline), the warnings and errors as numbered footnotes, and the verdict
// line. It suits a GitLab MR comment and a job log alike.
func WriteMarkdown(w io.Writer, in *Input) error {
	s := in.Summary
	tm := buildTable(in)
	var b strings.Builder
	fmt.Fprintf(&b, "# benchrun: %s — %s\n\n", mdEscape(s.Suite), runHeadline(s).text())
	if in.Manifest != nil && in.Manifest.Description != "" {
		b.WriteString(mdEscape(in.Manifest.Description) + "\n\n")
	}
	if line := in.baselineLine(); line != "" {
		if job := in.baselineJob(); job != "" {
			line += " Baseline CI job: " + job
		}
		b.WriteString(mdEscape(line) + "\n\n")
	}
	if inc, reason := in.incomplete(); inc {
		msg := "incomplete run"
		if reason != "" {
			msg += " (" + mdEscape(reason) + ")"
		}
		fmt.Fprintf(&b, "> ⚠️ **%s**: cases that did not run are marked skipped.\n\n", msg)
	}
	if n := incomparableCases(s); n > 0 {
		fmt.Fprintf(&b, "> ≠ **%s**: the fingerprint differs from the baseline's (fields in the notes), so those cases were not compared. `--ignore-fingerprint KEY` or `[suite] ignore_fingerprint` compares them anyway.\n\n",
			plural(n, "incomparable baseline", "incomparable baselines"))
	}
	if env := envLine(in); env != "" {
		b.WriteString(mdEscape(env) + "\n\n")
	}
	for _, bm := range tm.benchmarks {
		fmt.Fprintf(&b, "## %s\n\n", mdEscape(bm.Name))
		t := table.NewWriter()
		t.AppendHeader(table.Row{"case", "metric", "value", "baseline", "delta", "verdict", "why"})
		for _, r := range tm.rows[bm.Name] {
			t.AppendRow(table.Row{mdEscape(r.caseLabel) + noteRefs(r.notes), mdEscape(r.metric), r.value, r.reference, r.delta, r.verdict, mdEscape(r.why)})
		}
		b.WriteString(t.RenderMarkdown())
		b.WriteString("\n\n")
		for _, c := range bm.Cases {
			if line := trendLine(c); line != "" {
				fmt.Fprintf(&b, "- %s — %s\n", mdEscape(caseLabel(c)), mdEscape(line))
			}
		}
		if hasTrends(bm.Cases) {
			b.WriteString("\n")
		}
		for _, tt := range telemetryTables(bm.Cases) {
			writeTelemetryMarkdown(&b, tt)
		}
	}
	writeIO500Markdown(&b, in)
	writeEnvironmentMarkdown(&b, in)
	if links := in.links(); len(links) > 0 {
		b.WriteString("Files: ")
		for i, l := range links {
			if i > 0 {
				b.WriteString(" · ")
			}
			fmt.Fprintf(&b, "[%s](%s)", mdEscape(l.Label), mdLinkTarget(l.Href))
		}
		b.WriteString("\n\n")
	}
	if len(tm.notes) > 0 {
		for _, n := range tm.notes {
			fmt.Fprintf(&b, "[%d] %s — %s: %s  \n", n.N, mdEscape(n.CaseID), n.Kind, mdEscape(n.Text))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "**%s**\n", mdEscape(VerdictLine(s)))
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTelemetryMarkdown writes one telemetry table under its title.
func writeTelemetryMarkdown(b *strings.Builder, tt *telemetryTable) {
	fmt.Fprintf(b, "### %s\n\n", mdEscape(tt.Title))
	t := table.NewWriter()
	head := table.Row{}
	for _, h := range tt.Head {
		head = append(head, h)
	}
	t.AppendHeader(head)
	for _, r := range tt.Rows {
		row := table.Row{}
		for _, c := range r {
			row = append(row, mdEscape(c))
		}
		t.AppendRow(row)
	}
	b.WriteString(t.RenderMarkdown())
	fmt.Fprintf(b, "\n\n%s\n\n", mdEscape(tt.Note))
}

// envLine summarises where and with what the run ran, from the manifest.
// writeEnvironmentMarkdown writes the short environment section: the
// services and their versions, the benchrun host's CPU, kernel and GPU,
// the service nodes' GPUs (DCGM, and nvidia-smi in each service's step)
// — the environment rows of report.html
// that the line under the title (envLine) does not give.
func writeEnvironmentMarkdown(b *strings.Builder, in *Input) {
	env, _ := environment(in)
	var rows []kv
	for _, r := range env {
		if strings.HasPrefix(r.Key, "service ") || strings.HasPrefix(r.Key, "CPU") || strings.HasPrefix(r.Key, "GPU") || r.Key == "kernel" {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Environment\n\n")
	for _, r := range rows {
		fmt.Fprintf(b, "- %s: %s\n", mdEscape(r.Key), mdEscape(r.Value))
	}
	b.WriteString("\n")
}

func envLine(in *Input) string {
	m := in.Manifest
	if m == nil {
		return ""
	}
	var parts []string
	if m.BenchrunVersion != "" {
		v := "benchrun " + m.BenchrunVersion
		if m.BenchrunCommit != "" {
			v += " (" + m.BenchrunCommit + ")"
		}
		parts = append(parts, v)
	}
	if m.Host != "" {
		parts = append(parts, "host "+m.Host)
	}
	if m.Slurm != nil {
		sl := "SLURM job " + m.Slurm.JobID
		if len(m.Slurm.Nodes) > 0 {
			sl += " on " + strings.Join(m.Slurm.Nodes, ",")
		}
		parts = append(parts, sl)
	}
	if !m.Start.IsZero() {
		parts = append(parts, "started "+m.Start.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	return strings.Join(parts, " · ")
}

// WriteTerminal writes the concise table for a terminal: one table with
// every case's checks (or headline numbers), the footnotes, and the verdict
// line. With color, verdicts are coloured with ANSI escapes.
func WriteTerminal(w io.Writer, in *Input, color bool) error {
	tm := buildTable(in)
	t := table.NewWriter()
	t.SetStyle(table.StyleLight)
	t.Style().Color = table.ColorOptions{}
	t.AppendHeader(table.Row{"case", "metric", "value", "baseline", "delta", "verdict"})
	for i, bm := range tm.benchmarks {
		if i > 0 {
			t.AppendSeparator()
		}
		prev := ""
		for _, r := range tm.rows[bm.Name] {
			id := ""
			if r.caseID != prev {
				id = oneLine(r.caseID, 60) + noteRefs(r.notes)
				prev = r.caseID
			}
			verdict := r.verdict
			if color {
				verdict = colorFor(verdict).Sprint(verdict)
			}
			t.AppendRow(table.Row{id, oneLine(r.metric, 40), r.value, oneLine(r.reference, 30), r.delta, verdict})
		}
	}
	var b strings.Builder
	b.WriteString(t.Render())
	b.WriteString("\n")
	for _, n := range tm.notes {
		fmt.Fprintf(&b, "[%d] %s — %s: %s\n", n.N, oneLine(n.CaseID, 80), n.Kind, oneLine(n.Text, 200))
	}
	line := VerdictLine(in.Summary)
	if color {
		line = colorFor(classSymbol(runHeadline(in.Summary).Class)).Sprint(line)
	}
	b.WriteString(line + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func colorFor(verdict string) text.Colors {
	switch {
	case strings.HasPrefix(verdict, "✅"):
		return text.Colors{text.FgGreen}
	case strings.HasPrefix(verdict, "❌"):
		return text.Colors{text.FgRed, text.Bold}
	case strings.HasPrefix(verdict, "⚠️"), strings.HasPrefix(verdict, "≠"):
		return text.Colors{text.FgYellow}
	}
	return text.Colors{}
}

// valueless reports whether ch is a failed threshold check without a
// value: its metric or statistic was not measured in the case, and
// analysis left Value 0 with a Detail saying why.
func valueless(ch analysis.Check) bool {
	return ch.Kind == analysis.CheckThreshold && ch.Verdict == analysis.Fail && ch.Value == 0 && ch.Detail != ""
}

// VerdictLine is the last line benchrun prints: the run's verdict (INCOMPLETE
// for a pass of a run cut short) and what caused it, e.g. "benchrun: FAIL — 1 regression (chat/users=8 ttft.p95
// +34.0%)". At most three causes of each kind are named. A failed threshold
// without a value is named by its detail ("metric ttft was not measured in
// this case"). Cases whose baseline comparison could not run follow, so a
// pass without comparison does not read as a clean one: "benchrun: PASS — 2
// cases, 8 checks, 2 cases without baseline", "1 incomparable baseline"
// (fingerprints differ), "1 check without baseline" (the baseline lacks a
// statistic), "1 case with saturation labels" (a saturation label whose
// effect is fail is a cause: "1 saturation label failed (chat/rate=150
// saturated (rate))").
func VerdictLine(s *analysis.Summary) string {
	var regressions, failures, errs, skipped, saturated []string
	checks, noBaseline, incomparable, noBaselineChecks, labelled := 0, 0, 0, 0, 0
	for _, c := range s.Cases {
		if len(c.Labels) > 0 {
			labelled++
		}
		for _, l := range c.Labels {
			if l.Effect == analysis.EffectFail {
				saturated = append(saturated, fmt.Sprintf("%s %s (%s)", c.ID, l.Name, l.Test))
			}
		}
		checks += len(c.Checks)
		caseNoBaseline, caseIncomparable := false, false
		for _, ch := range c.Checks {
			switch ch.Verdict {
			case analysis.Regression:
				regressions = append(regressions, fmt.Sprintf("%s %s %s", c.ID, checkLabel(ch), fmtDelta(ch.Delta)))
			case analysis.Fail:
				switch {
				case ch.Kind == analysis.CheckRegression:
					regressions = append(regressions, fmt.Sprintf("%s %s %s", c.ID, checkLabel(ch), fmtDelta(ch.Delta)))
				case valueless(ch):
					failures = append(failures, fmt.Sprintf("%s %s: %s", c.ID, ch.Name, ch.Detail))
				default:
					failures = append(failures, fmt.Sprintf("%s %s %s %s %s", c.ID, checkLabel(ch), analysis.FormatValue(ch.Value, ch.Unit), negate(ch.Op), analysis.FormatValue(ch.Limit, ch.Unit)))
				}
			case analysis.NoBaseline:
				if ch.Metric == "" {
					caseNoBaseline = true // the case has no baseline entry
				} else {
					noBaselineChecks++ // the baseline lacks this statistic
				}
			case analysis.Incomparable:
				caseIncomparable = true
			}
		}
		if caseNoBaseline {
			noBaseline++
		}
		if caseIncomparable {
			incomparable++
		}
		switch {
		case c.Verdict == analysis.Error || len(c.Errors) > 0:
			errs = append(errs, c.ID)
		case c.Verdict == analysis.Skipped:
			skipped = append(skipped, c.ID)
		}
	}
	var parts []string
	add := func(items []string, one, many string) {
		if len(items) == 0 {
			return
		}
		word := one
		if len(items) > 1 {
			word = many
		}
		shown := items
		more := ""
		if len(shown) > 3 {
			shown, more = shown[:3], fmt.Sprintf(", and %d more", len(items)-3)
		}
		parts = append(parts, fmt.Sprintf("%d %s (%s%s)", len(items), word, oneLine(strings.Join(shown, "; "), 400), more))
	}
	add(regressions, "regression", "regressions")
	add(failures, "threshold failed", "thresholds failed")
	add(saturated, "saturation label failed", "saturation labels failed")
	add(errs, "case with errors", "cases with errors")
	add(skipped, "case skipped", "cases skipped")
	h := runHeadline(s)
	if s.Incomplete && h.Word != "INCOMPLETE" {
		parts = append(parts, "incomplete run")
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d cases, %d checks", len(s.Cases), checks))
	}
	count := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	count(noBaseline, "case without baseline", "cases without baseline")
	count(incomparable, "incomparable baseline", "incomparable baselines")
	count(noBaselineChecks, "check without baseline", "checks without baseline")
	count(labelled, "case with saturation labels", "cases with saturation labels")
	return "benchrun: " + h.Word + " — " + strings.Join(parts, ", ")
}

// negate returns the operator a failed threshold's value stands in to its
// limit ("<" failed means the value is ">=").
func negate(op string) string {
	switch op {
	case "<":
		return "≥"
	case "<=":
		return ">"
	case ">":
		return "≤"
	case ">=":
		return "<"
	case "==":
		return "≠"
	}
	return "vs"
}
