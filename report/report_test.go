package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

func load(t testing.TB, name string) *Input {
	t.Helper()
	in, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// golden compares got with testdata/golden/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./report -update rewrites it)\n--- got ---\n%s", name, got)
	}
}

func render(t *testing.T, in *Input, fn func(*bytes.Buffer, *Input) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := fn(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// skipOrFail skips a test that needs a tool that is missing, loudly, but
// fails it under CI=true, where the tool must be installed.
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s", msg)
	}
	t.Logf("!!! SKIPPED: %s", msg)
	t.Skip(msg)
}

func TestGolden(t *testing.T) {
	for _, fixture := range []string{"nightly", "hostile"} {
		in := load(t, fixture)
		t.Run(fixture, func(t *testing.T) {
			golden(t, fixture+"/report.md", render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteMarkdown(b, in) }))
			golden(t, fixture+"/terminal.txt", render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteTerminal(b, in, false) }))
			golden(t, fixture+"/junit.xml", render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteJUnit(b, in) }))
			golden(t, fixture+"/metrics.txt", render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteMetrics(b, in) }))
			golden(t, fixture+"/cases.csv", render(t, in, func(b *bytes.Buffer, in *Input) error { return ExportStats(b, in, FormatCSV) }))
			golden(t, fixture+"/cases.json", render(t, in, func(b *bytes.Buffer, in *Input) error { return ExportStats(b, in, FormatJSON) }))
			// The summary survives a load and a write unchanged.
			dir := t.TempDir()
			if err := analysis.WriteSummary(dir, in.Summary); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
			golden(t, fixture+"/summary.json", got)
			orig, _ := os.ReadFile(filepath.Join("testdata", fixture, "summary.json"))
			if !bytes.Equal(got, orig) {
				t.Error("summary.json changed in a Load/WriteSummary round trip")
			}
		})
	}
}

func TestTerminalColor(t *testing.T) {
	in := load(t, "nightly")
	plain := string(render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteTerminal(b, in, false) }))
	color := string(render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteTerminal(b, in, true) }))
	if strings.Contains(plain, "\x1b[") {
		t.Error("color=false output has ANSI escapes")
	}
	if !strings.Contains(color, "\x1b[") {
		t.Error("color=true output has no ANSI escapes")
	}
}

func TestVerdictLine(t *testing.T) {
	reg := analysis.Check{Name: "ttft.p95", Kind: "regression", Metric: "ttft", Stat: "p95", Verdict: analysis.Regression, Delta: 0.34}
	thr := analysis.Check{Name: "error_rate.value < 0.01", Kind: "threshold", Metric: "error_rate", Stat: "value", Verdict: analysis.Fail, Value: 0.02, Limit: 0.01, Op: "<", Unit: "ratio"}
	ok := analysis.Check{Name: "ttft.p95", Kind: "regression", Verdict: analysis.Pass}
	noBase := analysis.Check{Name: "baseline", Kind: "regression", Verdict: analysis.NoBaseline, Detail: "no baseline for this case"}
	incomparable := analysis.Check{Name: "baseline", Kind: "regression", Verdict: analysis.Incomparable, Detail: "fingerprint differs: gpu: A100 → H100"}
	noStat := analysis.Check{Name: "itl.p50", Kind: "regression", Metric: "itl", Stat: "p50", Verdict: analysis.NoBaseline, Value: 0.01, Unit: "s", Detail: "the baseline has no itl"}
	unmeasured := analysis.Check{Name: "ttft.p95 < 500ms", Kind: "threshold", Metric: "ttft", Stat: "p95", Verdict: analysis.Fail, Unit: "s", Limit: 0.5, Op: "<",
		Detail: "metric ttft was not measured in this case"}
	tests := []struct {
		name string
		s    analysis.Summary
		want string
	}{
		{"pass", analysis.Summary{Verdict: "pass", Cases: []analysis.Case{{ID: "a", Checks: []analysis.Check{ok, ok}}}},
			"benchrun: PASS — 1 cases, 2 checks"},
		{"regression", analysis.Summary{Verdict: "fail", Cases: []analysis.Case{{ID: "chat/users=8", Checks: []analysis.Check{reg}}}},
			"benchrun: FAIL — 1 regression (chat/users=8 ttft.p95 +34.0%)"},
		{"threshold", analysis.Summary{Verdict: "fail", Cases: []analysis.Case{{ID: "c", Checks: []analysis.Check{thr}}}},
			"benchrun: FAIL — 1 threshold failed (c error_rate 2% ≥ 1%)"},
		{"many", analysis.Summary{Verdict: "fail", Cases: []analysis.Case{{ID: "a", Checks: []analysis.Check{reg, reg, reg, reg}}}},
			"benchrun: FAIL — 4 regressions (a ttft.p95 +34.0%; a ttft.p95 +34.0%; a ttft.p95 +34.0%, and 1 more)"},
		{"error", analysis.Summary{Verdict: "error", Incomplete: true, Cases: []analysis.Case{{ID: "e", Verdict: "error"}, {ID: "s", Verdict: "skipped"}}},
			"benchrun: ERROR — 1 case with errors (e), 1 case skipped (s), incomplete run"},
		{"without baseline", analysis.Summary{Verdict: "pass", Cases: []analysis.Case{{ID: "a", Checks: []analysis.Check{ok, noBase}}, {ID: "b", Checks: []analysis.Check{noBase}}}},
			"benchrun: PASS — 2 cases, 3 checks, 2 cases without baseline"},
		{"incomparable", analysis.Summary{Verdict: "pass", Cases: []analysis.Case{{ID: "a", Checks: []analysis.Check{ok, incomparable}}, {ID: "b", Checks: []analysis.Check{ok, ok}}}},
			"benchrun: PASS — 2 cases, 4 checks, 1 incomparable baseline"},
		{"baseline lacks statistics", analysis.Summary{Verdict: "pass", Cases: []analysis.Case{{ID: "a", Checks: []analysis.Check{ok, noStat, noStat}}}},
			"benchrun: PASS — 1 cases, 3 checks, 2 checks without baseline"},
		{"fail without baseline", analysis.Summary{Verdict: "fail", Cases: []analysis.Case{{ID: "c", Checks: []analysis.Check{thr}}, {ID: "d", Checks: []analysis.Check{noBase}}, {ID: "e", Checks: []analysis.Check{incomparable}}}},
			"benchrun: FAIL — 1 threshold failed (c error_rate 2% ≥ 1%), 1 case without baseline, 1 incomparable baseline"},
		{"threshold without value", analysis.Summary{Verdict: "fail", Cases: []analysis.Case{{ID: "c", Checks: []analysis.Check{unmeasured}}}},
			"benchrun: FAIL — 1 threshold failed (c ttft.p95 < 500ms: metric ttft was not measured in this case)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerdictLine(&tt.s); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// junitDoc mirrors what GitLab reads of junit.xml.
type junitDoc struct {
	Suites []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Time     string `xml:"time,attr"`
		Props    []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name      string  `xml:"name,attr"`
			Classname string  `xml:"classname,attr"`
			Time      string  `xml:"time,attr"`
			Failure   *string `xml:"failure"`
			Error     *string `xml:"error"`
			Skipped   *string `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitContent(t *testing.T) {
	in := load(t, "nightly")
	out := render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteJUnit(b, in) })
	var doc junitDoc
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 2 || doc.Suites[0].Name != "chat" || doc.Suites[1].Name != "embed" {
		t.Fatalf("want suites chat, embed; got %+v", doc.Suites)
	}
	decimal := regexp.MustCompile(`^[0-9]+\.[0-9]{3}$`)
	var failure, errText string
	skipped := 0
	for _, s := range doc.Suites {
		seen := map[string]bool{}
		f, e, k := 0, 0, 0
		for _, c := range s.Cases {
			if seen[c.Name] {
				t.Errorf("duplicate testcase name %q", c.Name)
			}
			seen[c.Name] = true
			if c.Classname != s.Name {
				t.Errorf("%s: classname %q, want %q", c.Name, c.Classname, s.Name)
			}
			if !decimal.MatchString(c.Time) {
				t.Errorf("%s: time %q is not decimal seconds", c.Name, c.Time)
			}
			switch {
			case c.Failure != nil:
				f++
				if strings.HasPrefix(c.Name, "chat/users=8 · ttft.p95") {
					failure = *c.Failure
				}
			case c.Error != nil:
				e++
				errText = *c.Error
			case c.Skipped != nil:
				k++
			}
		}
		if f != s.Failures || e != s.Errors || k != s.Skipped || len(s.Cases) != s.Tests {
			t.Errorf("%s: counts %d/%d/%d/%d, attributes %d/%d/%d/%d", s.Name, len(s.Cases), f, e, k, s.Tests, s.Failures, s.Errors, s.Skipped)
		}
		skipped += k
		if len(s.Props) == 0 {
			t.Errorf("%s: no properties", s.Name)
		}
	}
	for _, want := range []string{"regression", "value: 228.1 ms", "baseline: 170.2 ms", "delta: +34.0%", "tolerance: ±10%", "p-value: 0.0004", "unit: s"} {
		if !strings.Contains(failure, want) {
			t.Errorf("failure text lacks %q:\n%s", want, failure)
		}
	}
	if !strings.Contains(errText, "10 of 95 requests failed") {
		t.Errorf("error text lacks the case's errors: %q", errText)
	}
	// The case that did not run, and the checks that judged nothing
	// (inconclusive, no baseline): never passes.
	if skipped != 3 {
		t.Errorf("%d skipped testcases, want 3 (chat/users=16 · run, chat/users=1 · ttft.p95 inconclusive, embed/users=2 · ttft.p95 no baseline)", skipped)
	}
}

// TestJUnitSchema validates junit.xml against both schemas in
// shared/schemas with xmllint.
func TestJUnitSchema(t *testing.T) {
	for _, fixture := range []string{"nightly", "hostile"} {
		out := render(t, load(t, fixture), func(b *bytes.Buffer, in *Input) error { return WriteJUnit(b, in) })
		validateJUnit(t, fixture, out)
	}
}

// validateJUnit validates a junit.xml against both schemas in
// shared/schemas (or $BENCHRUN_SCHEMAS) with xmllint; without xmllint or
// the schemas it skips, loudly, except under CI=true.
func validateJUnit(t *testing.T, name string, out []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		skipOrFail(t, "xmllint not installed (apt-get install -y libxml2-utils)")
	}
	schemas, _ := filepath.Glob("../../shared/schemas/junit-*.xsd")
	if env := os.Getenv("BENCHRUN_SCHEMAS"); env != "" {
		schemas, _ = filepath.Glob(filepath.Join(env, "junit-*.xsd"))
	}
	if len(schemas) == 0 {
		skipOrFail(t, "no JUnit schemas found in ../../shared/schemas (set BENCHRUN_SCHEMAS)")
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, xsd := range schemas {
		cmd := exec.Command(xmllint, "--noout", "--schema", xsd, path)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s against %s: %v\n%s", name, filepath.Base(xsd), err, b)
		}
	}
}

func TestMetricsFormat(t *testing.T) {
	for _, fixture := range []string{"nightly", "hostile"} {
		out := string(render(t, load(t, fixture), func(b *bytes.Buffer, in *Input) error { return WriteMetrics(b, in) }))
		if !strings.HasSuffix(out, "\n# EOF\n") {
			t.Errorf("%s: does not end with # EOF", fixture)
		}
		sample := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)\{benchmark="(?:[^"\\\n]|\\[\\"n])*",case="(?:[^"\\\n]|\\[\\"n])*",stat="[a-z0-9]+"\} (?:[-+]?[0-9.]+(?:e[-+]?[0-9]+)?|NaN|[+-]Inf)$`)
		meta := regexp.MustCompile(`^# (TYPE|UNIT|HELP) ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$`)
		var families []string
		typed := map[string]bool{}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for _, l := range lines[:len(lines)-1] {
			if m := meta.FindStringSubmatch(l); m != nil {
				if m[1] == "TYPE" {
					families = append(families, m[2])
					typed[m[2]] = true
				}
				continue
			}
			m := sample.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("%s: bad line %q", fixture, l)
				continue
			}
			if !typed[m[1]] {
				t.Errorf("%s: sample before its # TYPE: %q", fixture, l)
			}
		}
		for i := 1; i < len(families); i++ {
			if families[i-1] >= families[i] {
				t.Errorf("%s: families not sorted: %s before %s", fixture, families[i-1], families[i])
			}
		}
		if fixture == "nightly" && !strings.Contains(out, `benchrun_ttft_seconds{benchmark="chat",case="chat/users=8",stat="p95"} `) {
			t.Error("no benchrun_ttft_seconds p95 sample for chat/users=8")
		}
	}
}

func TestExport(t *testing.T) {
	in := load(t, "nightly")
	for _, format := range []string{FormatCSV, FormatJSON} {
		dir := t.TempDir()
		paths, err := Export(in, dir, format)
		if err != nil {
			t.Fatal(err)
		}
		if len(paths) != 2 {
			t.Fatalf("%s: wrote %v", format, paths)
		}
		b, err := os.ReadFile(paths[1])
		if err != nil {
			t.Fatal(err)
		}
		// 120 + 200 + 300 + 100 samples, warm-up included.
		const want = 720
		switch format {
		case FormatCSV:
			recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != want+1 {
				t.Errorf("csv: %d rows, want %d + header", len(recs)-1, want)
			}
			if !strings.Contains(strings.Join(recs[0], ","), "server.load_duration") {
				t.Errorf("csv header lacks server columns: %v", recs[0])
			}
		case FormatJSON:
			n := 0
			for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
				var r sampleRow
				if err := json.Unmarshal(l, &r); err != nil {
					t.Fatal(err)
				}
				if r.Case == "" {
					t.Fatal("sample row without case id")
				}
				n++
			}
			if n != want {
				t.Errorf("jsonl: %d rows, want %d", n, want)
			}
		}
	}
	if _, err := Export(in, t.TempDir(), "xlsx"); err == nil {
		t.Error("unknown format accepted")
	}
	if got := csvText("=HYPERLINK(1)"); got != "'=HYPERLINK(1)" {
		t.Errorf("csvText did not defuse a formula: %q", got)
	}
}

func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	writeNightly(t, dir)
	in, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteAll(in); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{HTMLFile, MarkdownFile, JUnitFile, MetricsFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("Load of an empty directory succeeded")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "summary.json"), []byte("{"), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "summary.json") {
		t.Errorf("malformed summary: %v", err)
	}
	// Without a manifest the summary still renders.
	dir = t.TempDir()
	src, _ := os.ReadFile("testdata/nightly/summary.json")
	os.WriteFile(filepath.Join(dir, "summary.json"), src, 0o644)
	in, err := Load(dir)
	if err != nil || in.Manifest != nil {
		t.Fatalf("Load without manifest: %v", err)
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, in); err != nil {
		t.Fatal(err)
	}
	if err := WriteJUnit(&b, in); err != nil {
		t.Fatal(err)
	}
}

func TestNoBaselineRowHasNoValue(t *testing.T) {
	nb := analysis.Check{Name: "baseline", Kind: "regression", Verdict: analysis.NoBaseline, Detail: "no baseline for this case"}
	in := &Input{Summary: &analysis.Summary{Suite: "s", Verdict: "pass",
		Cases: []analysis.Case{{ID: "chat", Benchmark: "chat", Verdict: "pass", Checks: []analysis.Check{nb}}}}}
	var b strings.Builder
	if err := WriteMarkdown(&b, in); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "| chat | baseline | — |") {
		t.Errorf("the no-baseline row shows a value:\n%s", b.String())
	}
}

// TestThresholdWithoutValue: a threshold on a metric the case did not
// measure shows no value in the tables, and its detail in the verdict line,
// instead of "0 s ≥ 500 ms".
func TestThresholdWithoutValue(t *testing.T) {
	unmeasured := analysis.Check{Name: "ttft.p95 < 500ms", Kind: "threshold", Metric: "ttft", Stat: "p95", Verdict: analysis.Fail, Unit: "s", Limit: 0.5, Op: "<",
		Detail: "metric ttft was not measured in this case"}
	in := &Input{Summary: &analysis.Summary{Suite: "s", Verdict: "fail",
		Cases: []analysis.Case{{ID: "chat", Benchmark: "chat", Verdict: "fail", Checks: []analysis.Check{unmeasured}}}}}
	md := string(render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteMarkdown(b, in) }))
	term := string(render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteTerminal(b, in, false) }))
	for name, out := range map[string]string{"markdown": md, "terminal": term} {
		if strings.Contains(out, "0 s") {
			t.Errorf("%s shows a value of 0 s for an unmeasured metric:\n%s", name, out)
		}
		if !strings.Contains(out, "500ms: metric ttft was not measured in this case)") {
			t.Errorf("%s verdict line lacks the detail:\n%s", name, out)
		}
	}
	if !strings.Contains(md, "| chat | ttft.p95 | — | < 500 ms |") {
		t.Errorf("markdown row:\n%s", md)
	}
	junit := string(render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteJUnit(b, in) }))
	if strings.Contains(junit, "value: 0 s") || !strings.Contains(junit, "value: none (not measured)") {
		t.Errorf("junit.xml shows a value for an unmeasured metric:\n%s", junit)
	}
}

// TestExportSamplesAgreeWithAnalysis checks that the samples export and the
// summary derive the same per-operation values: pooled over a case's
// measured rows, ttfb, ttft, e2e and queue_delay are exactly the values of
// analysis's distributions, and every row has an e2e (a failed operation's
// is to its completion).
func TestExportSamplesAgreeWithAnalysis(t *testing.T) {
	in := load(t, "nightly")
	var b bytes.Buffer
	if err := ExportSamples(&b, in, FormatJSON); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string][]float64{} // case → metric → values
	add := func(id, metric string, v *float64) {
		if v == nil {
			return
		}
		if got[id] == nil {
			got[id] = map[string][]float64{}
		}
		got[id][metric] = append(got[id][metric], *v)
	}
	dec := json.NewDecoder(&b)
	for dec.More() {
		var r struct {
			Case   string   `json:"case"`
			Warmup bool     `json:"warmup"`
			Error  string   `json:"error"`
			TTFB   *float64 `json:"ttfb_s"`
			TTFT   *float64 `json:"ttft_s"`
			E2E    *float64 `json:"e2e_s"`
			QDelay *float64 `json:"queue_delay_s"`
		}
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		if r.E2E == nil {
			t.Fatalf("case %s: a row without e2e_s", r.Case)
		}
		if r.Warmup || r.Error == results.ErrCanceled {
			continue
		}
		add(r.Case, analysis.MetricQueueDelay, r.QDelay)
		if r.Error != "" {
			continue
		}
		add(r.Case, analysis.MetricTTFB, r.TTFB)
		add(r.Case, analysis.MetricTTFT, r.TTFT)
		add(r.Case, analysis.MetricE2E, r.E2E)
	}
	if len(got) == 0 {
		t.Fatal("no samples exported")
	}
	for _, c := range in.Summary.Cases {
		info := in.caseInfo(c.ID)
		if info == nil {
			t.Fatalf("case %s not in the manifest", c.ID)
		}
		_, raw, err := analysis.SummarizeCase(*info, []string{in.samplesPath(c.ID)}, analysis.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, metric := range []string{analysis.MetricQueueDelay, analysis.MetricTTFB, analysis.MetricTTFT, analysis.MetricE2E} {
			var want []float64
			if d := raw.Dists[metric]; d != nil {
				want = d.Sorted()
			}
			vs := got[c.ID][metric]
			slices.Sort(vs)
			if !slices.Equal(vs, want) {
				t.Errorf("case %s: exported %s (%d values) differs from analysis's (%d values)", c.ID, metric, len(vs), len(want))
			}
		}
	}
}
