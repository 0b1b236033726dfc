package analysis

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Change-point detection over a history of nightly values: E-divisive
// means (Matteson & James 2014, the method Apache Otava uses) with a
// permutation significance test, applied by binary segmentation.
//
// For a segment x[lo:hi] and each split τ (both sides at least
// MinSegment long) the divergence of the two sides is
//
//	Q(τ) = m·n/(m+n) · ( 2/(m·n)·Σ|a−b| − Σ_{a<a'}|a−a'|/C(m,2) − Σ_{b<b'}|b−b'|/C(n,2) )
//
// (a on the left, m of them; b on the right, n). The split with the
// largest Q is a candidate; its significance is the share of Permutations
// random reorderings of the segment whose own largest Q is at least as
// large ((k+1)/(R+1)). A candidate with p ≤ Alpha is a change point, and
// both sides are searched again. |a−b| makes the test two-sided and
// sensitive to a step in either direction (a 90% "improvement" is found
// like a 15% slowdown).

// ChangePointOptions tune ChangePoints. The zero value uses the defaults.
type ChangePointOptions struct {
	// Alpha is the significance level of the permutation test; 0 means
	// DefaultChangePointAlpha.
	Alpha float64
	// Permutations is the number of random reorderings per test; 0 means
	// DefaultPermutations.
	Permutations int
	// MinSegment is the fewest values on each side of a split; 0 means
	// DefaultMinSegment.
	MinSegment int
	// Seed seeds the permutations, for deterministic answers.
	Seed uint64
}

// Defaults of ChangePointOptions.
const (
	DefaultChangePointAlpha = 0.01
	DefaultPermutations     = 199
	DefaultMinSegment       = 3
)

// ChangePoint is a step in a series: the values from Index on differ from
// those before it.
type ChangePoint struct {
	Index  int     `json:"index"`   // the first value after the step (0-based)
	PValue float64 `json:"p_value"` // of the permutation test
	Before float64 `json:"before"`  // mean of the segment before the step (up to the previous change point)
	After  float64 `json:"after"`   // mean of the segment after it (up to the next change point)
	// Delta is the relative change of the mean, (After−Before)/|Before|;
	// After−Before when Before is 0.
	Delta float64 `json:"delta"`
}

// ChangePoints returns the change points of xs in order of Index; none
// when xs is shorter than 2·MinSegment.
func ChangePoints(xs []float64, o ChangePointOptions) []ChangePoint {
	if o.Alpha <= 0 {
		o.Alpha = DefaultChangePointAlpha
	}
	if o.Permutations <= 0 {
		o.Permutations = DefaultPermutations
	}
	if o.MinSegment <= 0 {
		o.MinSegment = DefaultMinSegment
	}
	o.MinSegment = max(o.MinSegment, 2) // a side's within-distance needs a pair
	r := rand.New(rand.NewPCG(o.Seed, 0x6368616e6765))
	type found struct {
		at int
		p  float64
	}
	var cps []found
	var split func(lo, hi int)
	split = func(lo, hi int) {
		seg := xs[lo:hi]
		at, q := bestSplit(seg, o.MinSegment)
		if at < 0 || q <= 0 {
			return
		}
		p := permutationPValue(seg, q, o, r)
		if p > o.Alpha {
			return
		}
		cps = append(cps, found{lo + at, p})
		split(lo, lo+at)
		split(lo+at, hi)
	}
	split(0, len(xs))
	sort.Slice(cps, func(i, j int) bool { return cps[i].at < cps[j].at })
	out := make([]ChangePoint, len(cps))
	for i, c := range cps {
		lo, hi := 0, len(xs)
		if i > 0 {
			lo = cps[i-1].at
		}
		if i+1 < len(cps) {
			hi = cps[i+1].at
		}
		before, after := meanOf(xs[lo:c.at]), meanOf(xs[c.at:hi])
		d := after - before
		if before != 0 {
			d /= math.Abs(before)
		}
		out[i] = ChangePoint{Index: c.at, PValue: c.p, Before: before, After: after, Delta: d}
	}
	return out
}

// bestSplit returns the split of xs with the largest Q and that Q; -1 when
// xs is too short to split.
func bestSplit(xs []float64, minSeg int) (int, float64) {
	n := len(xs)
	if n < 2*minSeg {
		return -1, 0
	}
	// Start with everything on the right; move one value left at a time,
	// keeping the three sums of distances up to date in O(n) per move.
	var within, between, right float64 // left pairs, cross pairs, right pairs
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			right += math.Abs(xs[i] - xs[j])
		}
	}
	best, bestQ := -1, math.Inf(-1)
	for t := 0; t < n-minSeg; t++ {
		// Move xs[t] from the right side to the left.
		var toLeft, toRight float64
		for i := 0; i < t; i++ {
			toLeft += math.Abs(xs[i] - xs[t])
		}
		for j := t + 1; j < n; j++ {
			toRight += math.Abs(xs[t] - xs[j])
		}
		within += toLeft
		between += toRight - toLeft
		right -= toRight
		m, k := float64(t+1), float64(n-t-1)
		if t+1 < minSeg {
			continue
		}
		e := 2*between/(m*k) - within/(m*(m-1)/2) - right/(k*(k-1)/2)
		if q := m * k / (m + k) * e; q > bestQ {
			best, bestQ = t+1, q
		}
	}
	return best, bestQ
}

// permutationPValue is the share of random reorderings of xs whose best
// split is at least q: (count+1)/(R+1).
func permutationPValue(xs []float64, q float64, o ChangePointOptions, r *rand.Rand) float64 {
	perm := append([]float64(nil), xs...)
	count := 0
	for range o.Permutations {
		r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		if _, pq := bestSplit(perm, o.MinSegment); pq >= q {
			count++
		}
	}
	return float64(count+1) / float64(o.Permutations+1)
}

func meanOf(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
