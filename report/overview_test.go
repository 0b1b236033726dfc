package report

import (
	"bytes"
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
