package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// honestRun is a passing run whose first case could not be compared (its
// baseline's fingerprint differs), whose second has an inconclusive and a
// passing regression check and a warning, and whose third has no
// baseline; incomplete makes it a run the user stopped.
func honestRun(incomplete bool) *Input {
	thr := analysis.Check{Name: "ttft.p95 < 500ms", Kind: analysis.CheckThreshold, Metric: "ttft", Stat: "p95", Verdict: analysis.Pass, Value: 0.1, Unit: "s", Limit: 0.5, Op: "<"}
	incomparable := analysis.Check{Name: "baseline", Kind: analysis.CheckRegression, Verdict: analysis.Incomparable,
		Detail: "fingerprint differs: cpu: Xeon 6338 → EPYC 7763, gpu: A100 → H100"}
	inconclusive := analysis.Check{Name: "ttft.p95", Kind: analysis.CheckRegression, Metric: "ttft", Stat: "p95", Verdict: analysis.Inconclusive,
		Value: 0.104, Baseline: 0.1, Delta: 0.04, Tolerance: 0.02, PValue: 0.4, Unit: "s", Detail: "not significant (p=0.4 ≥ 0.01)"}
	pass := analysis.Check{Name: "e2e.p95", Kind: analysis.CheckRegression, Metric: "e2e", Stat: "p95", Verdict: analysis.Pass,
		Value: 1, Baseline: 1, Tolerance: 0.1, PValue: 1, Unit: "s"}
	noBase := analysis.Check{Name: "baseline", Kind: analysis.CheckRegression, Verdict: analysis.NoBaseline, Detail: "no baseline for this case"}
	s := &analysis.Summary{Suite: "honest", Verdict: analysis.Pass, Incomplete: incomplete, Cases: []analysis.Case{
		{ID: "chat/a", Benchmark: "chat", Verdict: analysis.Pass, Seconds: 10, Checks: []analysis.Check{thr, incomparable}},
		{ID: "chat/b", Benchmark: "chat", Verdict: analysis.Pass, Seconds: 10, Checks: []analysis.Check{inconclusive, pass},
			Warnings: []string{"samples/chat%2Fb.jsonl:7: last line cut short (no newline, does not decode): dropped"}},
		{ID: "chat/c", Benchmark: "chat", Verdict: analysis.Pass, Seconds: 10, Checks: []analysis.Check{noBase}},
	}}
	m := &results.Manifest{Suite: "honest", Host: "h", Start: time.Date(2025, 3, 4, 1, 0, 0, 0, time.UTC)}
	if incomplete {
		m.Incomplete, m.Reason = true, results.Interrupted
	}
	return &Input{Dir: "testdata/none", Manifest: m, Summary: s}
}

func allOutputs(t *testing.T, in *Input) (term, md, html, junit string) {
	t.Helper()
	term = string(render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteTerminal(b, in, true) }))
	md = string(render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteMarkdown(b, in) }))
	html = string(render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteHTML(b, in) }))
	junit = string(render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteJUnit(b, in) }))
	return
}

const green = "\x1b[32m"

// lastLine is the terminal's verdict line.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestIncomparableIsNotGreen: a pass with an incomparable baseline is
// shown as such in the terminal, markdown, HTML and JUnit, with the
// fingerprint fields that differ, and never green.
func TestIncomparableIsNotGreen(t *testing.T) {
	term, md, html, junit := allOutputs(t, honestRun(false))
	fields := "cpu: Xeon 6338 → EPYC 7763, gpu: A100 → H100"

	if l := lastLine(term); strings.Contains(l, green) || !strings.Contains(l, "1 incomparable baseline") {
		t.Errorf("terminal verdict line is green or does not say why: %q", l)
	}
	if !strings.Contains(term, "≠ incomparable") || !strings.Contains(term, "incomparable: baseline not compared, fingerprint differs: "+fields) {
		t.Errorf("terminal does not show the incomparable baseline with its fields:\n%s", term)
	}

	if !strings.Contains(md, "# benchrun: honest — ⚠️ pass, 1 incomparable baseline\n") || strings.Contains(md, "✅ pass\n") {
		t.Errorf("markdown title:\n%s", md)
	}
	if !strings.Contains(md, "> ≠ **1 incomparable baseline**") || !strings.Contains(md, fields) {
		t.Errorf("markdown lacks the banner or the differing fields:\n%s", md)
	}

	for _, want := range []string{`class="badge big warn" id="verdict">pass<`, `id="incomparable"`, `<span class="badge warn">incomparable</span>`, fields} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(html, `class="badge big ok"`) {
		t.Error("report.html shows the run green")
	}

	skipped := junitSkipped(t, junit)
	for name, want := range map[string]string{
		"chat/a · baseline": "incomparable baseline: baseline not compared, fingerprint differs: " + fields,
		"chat/b · ttft.p95": "ttft.p95 inconclusive: +4.0% vs baseline (tolerance 2%): not significant",
		"chat/c · baseline": "no baseline: no baseline for this case",
	} {
		if got, ok := skipped[name]; !ok || !strings.HasPrefix(got, want) {
			t.Errorf("junit %s: skipped message %q (skipped: %v), want it to start %q", name, got, ok, want)
		}
	}
	if _, ok := skipped["chat/b · e2e.p95"]; ok {
		t.Error("a passing regression check is skipped in junit.xml")
	}
	if !strings.Contains(junit, "warning: chat/b: samples/chat%2Fb.jsonl:7: last line cut short") {
		t.Errorf("junit.xml system-out lacks the case warning:\n%s", junit)
	}
	validateJUnit(t, "incomparable", []byte(junit))
}

// junitSkipped maps each skipped testcase to its message.
func junitSkipped(t *testing.T, junit string) map[string]string {
	t.Helper()
	var doc struct {
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(junit), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Skipped != nil {
				out[c.Name] = c.Skipped.Message
			}
		}
	}
	return out
}

// TestIncompleteHeadline: a run the user stopped reads INCOMPLETE, not
// PASS, in every output.
func TestIncompleteHeadline(t *testing.T) {
	term, md, html, junit := allOutputs(t, honestRun(true))
	if l := lastLine(term); strings.Contains(l, green) || !strings.Contains(l, "benchrun: INCOMPLETE — ") || strings.Contains(l, "PASS") {
		t.Errorf("terminal verdict line: %q", l)
	}
	if !strings.Contains(md, "# benchrun: honest — ⚠️ incomplete\n") || !strings.Contains(md, "**benchrun: INCOMPLETE — ") || strings.Contains(md, "PASS") {
		t.Errorf("markdown:\n%s", md)
	}
	if !strings.Contains(html, `class="badge big warn" id="verdict">incomplete<`) || !strings.Contains(html, "benchrun: INCOMPLETE — ") {
		t.Error("report.html does not head the run INCOMPLETE")
	}
	if !strings.Contains(junit, "<system-out>benchrun: INCOMPLETE — ") || !strings.Contains(junit, "incomplete run: interrupted") {
		t.Errorf("junit.xml system-out:\n%s", junit)
	}
	// A failed run cut short stays FAIL: that is the stronger word.
	in := honestRun(true)
	in.Summary.Verdict = analysis.Fail
	if l := VerdictLine(in.Summary); !strings.HasPrefix(l, "benchrun: FAIL — ") || !strings.Contains(l, "incomplete run") {
		t.Errorf("failed incomplete run: %q", l)
	}
}

// TestJUnitFailureMessage: a failed check's message says by how much.
func TestJUnitFailureMessage(t *testing.T) {
	for _, tc := range []struct {
		ch   analysis.Check
		want string
	}{
		{analysis.Check{Name: "ttft.p95", Kind: analysis.CheckRegression, Metric: "ttft", Stat: "p95", Verdict: analysis.Regression, Value: 0.1234, Baseline: 0.1, Delta: 0.234, Tolerance: 0.1, Unit: "s"},
			"ttft.p95 +23.4% vs baseline (tolerance 10%)"},
		{analysis.Check{Name: "error_rate", Kind: analysis.CheckRegression, Metric: "error_rate", Stat: "value", Verdict: analysis.Regression, Value: 0.05, Baseline: 0.01, Delta: 0.04, Tolerance: 0.01, Unit: "ratio"},
			"error_rate +4% vs baseline (tolerance 1%)"},
		{analysis.Check{Name: "error_rate.value < 0.01", Kind: analysis.CheckThreshold, Metric: "error_rate", Stat: "value", Verdict: analysis.Fail, Value: 0.1053, Limit: 0.01, Op: "<", Unit: "ratio"},
			"error_rate 10.53% ≥ 1% (threshold error_rate.value < 0.01)"},
		{analysis.Check{Name: "itl.p50", Kind: analysis.CheckRegression, Metric: "itl", Stat: "p50", Verdict: analysis.Regression, Baseline: 0.01, Unit: "s", Detail: "itl was not measured in this run, but the baseline has it"},
			"itl.p50 regression: itl was not measured in this run, but the baseline has it"},
	} {
		if got := failureMessage(tc.ch); got != tc.want {
			t.Errorf("failureMessage(%s) = %q, want %q", tc.ch.Name, got, tc.want)
		}
	}
}
