package baselines

import (
	"testing"
	"time"
)

// TestSeriesUnitChange: a statistic whose unit (or direction) changed
// between runs is not one series: only the runs since the change are in
// it, so no trend or change point compares values in different units.
func TestSeriesUnitChange(t *testing.T) {
	rec := func(run string, v float64, unit, better string) Record {
		return Record{Run: run, Cases: map[string]map[string]Value{"c": {"m.value": {Value: v, Unit: unit, Better: better}}}}
	}
	h := History{
		rec("2026-11-01T00:00:00Z", 0.2, "s", "lower"),
		rec("2026-11-02T00:00:00Z", 0.2, "s", "lower"),
		rec("2026-11-03T00:00:00Z", 200, "bytes", "lower"),
		rec("2026-11-04T00:00:00Z", 210, "bytes", "lower"),
		rec("2026-11-05T00:00:00Z", 0.9, "bytes", "higher"),
		rec("2026-11-06T00:00:00Z", 0.8, "bytes", "higher"),
	}
	s := h.Series()
	if len(s) != 1 {
		t.Fatalf("series %+v: want one", s)
	}
	if got := s[0]; got.Unit != "bytes" || got.Better != "higher" || len(got.Values) != 2 || got.Values[0] != 0.9 || got.Runs[0] != "2026-11-05T00:00:00Z" {
		t.Errorf("series %+v: want the last two runs, bytes, higher", got)
	}
	if s := h[:2].Series(); len(s) != 1 || len(s[0].Values) != 2 {
		t.Errorf("one unit throughout: %+v, want both runs", s)
	}
}

// TestSeriesFingerprintChange: runs of a case on another model or machine
// (its fingerprint changed) start the series again, so a trend never joins
// numbers that a baseline comparison would call incomparable; records
// without fingerprints (written before they were kept) join either side.
func TestSeriesFingerprintChange(t *testing.T) {
	rec := func(run string, v float64, fp string) Record {
		r := Record{Run: run, Cases: map[string]map[string]Value{"c": {"ttft.p50": {Value: v, Unit: "s", Better: "lower"}}}}
		if fp != "" {
			r.Fingerprints = map[string]string{"c": fp}
		}
		return r
	}
	a := fingerprintDigest(map[string]string{"model": "llama-8b", "gpu": "A100"})
	b := fingerprintDigest(map[string]string{"model": "llama-70b", "gpu": "A100"})
	if a == "" || a == b || a != fingerprintDigest(map[string]string{"gpu": "A100", "model": "llama-8b"}) {
		t.Fatalf("digests %q %q: want stable, distinct", a, b)
	}
	h := History{
		rec("2026-11-01T00:00:00Z", 0.10, ""),
		rec("2026-11-02T00:00:00Z", 0.11, a),
		rec("2026-11-03T00:00:00Z", 0.10, a),
		rec("2026-11-04T00:00:00Z", 0.50, b),
		rec("2026-11-05T00:00:00Z", 0.52, ""),
	}
	s := h.Series()
	if len(s) != 1 || len(s[0].Values) != 2 || s[0].Values[0] != 0.50 || s[0].Runs[1] != "2026-11-05T00:00:00Z" {
		t.Errorf("series %+v: want the runs since the fingerprint changed", s)
	}
	if s := h[:3].Series(); len(s) != 1 || len(s[0].Values) != 3 {
		t.Errorf("one fingerprint (and a record without): %+v, want all three runs", s)
	}
}

// TestRecordOfFingerprints: a run's record keeps each measured case's
// fingerprint digest, and none for a case that was not measured.
func TestRecordOfFingerprints(t *testing.T) {
	m, sum := historyRun(time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC), 0.1)
	fp := map[string]string{"model": "llama-8b"}
	for i := range sum.Cases {
		sum.Cases[i].Fingerprint = fp
	}
	rec := RecordOf(m, sum, keys)
	if got := rec.Fingerprints; len(got) != 1 || got["chat/users=8"] != fingerprintDigest(fp) {
		t.Errorf("fingerprints %v: want the measured case's digest only", got)
	}
}
