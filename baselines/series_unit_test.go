package baselines

import "testing"

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
