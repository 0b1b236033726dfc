package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// TestCDFBaseline: the TTFT CDF chart draws, dashed, the baseline's
// distribution of a comparable case, named with the baseline's date; a
// case whose baseline is incomparable gets no baseline curve even when
// its summary carries one (a hand-edited or older summary), and the
// subtitle names it. The chart option is a golden file.
func TestCDFBaseline(t *testing.T) {
	raws := map[string]*analysis.Raw{}
	cdf := &analysis.BaselineCDF{Label: "baseline (2025-02-28)"}
	for i := 0; i <= 4; i++ {
		cdf.Points = append(cdf.Points, [2]float64{0.04 + 0.01*float64(i), 25 * float64(i)})
	}
	var cases []analysis.Case
	for i, id := range []string{"chat/users=1", "chat/users=4"} {
		d := analysis.NewDist(0)
		for j := range 100 {
			d.Add(0.05 + 0.001*float64(j) + 0.02*float64(i))
		}
		raws[id] = &analysis.Raw{Dists: map[string]*analysis.Dist{analysis.MetricTTFT: d}}
		cases = append(cases, analysis.Case{ID: id, Benchmark: "chat", BaselineCDFs: map[string]*analysis.BaselineCDF{analysis.MetricTTFT: cdf}})
	}
	cases[1].Checks = []analysis.Check{{Name: "baseline", Kind: analysis.CheckRegression, Verdict: analysis.Incomparable, Detail: "fingerprint differs: gpu: A100 → H100"}}
	bm := benchmark{Name: "chat", Cases: []*analysis.Case{&cases[0], &cases[1]}}
	c := cdfChart("b0-cdf-ttft", "ttft", bm, raws, analysis.MetricTTFT)
	if c == nil {
		t.Fatal("no chart")
	}
	var opt struct {
		Title  struct{ Subtext string } `json:"title"`
		Series []struct {
			Name      string
			LineStyle *struct{ Type, Color string } `json:"lineStyle"`
		} `json:"series"`
	}
	if err := json.Unmarshal(c.Option, &opt); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range opt.Series {
		names = append(names, s.Name)
		if strings.Contains(s.Name, "baseline") && (s.LineStyle == nil || s.LineStyle.Type != "dashed") {
			t.Errorf("baseline series %q is not dashed", s.Name)
		}
	}
	if len(opt.Series) != 3 {
		t.Fatalf("series %+v, want 3", opt.Series)
	}
	if c0, c1 := opt.Series[0].LineStyle, opt.Series[1].LineStyle; c0 == nil || c1 == nil || c0.Color != c1.Color || opt.Series[2].LineStyle.Color == c0.Color {
		t.Errorf("a case and its baseline do not share a colour, or the next case has it: %+v", opt.Series)
	}
	if got := strings.Join(names, " | "); got != "users=1 | users=1 · baseline (2025-02-28) | users=4" {
		t.Errorf("series %q, want users=1, its baseline, users=4 without its (incomparable) baseline", got)
	}
	if !strings.Contains(opt.Title.Subtext, "baseline not drawn (incomparable): users=4") {
		t.Errorf("subtitle %+v does not say users=4's baseline is left out", opt.Title)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, c.Option, "", "  "); err != nil {
		t.Fatal(err)
	}
	golden(t, "cdf-baseline.json", append(pretty.Bytes(), '\n'))
}
