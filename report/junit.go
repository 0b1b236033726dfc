package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/benchrun/benchrun/analysis"
)

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

// junitSuite follows the child order and the required attributes of the
// strict Ant schema (properties, testcases, system-out, system-err), which
// the lenient Jenkins one also accepts.
type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Package    string          `xml:"package,attr"`
	ID         int             `xml:"id,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties junitProperties `xml:"properties"` // required, even when empty
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out"`
	SystemErr  string          `xml:"system-err"`
}

type junitProperties struct {
	List []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitMessage `xml:"skipped"`
	Error     *junitMessage `xml:"error"`
	Failure   *junitMessage `xml:"failure"`
}

type junitMessage struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// xmlClean drops the characters XML 1.0 cannot carry (control characters
// other than tab, newline and carriage return; surrogates; U+FFFE/U+FFFF)
// and invalid UTF-8, so a hostile server message cannot make junit.xml
// unreadable. encoding/xml escapes the rest.
func xmlClean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20:
			return -1
		case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF, r > 0x10FFFF:
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// xmlToken is xmlClean for attributes of type xs:token: one line, single
// spaces.
func xmlToken(s string) string { return strings.Join(strings.Fields(xmlClean(s)), " ") }

// seconds renders a duration in decimal seconds with millisecond precision
// and never an exponent, as the JUnit schemas and GitLab want.
func seconds(s float64) string {
	if !(s > 0) || s > 1e12 {
		return "0.000"
	}
	return strconv.FormatFloat(s, 'f', 3, 64)
}

// checkText is the body of a failed or passed check: everything a reader
// needs, because GitLab shows the element text and ignores its message.
func checkText(c *analysis.Case, ch analysis.Check) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s\n", c.ID, checkLabel(ch), strings.ReplaceAll(ch.Verdict, "_", " "))
	fmt.Fprintf(&b, "check: %s (%s)\n", ch.Name, ch.Kind)
	if valueless(ch) || ch.Metric == "" {
		b.WriteString("value: none (not measured)\n")
	} else {
		fmt.Fprintf(&b, "value: %s (%s %s)\n", analysis.FormatValue(ch.Value, ch.Unit), analysis.FormatNumber(ch.Value), ch.Unit)
	}
	switch {
	case ch.Kind == analysis.CheckThreshold || ch.Op != "":
		fmt.Fprintf(&b, "limit: %s %s (%s %s)\n", ch.Op, analysis.FormatValue(ch.Limit, ch.Unit), analysis.FormatNumber(ch.Limit), ch.Unit)
	case ch.Verdict == analysis.NoBaseline || ch.Verdict == analysis.Incomparable:
		b.WriteString("baseline: none compared\n") // no numbers to show: Detail says why
	default:
		fmt.Fprintf(&b, "baseline: %s (%s %s)\n", analysis.FormatValue(ch.Baseline, ch.Unit), analysis.FormatNumber(ch.Baseline), ch.Unit)
		fmt.Fprintf(&b, "delta: %s\n", fmtDelta(ch.Delta))
		fmt.Fprintf(&b, "tolerance: ±%s%%\n", analysis.FormatNumber(ch.Tolerance*100))
		fmt.Fprintf(&b, "p-value: %s\n", analysis.FormatNumber(ch.PValue))
	}
	fmt.Fprintf(&b, "unit: %s\n", ch.Unit)
	if ch.Detail != "" {
		fmt.Fprintf(&b, "detail: %s\n", ch.Detail)
	}
	return xmlClean(b.String())
}

// checkProperties lists a check's numbers as testsuite properties.
func checkProperties(name string, ch analysis.Check) []junitProperty {
	p := func(k, v string) junitProperty { return junitProperty{xmlToken(name + "." + k), xmlClean(v)} }
	value := analysis.FormatNumber(ch.Value)
	if valueless(ch) {
		value = "" // not measured: no number to chart
	}
	props := []junitProperty{p("verdict", ch.Verdict), p("value", value), p("unit", ch.Unit)}
	if ch.Kind == analysis.CheckThreshold || ch.Op != "" {
		props = append(props, p("op", ch.Op), p("limit", analysis.FormatNumber(ch.Limit)))
	} else {
		props = append(props, p("baseline", analysis.FormatNumber(ch.Baseline)), p("delta", analysis.FormatNumber(ch.Delta)),
			p("tolerance", analysis.FormatNumber(ch.Tolerance)), p("p_value", analysis.FormatNumber(ch.PValue)))
	}
	return props
}

// WriteJUnit writes junit.xml for GitLab: one testsuite per benchmark and
// one testcase per case and check, named "<case id> · <check name>" with
// the benchmark as classname. A failed check is a <failure> whose message
// says by how much ("ttft.p95 +23.4% vs baseline (tolerance 10%)", or the
// value against the threshold) and whose text carries value, limit or
// baseline, delta, tolerance, p-value and unit; a check that judged nothing
// (no baseline, incomparable baseline, inconclusive) is <skipped> with the
// reason, never a pass; a case with execution errors adds an "<case id> ·
// execution" testcase with an <error>; a case that did not run is "<case
// id> · run" <skipped>, as are its checks. Each testsuite's system-out
// holds the run's verdict line (INCOMPLETE for a pass of a run cut short)
// and its cases' warnings. The case's measured seconds go on its first
// testcase, so a suite's time is the sum of its cases'. Numbers are
// repeated as testsuite properties. The file is valid under both schemas
// in shared/schemas.
func WriteJUnit(w io.Writer, in *Input) error {
	host := "unknown"
	stamp := "1970-01-01T00:00:00"
	if m := in.Manifest; m != nil {
		if h := xmlToken(m.Host); h != "" {
			host = h
		}
		if !m.Start.IsZero() {
			stamp = m.Start.UTC().Format("2006-01-02T15:04:05")
		}
	}
	doc := junitSuites{}
	for i, bm := range in.benchmarks() {
		name := xmlToken(bm.Name)
		if name == "" {
			name = "benchmark"
		}
		js := junitSuite{Name: name, Package: name, ID: i, Timestamp: stamp, Hostname: host}
		if ts := caseStamp(bm.Cases); ts != "" {
			js.Timestamp = ts
		}
		seen := map[string]int{}
		unique := func(n string) string {
			n = xmlToken(n)
			seen[n]++
			if k := seen[n]; k > 1 {
				return fmt.Sprintf("%s #%d", n, k)
			}
			return n
		}
		var total float64
		for _, c := range bm.Cases {
			var tcs []junitCase
			skipped := c.Verdict == analysis.Skipped
			if skipped {
				msg := "not run"
				if _, reason := in.incomplete(); reason != "" {
					msg += ": " + reason
				}
				tcs = append(tcs, junitCase{Name: unique(c.ID + " · run"),
					Skipped: &junitMessage{Message: xmlClean(oneLine(msg, 200)), Text: xmlClean(c.ID + ": " + msg)}})
			} else if c.Verdict == analysis.Error || len(c.Errors) > 0 {
				text := c.ID + ": execution error"
				if len(c.Errors) > 0 {
					text = c.ID + ":\n" + strings.Join(c.Errors, "\n")
				}
				first := "execution error"
				if len(c.Errors) > 0 {
					first = oneLine(c.Errors[0], 200)
				}
				tcs = append(tcs, junitCase{Name: unique(c.ID + " · execution"),
					Error: &junitMessage{Message: xmlClean(first), Type: "execution", Text: xmlClean(text)}})
			}
			for _, ch := range c.Checks {
				tc := junitCase{Name: unique(c.ID + " · " + ch.Name)}
				kind := string(ch.Kind)
				if kind == "" {
					kind = "check"
				}
				switch {
				case skipped || ch.Verdict == analysis.Skipped:
					tc.Skipped = &junitMessage{Message: "not run", Text: checkText(c, ch)}
				case checkFailed(ch.Verdict):
					tc.Failure = &junitMessage{Message: xmlClean(oneLine(failureMessage(ch), 200)), Type: kind, Text: checkText(c, ch)}
				case ch.Verdict == analysis.Error:
					tc.Error = &junitMessage{Message: xmlClean(oneLine(checkLabel(ch)+" error", 200)), Type: kind, Text: checkText(c, ch)}
				case notJudged(ch.Verdict):
					tc.Skipped = &junitMessage{Message: xmlClean(oneLine(skipReason(ch), 300)), Text: checkText(c, ch)}
				}
				tcs = append(tcs, tc)
				js.Properties.List = append(js.Properties.List, checkProperties(c.ID+" · "+ch.Name, ch)...)
			}
			ltcs, lprops, lout := labelJUnit(c, unique)
			tcs = append(tcs, ltcs...)
			js.Properties.List = append(js.Properties.List, lprops...)
			js.SystemOut += lout
			if len(tcs) == 0 {
				tcs = append(tcs, junitCase{Name: unique(c.ID + " · run")})
			}
			js.Properties.List = append(js.Properties.List,
				junitProperty{xmlToken(c.ID + " · verdict"), xmlClean(c.Verdict)},
				junitProperty{xmlToken(c.ID + " · seconds"), analysis.FormatNumber(c.Seconds)})
			for j := range tcs {
				tcs[j].Classname = name
				tcs[j].Time = "0.000"
				if j == 0 {
					tcs[j].Time = seconds(c.Seconds)
				}
				switch {
				case tcs[j].Failure != nil:
					js.Failures++
				case tcs[j].Error != nil:
					js.Errors++
				case tcs[j].Skipped != nil:
					js.Skipped++
				}
			}
			total += max(c.Seconds, 0)
			js.Cases = append(js.Cases, tcs...)
		}
		js.Tests = len(js.Cases)
		js.Time = seconds(total)
		js.SystemOut = junitSystemOut(in, bm) + js.SystemOut
		doc.Suites = append(doc.Suites, js)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// labelJUnit renders the saturation labels of case c: a property
// "<case> · label.<name>.<test>" holding the effect and the evidence and a
// line of system-out for each, and a testcase "<case> · <name> (<test>)"
// with a <failure> for each label whose effect is fail (an error effect is
// among the case's execution errors already).
func labelJUnit(c *analysis.Case, unique func(string) string) (tcs []junitCase, props []junitProperty, out string) {
	for _, l := range c.Labels {
		props = append(props, junitProperty{xmlToken(c.ID + " · label." + l.Name + "." + l.Test), xmlClean(l.Effect + ": " + l.Evidence)})
		out += xmlClean(fmt.Sprintf("%s: %s: %s\n", c.ID, l.Name, labelText(l)))
		if l.Effect == analysis.EffectFail && c.Verdict != analysis.Skipped {
			tcs = append(tcs, junitCase{Name: unique(c.ID + " · " + l.Name + " (" + l.Test + ")"),
				Failure: &junitMessage{Message: xmlClean(oneLine(l.Name+" ("+l.Test+"): "+l.Evidence, 200)), Type: "saturation",
					Text: xmlClean(c.ID + ": " + l.Name + ": " + labelText(l) + "\n")}})
		}
	}
	return tcs, props, out
}

// notJudged reports whether a check's verdict judged nothing: JUnit
// shows such a check as skipped, not passed.
func notJudged(v string) bool {
	return v == analysis.NoBaseline || v == analysis.Incomparable || v == analysis.Inconclusive
}

// failureMessage is the message of a failed check: how far off it is,
// "ttft.p95 +23.4% vs baseline (tolerance 10%)" for a regression,
// "error_rate 10.53% ≥ 1% (threshold error_rate < 1%)" for a threshold.
func failureMessage(ch analysis.Check) string {
	label := checkLabel(ch)
	switch {
	case ch.Kind == analysis.CheckThreshold && valueless(ch):
		return label + ": " + ch.Detail
	case ch.Kind == analysis.CheckThreshold || ch.Op != "":
		return fmt.Sprintf("%s %s %s %s (threshold %s)", label, analysis.FormatValue(ch.Value, ch.Unit), negate(ch.Op), analysis.FormatValue(ch.Limit, ch.Unit), ch.Name)
	case ch.Tolerance == 0 && ch.Delta == 0 && ch.Detail != "":
		return label + " " + ch.Verdict + ": " + ch.Detail // not measured in this run
	}
	return fmt.Sprintf("%s %s vs baseline (tolerance %s)", label, deltaWords(ch), toleranceWords(ch))
}

// deltaWords is a regression check's change: relative, or absolute for
// ratios and zero baselines (as its Detail says).
func deltaWords(ch analysis.Check) string {
	if ch.Unit == analysis.UnitRatio || ch.Baseline == 0 {
		sign := "+"
		if ch.Delta < 0 {
			sign = "-"
		}
		return sign + analysis.FormatValue(math.Abs(ch.Delta), ch.Unit)
	}
	return fmtDelta(ch.Delta)
}

func toleranceWords(ch analysis.Check) string {
	if ch.Unit == analysis.UnitRatio || ch.Baseline == 0 {
		return analysis.FormatValue(ch.Tolerance, ch.Unit)
	}
	return analysis.FormatNumber(ch.Tolerance*100) + "%"
}

// skipReason is the message of a check that judged nothing.
func skipReason(ch analysis.Check) string {
	label := checkLabel(ch)
	switch ch.Verdict {
	case analysis.Incomparable:
		return "incomparable baseline: " + incomparableNote(&ch)
	case analysis.NoBaseline:
		if ch.Detail != "" {
			return "no baseline: " + ch.Detail
		}
		return "no baseline"
	}
	msg := fmt.Sprintf("%s inconclusive: %s vs baseline (tolerance %s)", label, deltaWords(ch), toleranceWords(ch))
	if ch.Detail != "" {
		msg += ": " + ch.Detail
	}
	return msg
}

// junitSystemOut is a testsuite's system-out: the run's verdict line, why
// it is incomplete, and the warnings of the benchmark's cases.
func junitSystemOut(in *Input, bm benchmark) string {
	var b strings.Builder
	b.WriteString(VerdictLine(in.Summary) + "\n")
	if inc, reason := in.incomplete(); inc {
		b.WriteString("incomplete run")
		if reason != "" {
			b.WriteString(": " + reason)
		}
		b.WriteString("\n")
	}
	for _, c := range bm.Cases {
		for _, w := range c.Warnings {
			fmt.Fprintf(&b, "warning: %s: %s\n", c.ID, w)
		}
	}
	return xmlClean(b.String())
}

// caseStamp returns the earliest case start of cases in the schema's form
// (UTC, no zone, no fraction), or "".
func caseStamp(cases []*analysis.Case) string {
	var first time.Time
	for _, c := range cases {
		t, err := time.Parse(time.RFC3339Nano, c.Start)
		if err == nil && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	if first.IsZero() {
		return ""
	}
	return first.UTC().Format("2006-01-02T15:04:05")
}
