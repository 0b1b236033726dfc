package report

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// The IO500 section of the reports: for each io500 case, the phase table
// (value, time, validity, and which score a phase counts in) and the score
// bars (bandwidth, metadata, total; extended when present) against the
// baseline. Everything comes from summary.json and the manifest's
// settings (results.SettingIO500Phases): nothing is recomputed.

// io500Case is one io500 case as the reports show it.
type io500Case struct {
	ID     string
	Phases []io500Phase
	Scores []scoreBar
}

type io500Phase struct {
	Name, Kind, Value, Time, Valid, Score string
	Invalid                               bool
}

// scoreBar is one score with its baseline: Width and BaseWidth are the
// bars' lengths in percent of the larger of the two.
type scoreBar struct {
	Name, Value, Baseline, Delta string
	Width, BaseWidth             float64
	Class                        string // verdict class of its regression check, "" without one
}

// phaseMetric is the metric name of an io500 phase (see
// results.SettingIO500Phases).
func phaseMetric(phase string) string {
	return strings.ToLower(strings.ReplaceAll(phase, "-", "_"))
}

// io500Cases returns the io500 cases of in that have phases, in summary
// order.
func io500Cases(in *Input) []io500Case {
	var out []io500Case
	for i := range in.Summary.Cases {
		c := &in.Summary.Cases[i]
		info := in.caseInfo(c.ID)
		if info == nil || info.Settings[results.SettingIO500Phases] == "" {
			continue
		}
		ic := io500Case{ID: c.ID}
		scored := strings.Split(info.Settings[results.SettingIO500Scored], ",")
		for _, p := range strings.Split(info.Settings[results.SettingIO500Phases], ",") {
			ic.Phases = append(ic.Phases, phaseRowOf(c, p, scored))
		}
		for _, s := range []struct{ metric, label string }{
			{"score_bandwidth", "bandwidth"}, {"score_metadata", "metadata"}, {"score_total", "total"},
			{"scorex_bandwidth", "extended bandwidth"}, {"scorex_metadata", "extended metadata"}, {"scorex_total", "extended total"},
		} {
			if b, ok := scoreBarOf(c, s.metric, s.label); ok {
				ic.Scores = append(ic.Scores, b)
			}
		}
		out = append(out, ic)
	}
	return out
}

func phaseRowOf(c *analysis.Case, phase string, scored []string) io500Phase {
	name := phaseMetric(phase)
	row := io500Phase{Name: phase, Value: "—", Time: "—", Valid: "—", Kind: "metadata", Score: "extended only"}
	if m, ok := c.Metrics[name]; ok {
		row.Value = analysis.FormatValue(m.Mean, m.Unit)
		if m.Unit == analysis.UnitBytesPerSecond {
			row.Kind = "bandwidth"
		}
	}
	if m, ok := c.Metrics[name+"_time"]; ok {
		row.Time = analysis.FormatValue(m.Mean, m.Unit)
	}
	if m, ok := c.Metrics[name+"_valid"]; ok {
		switch {
		case m.Min == 1:
			row.Valid = "valid"
		case m.Max == 0:
			row.Valid, row.Invalid = "INVALID", true
		default:
			row.Valid, row.Invalid = "valid in "+analysis.FormatValue(m.Mean, analysis.UnitRatio)+" of runs", true
		}
	}
	for _, s := range scored {
		if s == phase {
			row.Score = row.Kind
		}
	}
	if strings.HasPrefix(phase, "mdworkbench-create") || strings.HasPrefix(phase, "mdworkbench-delete") || phase == "ior-rnd4K-easy-read" {
		if row.Score == "extended only" {
			row.Score = "unscored"
		}
	}
	return row
}

func scoreBarOf(c *analysis.Case, metric, label string) (scoreBar, bool) {
	m, ok := c.Metrics[metric]
	if !ok {
		return scoreBar{}, false
	}
	b := scoreBar{Name: label, Value: analysis.FormatValue(m.Mean, m.Unit), Baseline: "no baseline", Delta: "", Width: 100}
	for _, ck := range c.Checks {
		if ck.Kind != analysis.CheckRegression || ck.Metric != metric {
			continue
		}
		b.Class = verdictClass(ck.Verdict)
		if ck.Baseline == 0 && ck.Verdict == analysis.NoBaseline {
			break
		}
		b.Baseline = analysis.FormatValue(ck.Baseline, m.Unit)
		b.Delta = fmt.Sprintf("%+.1f%%", ck.Delta*100)
		top := math.Max(m.Mean, ck.Baseline)
		if top > 0 {
			b.Width, b.BaseWidth = 100*m.Mean/top, 100*ck.Baseline/top
		}
	}
	return b, true
}

// textBar draws width percent of n cells.
func textBar(width float64, n int) string {
	full := int(math.Round(width / 100 * float64(n)))
	full = max(0, min(n, full))
	return strings.Repeat("█", full) + strings.Repeat("░", n-full)
}

// writeIO500Markdown appends the IO500 section to b.
func writeIO500Markdown(b *strings.Builder, in *Input) {
	for _, ic := range io500Cases(in) {
		fmt.Fprintf(b, "### IO500 %s\n\n", mdEscape(ic.ID))
		b.WriteString("| phase | kind | value | time | valid | score |\n|---|---|---:|---:|---|---|\n")
		for _, p := range ic.Phases {
			valid := p.Valid
			if p.Invalid {
				valid = "**" + valid + "**"
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", p.Name, p.Kind, p.Value, p.Time, valid, p.Score)
		}
		b.WriteString("\nScores against the baseline:\n\n```\n")
		for _, s := range ic.Scores {
			fmt.Fprintf(b, "%-20s this run %s %s\n", s.Name, textBar(s.Width, 30), s.Value)
			if s.Delta != "" {
				fmt.Fprintf(b, "%-20s baseline %s %s (%s)\n", "", textBar(s.BaseWidth, 30), s.Baseline, s.Delta)
			} else {
				fmt.Fprintf(b, "%-20s baseline %s\n", "", s.Baseline)
			}
		}
		b.WriteString("```\n\n")
	}
}

var io500Tmpl = template.Must(template.New("io500").Parse(`{{range .}}
<section class="io500" id="io500-{{.ID}}">
<h3>IO500 {{.ID}}</h3>
<table class="phases"><thead><tr><th>phase</th><th>kind</th><th>value</th><th>time</th><th>valid</th><th>score</th></tr></thead><tbody>
{{- range .Phases}}
<tr><td>{{.Name}}</td><td>{{.Kind}}</td><td class="num">{{.Value}}</td><td class="num">{{.Time}}</td><td>{{if .Invalid}}<span class="badge error">{{.Valid}}</span>{{else}}{{.Valid}}{{end}}</td><td>{{.Score}}</td></tr>
{{- end}}
</tbody></table>
<div class="scores">
{{- range .Scores}}
<div class="score"><span class="label">{{.Name}}</span>
<div class="bar now" style="width:{{printf "%.1f" .Width}}%">{{.Value}}</div>
<div class="bar base" style="width:{{printf "%.1f" .BaseWidth}}%">baseline {{.Baseline}}{{if .Delta}} ({{.Delta}}){{end}}</div></div>
{{- end}}
</div>
</section>
{{- end}}`))

// io500HTML is the IO500 section of report.html.
func io500HTML(in *Input) (template.HTML, error) {
	cs := io500Cases(in)
	if len(cs) == 0 {
		return "", nil
	}
	var b strings.Builder
	if err := io500Tmpl.Execute(&b, cs); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}
