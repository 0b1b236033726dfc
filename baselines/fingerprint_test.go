package baselines

import (
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
)

// TestCompareRunIgnoreFingerprint: a baseline whose fingerprint differs is
// incomparable, naming each field as "key: baseline → run"; ignoring those
// fields compares it, with a warning on the case that names what was
// ignored.
func TestCompareRunIgnoreFingerprint(t *testing.T) {
	base := writeRun(t, 1, "", false)
	cur := writeRun(t, 1, "", false)
	run := func(ignore []string) *analysis.Summary {
		bs, braw, err := analysis.SummarizeDir(base, analysis.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cs, craw, err := analysis.SummarizeDir(cur, analysis.Options{})
		if err != nil {
			t.Fatal(err)
		}
		bs.Cases[0].Fingerprint = map[string]string{"gpu": "A100", "driver": "550", "model": "m"}
		cs.Cases[0].Fingerprint = map[string]string{"gpu": "H100", "driver": "560", "model": "m"}
		CompareRun(cs, craw, FromRun(bs, braw), func(*analysis.Case) (CompareOptions, bool) {
			return CompareOptions{IgnoreFingerprint: ignore}, true
		})
		cs.Rollup()
		return cs
	}
	c := run(nil).Cases[0]
	if len(c.Checks) != 1 || c.Checks[0].Verdict != analysis.Incomparable || c.Checks[0].Detail != "fingerprint differs: driver: 550 → 560, gpu: A100 → H100" {
		t.Fatalf("different fingerprints: checks %+v", c.Checks)
	}
	c = run([]string{"gpu"}).Cases[0]
	if len(c.Checks) != 1 || c.Checks[0].Detail != "fingerprint differs: driver: 550 → 560" {
		t.Fatalf("gpu ignored, driver still differs: checks %+v", c.Checks)
	}
	c = run([]string{"gpu", "driver"}).Cases[0]
	for _, ck := range c.Checks {
		if ck.Verdict == analysis.Incomparable {
			t.Fatalf("both fields ignored, still incomparable: %+v", ck)
		}
	}
	if len(c.Checks) < 2 || !strings.Contains(strings.Join(c.Warnings, "\n"), "compared with the baseline although fingerprint fields differ (ignored): driver: 550 → 560, gpu: A100 → H100") {
		t.Errorf("ignored fields: checks %+v, warnings %q", c.Checks, c.Warnings)
	}
}
