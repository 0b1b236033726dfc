package analysis

import "math"

// DefaultTrendRuns is how many of a suite's latest runs a trend shows.
const DefaultTrendRuns = 30

// HistoryTrend is one key statistic of a case over the latest runs of its suite's
// history (this run last): the values, the baseline band of its
// regression check, and the change points found over the runs shown.
// Reports draw it; they compute nothing from it.
type HistoryTrend struct {
	Metric string    `json:"metric"` // e.g. "ttft"
	Stat   string    `json:"stat"`   // e.g. "p95", "value"
	Unit   string    `json:"unit,omitempty"`
	Better string    `json:"better,omitempty"` // "higher" or "lower"
	Runs   []string  `json:"runs"`             // RFC 3339 UTC starts, oldest first
	Values []float64 `json:"values"`           // base units, one per run
	// Baseline and Tolerance are the band of the case's regression check
	// of this statistic in this run (baseline × (1 ± tolerance)); 0 when
	// it had no comparable baseline (a baseline of 0, as an error rate's
	// often is, is not drawn as a band either).
	Baseline  float64 `json:"baseline,omitempty"`
	Tolerance float64 `json:"tolerance,omitempty"`
	// ChangePoints are the steps of Values (ChangePoints, seed 1); each
	// Index is into Runs.
	ChangePoints []ChangePoint `json:"change_points,omitempty"`
}

// BandLow and BandHigh are the edges of the baseline band; both are the
// baseline when the check has no tolerance.
func (t *HistoryTrend) BandLow() float64  { return t.Baseline * (1 - t.Tolerance) }
func (t *HistoryTrend) BandHigh() float64 { return t.Baseline * (1 + t.Tolerance) }

// AddTrend adds to c the trend of its statistic metric.stat over runs and
// values (oldest first, this run's value last), keeping the last n of them
// (n ≤ 0: DefaultTrendRuns). The baseline band is taken from c's regression
// check of that statistic when it was compared; change points are searched
// over the values kept. Non-finite values are left out. A trend of fewer
// than two runs is not added: there is nothing to draw.
func (c *Case) AddTrend(metric, stat, unit, better string, runs []string, values []float64, n int) {
	if n <= 0 {
		n = DefaultTrendRuns
	}
	t := HistoryTrend{Metric: metric, Stat: stat, Unit: unit, Better: better}
	for i, v := range values {
		if i < len(runs) && !math.IsNaN(v) && !math.IsInf(v, 0) {
			t.Runs = append(t.Runs, runs[i])
			t.Values = append(t.Values, v)
		}
	}
	if len(t.Values) > n {
		t.Runs, t.Values = t.Runs[len(t.Runs)-n:], t.Values[len(t.Values)-n:]
	}
	if len(t.Values) < 2 {
		return
	}
	for _, ch := range c.Checks {
		if ch.Kind == CheckRegression && ch.Metric == metric && ch.Stat == stat &&
			ch.Verdict != NoBaseline && ch.Verdict != Incomparable {
			t.Baseline, t.Tolerance = ch.Baseline, ch.Tolerance
			break
		}
	}
	t.ChangePoints = ChangePoints(t.Values, ChangePointOptions{Seed: 1})
	c.Trends = append(c.Trends, t)
}
