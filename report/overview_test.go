package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// TestOverviewNumbersForEveryCase: a case without checks, without a
// baseline and without any of the key (LLM) metrics still shows its
// headline numbers in the verdict table (golden/overview-other.html).
func TestOverviewNumbersForEveryCase(t *testing.T) {
	s := &analysis.Summary{Suite: "mixed", Verdict: analysis.Pass, Cases: []analysis.Case{
		{ID: "chat/users=1", Benchmark: "chat", Verdict: analysis.Pass, Metrics: map[string]analysis.Metric{
			"ttft": {Kind: analysis.KindDistribution, Unit: "s", Count: 10, P95: 0.2}}},
		{ID: "ior/easy", Benchmark: "ior", Verdict: analysis.Pass, Metrics: map[string]analysis.Metric{
			"ior_easy_write": {Kind: analysis.KindRate, Unit: "bytes/s", Value: 3.5 * (1 << 30)},
			"mdtest_easy":    {Kind: analysis.KindRate, Unit: "ops/s", Value: 12000}}},
		{ID: "io500", Benchmark: "io500", Kind: "io500", Verdict: analysis.Pass, Metrics: batchMetrics(map[string]analysis.Metric{
			"score_total":     {Kind: analysis.KindDistribution, Count: 1, Mean: 1.25},
			"score_bandwidth": {Kind: analysis.KindDistribution, Unit: "bytes/s", Count: 1, Mean: 2 * (1 << 30)},
			"valid":           {Kind: analysis.KindDistribution, Count: 1, Mean: 1, Min: 1, Max: 1}})},
		{ID: "stream", Benchmark: "stream", Kind: "exec", Verdict: analysis.Pass, Metrics: batchMetrics(map[string]analysis.Metric{
			"triad": {Kind: analysis.KindDistribution, Unit: "bytes/s", Count: 1, Mean: 80 * (1 << 30)}})},
	}}
	var b bytes.Buffer
	if err := WriteHTML(&b, &Input{Dir: t.TempDir(), Summary: s}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	i, j := strings.Index(page, `<table id="cases">`), strings.Index(page, "</table>")
	if i < 0 || j < i {
		t.Fatal("no cases table")
	}
	table := page[i : j+len("</table>")]
	if !strings.Contains(table, "<th>other numbers</th>") || !strings.Contains(table, "ior_easy_write 3.5 GiB/s") {
		t.Errorf("the ior case shows no numbers:\n%s", table)
	}
	for _, want := range []string{"score_total.mean 1.25, score_bandwidth.mean 2 GiB/s", "triad.mean 80 GiB/s"} {
		if !strings.Contains(table, want) {
			t.Errorf("a batch case's own numbers (%s) are not shown:\n%s", want, table)
		}
	}
	if strings.Contains(table, "tok/s") || strings.Contains(table, "req/s") {
		t.Errorf("the table shows request figures a batch case's run gave:\n%s", table)
	}
	golden(t, "overview-other.html", []byte(table+"\n"))
}

// batchMetrics adds to a batch case's own metrics the request figures
// analysis gives every case, a run being its one operation: its e2e, no
// tokens, runs per second.
func batchMetrics(own map[string]analysis.Metric) map[string]analysis.Metric {
	own["e2e"] = analysis.Metric{Kind: analysis.KindDistribution, Unit: "s", Count: 1, Mean: 600, P95: 600}
	own["output_tokens_per_second"] = analysis.Metric{Kind: analysis.KindRate, Unit: "tokens/s"}
	own["requests_per_second"] = analysis.Metric{Kind: analysis.KindRate, Unit: "requests/s", Value: 1.0 / 600}
	own["error_rate"] = analysis.Metric{Kind: analysis.KindRate, Unit: "ratio"}
	return own
}

// TestBatchHeadline: a batch case without checks is shown by its
// command's numbers (the IO500 scores; an exec parser's metrics), not by
// the request figures its run also has (e2e, 0 tokens/s).
func TestBatchHeadline(t *testing.T) {
	io := &analysis.Case{Kind: "io500", Metrics: batchMetrics(map[string]analysis.Metric{
		"score_total": {Kind: analysis.KindDistribution}, "score_metadata": {Kind: analysis.KindDistribution},
		"ior_easy_write": {Kind: analysis.KindDistribution}, "valid": {Kind: analysis.KindDistribution}})}
	exec := &analysis.Case{Kind: "exec", Metrics: batchMetrics(map[string]analysis.Metric{
		"triad": {Kind: analysis.KindDistribution}, "copy": {Kind: analysis.KindDistribution}})}
	for _, tt := range []struct {
		c    *analysis.Case
		want string
	}{
		{io, "[[score_total mean] [score_metadata mean]]"},
		{exec, "[[copy mean] [triad mean]]"},
	} {
		if got := fmt.Sprint(headlineMetrics(tt.c)); got != tt.want {
			t.Errorf("%s case: headline %s, want %s", tt.c.Kind, got, tt.want)
		}
	}
}

// TestSweepOneAxisPerFamily: the sweep draws e2e, ttft and itl p99 each
// in its own panel with its own y axis (golden/sweep-axes.txt), not all
// three on one axis where ttft and itl are flat lines.
func TestSweepOneAxisPerFamily(t *testing.T) {
	in := load(t, "nightly")
	var lines []string
	for _, c := range sweepCharts("b0-sweep", in.benchmarks()[0]) {
		var o struct {
			YAxis  []struct{ Name string } `json:"yAxis"`
			Series []struct{ Name string } `json:"series"`
		}
		if err := json.Unmarshal(c.Option, &o); err != nil {
			t.Fatal(err)
		}
		if len(o.YAxis) != 1 || len(o.Series) != 1 {
			t.Errorf("%s: %d y axes, %d series; want one of each", c.ID, len(o.YAxis), len(o.Series))
			continue
		}
		lines = append(lines, fmt.Sprintf("%s: y axis %q, series %q", c.ID, o.YAxis[0].Name, o.Series[0].Name))
	}
	if len(lines) != 3 {
		t.Errorf("%d sweep panels, want 3 (e2e, ttft, itl)", len(lines))
	}
	golden(t, "sweep-axes.txt", []byte(strings.Join(lines, "\n")+"\n"))
}

// TestNumbersBesideWholeCaseChecks: a case whose only checks are about
// the whole case (no baseline yet, an incomparable baseline) still shows
// its numbers in the terminal and markdown tables, not only a row
// without a value.
func TestNumbersBesideWholeCaseChecks(t *testing.T) {
	noBase := analysis.Check{Name: "baseline", Kind: analysis.CheckRegression, Verdict: analysis.NoBaseline, Detail: "no baseline for this case"}
	s := &analysis.Summary{Suite: "first-night", Verdict: analysis.Pass, Cases: []analysis.Case{
		{ID: "io500", Benchmark: "io500", Kind: "io500", Verdict: analysis.Pass, Checks: []analysis.Check{noBase},
			Metrics: batchMetrics(map[string]analysis.Metric{"score_total": {Kind: analysis.KindDistribution, Count: 1, Mean: 1.25}})},
		{ID: "chat/users=1", Benchmark: "chat", Verdict: analysis.Pass, Checks: []analysis.Check{noBase},
			Metrics: map[string]analysis.Metric{"ttft": {Kind: analysis.KindDistribution, Unit: "s", Count: 10, P95: 0.2}}},
	}}
	in := &Input{Dir: t.TempDir(), Summary: s}
	md := string(render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteMarkdown(b, in) }))
	term := string(render(t, in, func(b *bytes.Buffer, in *Input) error { return WriteTerminal(b, in, false) }))
	for _, out := range []string{md, term} {
		for _, want := range []string{"score_total.mean", "1.25", "ttft.p95", "200 ms", "no baseline"} {
			if !strings.Contains(out, want) {
				t.Errorf("lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "output_tokens_per_second") {
			t.Errorf("shows the request figures of a batch case:\n%s", out)
		}
	}
}
