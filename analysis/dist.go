package analysis

import (
	"math"
	"slices"
)

// DefaultExactLimit is the number of values a Dist keeps exactly before it
// switches to a Histogram: 8 MB of float64 per metric.
const DefaultExactLimit = 1_000_000

// CIConfidence is the confidence level of Metric.CI.
const CIConfidence = 0.95

// Dist accumulates the values of one metric with bounded memory: it keeps
// every value until it holds more than its exact limit, then moves them into
// a Histogram (relative error ≤ RelativeError) and keeps counting there.
// Count, Mean, Stddev, Min and Max stay exact either way. NaN and ±Inf are
// ignored. A Dist is not safe for concurrent use.
type Dist struct {
	limit  int
	vals   []float64
	sorted bool
	hist   *Histogram // non-nil once the exact limit was passed

	n        int
	mean, m2 float64 // Welford's running mean and sum of squared deviations
	min, max float64
}

// NewDist returns an empty Dist that keeps up to exactLimit values exactly
// (DefaultExactLimit when exactLimit ≤ 0).
func NewDist(exactLimit int) *Dist {
	if exactLimit <= 0 {
		exactLimit = DefaultExactLimit
	}
	return &Dist{limit: exactLimit}
}

// Add records v.
func (d *Dist) Add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if d.n == 0 || v < d.min {
		d.min = v
	}
	if d.n == 0 || v > d.max {
		d.max = v
	}
	d.n++
	delta := v - d.mean
	d.mean += delta / float64(d.n)
	d.m2 += delta * (v - d.mean)
	if d.hist != nil {
		d.hist.Add(v)
		return
	}
	d.vals = append(d.vals, v)
	d.sorted = false
	if len(d.vals) > d.limit {
		d.spill()
	}
}

// spill moves the exact values into a histogram.
func (d *Dist) spill() {
	d.hist = &Histogram{}
	for _, v := range d.vals {
		d.hist.Add(v)
	}
	d.vals = nil
}

// Merge adds every value of o to d; o is not changed.
func (d *Dist) Merge(o *Dist) {
	if o == nil || o.n == 0 {
		return
	}
	if d.n == 0 {
		d.min, d.max = o.min, o.max
	} else {
		d.min, d.max = min(d.min, o.min), max(d.max, o.max)
	}
	// Chan et al.'s pairwise update of mean and M2.
	n := d.n + o.n
	delta := o.mean - d.mean
	d.m2 += o.m2 + delta*delta*float64(d.n)*float64(o.n)/float64(n)
	d.mean += delta * float64(o.n) / float64(n)
	d.n = n
	if d.hist == nil && o.hist == nil && len(d.vals)+len(o.vals) <= d.limit {
		d.vals = append(d.vals, o.vals...)
		d.sorted = false
		return
	}
	if d.hist == nil {
		d.spill()
	}
	if o.hist != nil {
		d.hist.Merge(o.hist)
	} else {
		for _, v := range o.vals {
			d.hist.Add(v)
		}
	}
}

// Count returns the number of values recorded.
func (d *Dist) Count() int { return d.n }

// Exact reports whether d still holds every value exactly.
func (d *Dist) Exact() bool { return d.hist == nil }

// Mean returns the exact mean, NaN when empty.
func (d *Dist) Mean() float64 {
	if d.n == 0 {
		return math.NaN()
	}
	return d.mean
}

// Stddev returns the exact sample standard deviation (n−1 in the
// denominator), 0 for fewer than two values.
func (d *Dist) Stddev() float64 {
	if d.n < 2 {
		return 0
	}
	return math.Sqrt(d.m2 / float64(d.n-1))
}

// Min returns the exact minimum, 0 when empty.
func (d *Dist) Min() float64 { return d.min }

// Max returns the exact maximum, 0 when empty.
func (d *Dist) Max() float64 { return d.max }

// Sorted returns the values in ascending order while d is exact, nil once
// it has switched to a histogram. The slice belongs to d: do not modify it.
func (d *Dist) Sorted() []float64 {
	if d.hist != nil {
		return nil
	}
	if !d.sorted {
		slices.Sort(d.vals)
		d.sorted = true
	}
	return d.vals
}

// Ordered returns the k-th smallest value (k from 0): exact while d is
// exact, within RelativeError after. It panics if k is out of range.
func (d *Dist) Ordered(k int) float64 {
	if d.hist != nil {
		return d.hist.Ordered(k)
	}
	return d.Sorted()[k]
}

// Percentile returns the p-th percentile (p in 0–100) by Percentile's
// definition: exact while d is exact, within RelativeError after. NaN when
// empty.
func (d *Dist) Percentile(p float64) float64 {
	if d.hist == nil {
		return Percentile(d.Sorted(), p)
	}
	return d.hist.Percentile(p)
}

// BinCounts counts d's values in n ≥ 1 bins of width w > 0 from 0: bin i
// holds [i·w, (i+1)·w), the first bin also every value below 0 and the
// last every value from (n−1)·w up. Exact while d is exact; after, each
// value counts at its histogram bucket (within RelativeError).
func (d *Dist) BinCounts(w float64, n int) []int {
	counts := make([]int, n)
	bin := func(v float64) int { return min(max(int(v/w), 0), n-1) }
	if d.hist != nil {
		d.hist.each(func(v float64, k uint64) { counts[bin(v)] += int(k) })
		return counts
	}
	for _, v := range d.vals {
		counts[bin(v)]++
	}
	return counts
}

// Histogram returns a new Histogram holding d's values (bucketed).
func (d *Dist) Histogram() *Histogram {
	h := &Histogram{}
	if d.hist != nil {
		h.Merge(d.hist)
		return h
	}
	for _, v := range d.vals {
		h.Add(v)
	}
	return h
}

// Metric summarises d as a distribution metric in unit: count, mean,
// stddev, min, max, the percentiles of DistStats and, where n allows, their
// distribution-free CIConfidence intervals from order statistics.
func (d *Dist) Metric(unit string) Metric {
	m := Metric{Kind: KindDistribution, Unit: unit, Count: d.n}
	if d.n == 0 {
		return m
	}
	m.Mean, m.Stddev, m.Min, m.Max = d.mean, d.Stddev(), d.min, d.max
	for _, st := range distStats {
		if st.p == 0 {
			continue
		}
		*st.of(&m) = d.Percentile(st.p)
		if lo, hi, ok := ciRanks(d.n, st.p, CIConfidence); ok {
			if m.CI == nil {
				m.CI = map[string][2]float64{}
			}
			m.CI[st.name] = [2]float64{d.Ordered(lo), d.Ordered(hi)}
		}
	}
	return m
}
