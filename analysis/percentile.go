package analysis

import (
	"math"
)

// Percentile returns the p-th percentile (p in 0–100) of sorted, which must
// be in ascending order, by linear interpolation between the closest ranks
// (numpy's default "linear" method): with h = (n−1)·p/100, the result is
// sorted[⌊h⌋] + (h−⌊h⌋)·(sorted[⌊h⌋+1] − sorted[⌊h⌋]).
//
// It is the one percentile definition of benchrun: every report and every
// threshold uses it. It returns NaN when sorted is empty or p is outside
// [0, 100] or NaN.
func Percentile(sorted []float64, p float64) float64 {
	return percentileOf(len(sorted), func(k int) float64 { return sorted[k] }, p)
}

// percentileOf applies Percentile's definition to n ordered values given
// by at (the k-th smallest, from 0), so the exact and histogram paths share
// one implementation.
func percentileOf(n int, at func(k int) float64, p float64) float64 {
	if n == 0 || !(p >= 0 && p <= 100) {
		return math.NaN()
	}
	h := float64(n-1) * p / 100
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return at(n - 1)
	}
	frac := h - float64(lo)
	a := at(lo)
	if frac == 0 {
		return a
	}
	b := at(lo + 1)
	return a + frac*(b-a)
}

// ciRanks returns the 0-based ranks lo and hi of the order statistics that
// bound a distribution-free confidence interval for the p-th percentile (p in
// 0–100) of n samples at confidence level conf: with B ~ Binomial(n, p/100)
// the number of samples below the true percentile, P(X(lo) ≤ ξ ≤ X(hi)) =
// P(lo+1 ≤ B ≤ hi) ≥ conf, each tail holding at most (1−conf)/2. ok is
// false when n is too small for such an interval to exist (the p99 of 100
// samples, for example).
func ciRanks(n int, p, conf float64) (lo, hi int, ok bool) {
	q := p / 100
	if n <= 0 || !(q > 0 && q < 1) || !(conf > 0 && conf < 1) {
		return 0, 0, false
	}
	tail := (1 - conf) / 2
	mean := float64(n) * q
	sd := math.Sqrt(mean * (1 - q))
	// Beyond 12 standard deviations plus a margin the binomial mass is far
	// below float64 resolution of the tails we need.
	from := max(0, int(math.Floor(mean-12*sd-20)))
	to := min(n, int(math.Ceil(mean+12*sd+20)))
	lq, lr := math.Log(q), math.Log1p(-q)
	lgn, _ := math.Lgamma(float64(n) + 1)
	cdf := 0.0 // F(k) = P(B ≤ k), mass below from is negligible
	l, u := -1, -1
	if from > 0 {
		l = from // F(from−1) is negligible
	}
	for k := from; k <= to; k++ {
		a, _ := math.Lgamma(float64(k) + 1)
		b, _ := math.Lgamma(float64(n-k) + 1)
		cdf += math.Exp(lgn - a - b + float64(k)*lq + float64(n-k)*lr)
		// 1-based order statistic j = k+1 is a valid lower end when
		// F(j−1) = F(k) ≤ tail; keep the largest.
		if cdf <= tail {
			l = k + 1
		}
		// Upper end: the smallest j with F(j−1) ≥ 1−tail, i.e. j = k+1.
		if u < 0 && cdf >= 1-tail {
			u = k + 1
		}
	}
	if l < 1 || u < 1 || u > n {
		return 0, 0, false
	}
	return l - 1, u - 1, true
}
