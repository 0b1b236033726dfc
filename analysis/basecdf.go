package analysis

// BaselineCDFPoints is how many steps of percentile a BaselineCDF has
// (its points are at 0, 100/BaselineCDFPoints, ..., 100).
const BaselineCDFPoints = 50

// CDFMetrics are the metrics whose distributions the report draws as
// CDFs, and whose baseline distributions a compared case carries.
var CDFMetrics = []string{MetricTTFT, MetricE2E}

// BaselineCDF is a baseline's distribution of one metric of a case, drawn
// beside the run's own on the report's CDF charts. Label says which
// baseline ("baseline (2025-02-28)"); Points are [value in the metric's
// base unit, percentile 0–100], percentile ascending. Package baselines
// sets it only on a case whose baseline is comparable.
type BaselineCDF struct {
	Label  string       `json:"label"`
	Points [][2]float64 `json:"points"`
}

// NewBaselineCDF is the CDF of h at k+1 evenly spaced percentiles (k ≥
// 1), labelled label; nil when h is empty.
func NewBaselineCDF(label string, h *Histogram, k int) *BaselineCDF {
	if h == nil || h.Count() == 0 || k < 1 {
		return nil
	}
	b := &BaselineCDF{Label: label, Points: make([][2]float64, 0, k+1)}
	for i := 0; i <= k; i++ {
		p := 100 * float64(i) / float64(k)
		b.Points = append(b.Points, [2]float64{h.Percentile(p), p})
	}
	return b
}
