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
	golden(t, "overview-other.html", []byte(table+"\n"))
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
