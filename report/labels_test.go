package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// TestSaturationLabelsShown: a label and its evidence reach every output,
// and a label whose effect is fail is a failure in JUnit and a cause in
// the verdict line.
func TestSaturationLabelsShown(t *testing.T) {
	for _, effect := range []string{analysis.EffectWarn, analysis.EffectFail} {
		t.Run(effect, func(t *testing.T) {
			c := analysis.Case{ID: "chat/rate=150", Benchmark: "chat", Metrics: map[string]analysis.Metric{}, Checks: []analysis.Check{},
				Labels: []analysis.Label{{Name: analysis.LabelSaturated, Test: analysis.TestRate, Effect: effect,
					Evidence: "achieved 12 requests/s of 150 requests/s offered"}}}
			c.Rollup()
			sum := &analysis.Summary{Suite: "s", Cases: []analysis.Case{c}}
			sum.Rollup()
			in := &Input{Dir: t.TempDir(), Summary: sum}
			outputs := map[string]func(*bytes.Buffer) error{
				"markdown": func(b *bytes.Buffer) error { return WriteMarkdown(b, in) },
				"terminal": func(b *bytes.Buffer) error { return WriteTerminal(b, in, false) },
				"html":     func(b *bytes.Buffer) error { return WriteHTML(b, in) },
				"junit":    func(b *bytes.Buffer) error { return WriteJUnit(b, in) },
			}
			for name, write := range outputs {
				var b bytes.Buffer
				if err := write(&b); err != nil {
					t.Fatal(err)
				}
				out := b.String()
				if !strings.Contains(out, "achieved 12 requests/s of 150 requests/s offered") {
					t.Errorf("%s lacks the evidence:\n%.3000s", name, out)
				}
				switch name {
				case "markdown", "terminal":
					if !strings.Contains(out, "label: saturated (rate)") || !strings.Contains(out, "label saturated") {
						t.Errorf("%s lacks the label row or footnote:\n%s", name, out)
					}
				case "html":
					if !strings.Contains(out, "saturation labels") {
						t.Errorf("html lacks the labels column")
					}
				case "junit":
					if !strings.Contains(out, `name="chat/rate=150 · label.saturated.rate" value="`+effect+`: achieved`) || !strings.Contains(out, "&#xA;chat/rate=150: saturated: achieved") { // a system-out line after the verdict line
						t.Errorf("junit lacks the property or system-out:\n%s", out)
					}
					if failed := strings.Contains(out, `type="saturation"`); failed != (effect == analysis.EffectFail) {
						t.Errorf("junit saturation failure %v with effect %s:\n%s", failed, effect, out)
					}
				}
			}
			line := VerdictLine(sum)
			if effect == analysis.EffectFail && (sum.Verdict != analysis.Fail || !strings.Contains(line, "1 saturation label failed (chat/rate=150 saturated (rate))")) {
				t.Errorf("verdict %s, line %q", sum.Verdict, line)
			}
			if effect == analysis.EffectWarn && (sum.Verdict != analysis.Pass || !strings.Contains(line, "1 case with saturation labels")) {
				t.Errorf("verdict %s, line %q", sum.Verdict, line)
			}
		})
	}
}
