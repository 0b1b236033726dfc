package baselines

import (
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// TestCompareRunBaselineCDFs: a compared case carries its baseline's TTFT
// and e2e distributions for the report's CDF charts, labelled with the
// baseline run's date; a case whose baseline is incomparable carries
// none (its distribution must never be drawn as if comparable); one
// compared past an ignored fingerprint field says so in the label.
func TestCompareRunBaselineCDFs(t *testing.T) {
	hist := func(lo float64) *analysis.Histogram {
		h := &analysis.Histogram{}
		for i := range 200 {
			h.Add(lo + float64(i)*0.001)
		}
		return h
	}
	entry := func(gpu string) *Entry {
		return &Entry{Fingerprint: map[string]string{"gpu": gpu}, Run: Run{Start: "2025-02-28T01:30:00Z"},
			Metrics: map[string]Metric{
				analysis.MetricTTFT: {Metric: analysis.Metric{Kind: analysis.KindDistribution, Unit: analysis.UnitSeconds, Count: 200}, Histogram: hist(0.05)},
				analysis.MetricE2E:  {Metric: analysis.Metric{Kind: analysis.KindDistribution, Unit: analysis.UnitSeconds, Count: 200}, Histogram: hist(0.5)},
			}}
	}
	base := &File{Suite: "s"}
	base.Set("chat", "chat/same", entry("A100"))
	base.Set("chat", "chat/other-gpu", entry("A100"))
	base.Set("chat", "chat/ignored", entry("A100"))
	kase := func(id, gpu string) analysis.Case {
		return analysis.Case{ID: id, Benchmark: "chat", Fingerprint: map[string]string{"gpu": gpu},
			Metrics: map[string]analysis.Metric{analysis.MetricTTFT: {Kind: analysis.KindDistribution, Unit: analysis.UnitSeconds, Count: 200, P50: 0.15}}}
	}
	sum := &analysis.Summary{Cases: []analysis.Case{kase("chat/same", "A100"), kase("chat/other-gpu", "H100"), kase("chat/ignored", "H100"), kase("chat/none", "A100")}}
	CompareRun(sum, nil, base, func(c *analysis.Case) (CompareOptions, bool) {
		o := CompareOptions{Metrics: []string{"ttft.p50"}}
		if c.ID == "chat/ignored" {
			o.IgnoreFingerprint = []string{"gpu"}
		}
		return o, true
	})
	same, other, ignored, none := sum.Cases[0], sum.Cases[1], sum.Cases[2], sum.Cases[3]
	ttft := same.BaselineCDFs[analysis.MetricTTFT]
	if ttft == nil || same.BaselineCDFs[analysis.MetricE2E] == nil {
		t.Fatalf("comparable baseline: CDFs %v, want ttft and e2e", same.BaselineCDFs)
	}
	if ttft.Label != "baseline (2025-02-28)" {
		t.Errorf("label %q", ttft.Label)
	}
	pts := ttft.Points
	if len(pts) != analysis.BaselineCDFPoints+1 || pts[0][1] != 0 || pts[len(pts)-1][1] != 100 {
		t.Fatalf("points: %d, from %v to %v", len(pts), pts[0], pts[len(pts)-1])
	}
	for i := 1; i < len(pts); i++ {
		if pts[i][0] < pts[i-1][0] {
			t.Errorf("CDF not monotone at %d: %v after %v", i, pts[i], pts[i-1])
		}
	}
	if lo, hi := pts[0][0], pts[len(pts)-1][0]; lo < 0.049 || lo > 0.051 || hi < 0.247 || hi > 0.251 {
		t.Errorf("CDF spans %v–%v s, want the baseline's 0.05–0.249 s", lo, hi)
	}
	if other.Checks[0].Verdict != analysis.Incomparable || other.BaselineCDFs != nil {
		t.Errorf("incomparable baseline: verdict %q, CDFs %v; want incomparable and no CDFs", other.Checks[0].Verdict, other.BaselineCDFs)
	}
	if l := ignored.BaselineCDFs[analysis.MetricTTFT]; l == nil || !strings.Contains(l.Label, "ignored gpu: A100 → H100") {
		t.Errorf("ignored fingerprint field: %+v, want a label naming it", l)
	}
	if none.BaselineCDFs != nil {
		t.Errorf("no baseline: CDFs %v", none.BaselineCDFs)
	}
}
