package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
)

// This file holds the significance tests package baselines decides
// regression verdicts with; they see only numbers, never a Case.

// MannWhitney returns the two-sided p-value of the Mann-Whitney U test of
// x against y: exact (by counting arrangements) for small samples without
// ties, else the normal approximation with tie and continuity corrections.
func MannWhitney(x, y []float64) float64 {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return 1
	}
	type obs struct {
		v     float64
		first bool
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	slices.SortFunc(all, func(a, b obs) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	// Midranks; tieTerm = Σ(t³ − t) over tie groups.
	r1, tieTerm := 0.0, 0.0
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].first {
				r1 += rank
			}
		}
		if t := float64(j - i); t > 1 {
			tieTerm += t*t*t - t
		}
		i = j
	}
	u := r1 - float64(n1*(n1+1))/2
	if tieTerm == 0 && n1+n2 <= 40 {
		return exactMWU(n1, n2, int(math.Round(u)))
	}
	n := float64(n1 + n2)
	mu := float64(n1*n2) / 2
	sigma2 := float64(n1*n2) / 12 * ((n + 1) - tieTerm/(n*(n-1)))
	if sigma2 <= 0 {
		return 1
	}
	z := (math.Abs(u-mu) - 0.5) / math.Sqrt(sigma2)
	if z < 0 {
		return 1
	}
	return math.Erfc(z / math.Sqrt2)
}

// exactMWU is the exact two-sided p-value of U = u for sample sizes n1, n2
// without ties: 2·min(P(U ≤ u), P(U ≥ u)), capped at 1.
func exactMWU(n1, n2, u int) float64 {
	// counts[m][k]: arrangements of m values of x among m + j values with
	// U = k, built up over j = 0..n2.
	maxU := n1 * n2
	prev := make([][]float64, n1+1) // for j−1
	for m := range prev {
		prev[m] = make([]float64, maxU+1)
	}
	for m := 0; m <= n1; m++ {
		prev[m][0] = 1 // j = 0: one arrangement, U = 0
	}
	for j := 1; j <= n2; j++ {
		cur := make([][]float64, n1+1)
		for m := range cur {
			cur[m] = make([]float64, maxU+1)
		}
		cur[0][0] = 1
		for m := 1; m <= n1; m++ {
			for k := 0; k <= maxU; k++ {
				// The largest value is y's (U unchanged) or x's (it beats
				// all j values of y).
				c := prev[m][k]
				if k >= j {
					c += cur[m-1][k-j]
				}
				cur[m][k] = c
			}
		}
		prev = cur
	}
	dist := prev[n1]
	total, le, ge := 0.0, 0.0, 0.0
	for k, c := range dist {
		total += c
		if k <= u {
			le += c
		}
		if k >= u {
			ge += c
		}
	}
	return min(1, 2*min(le, ge)/total)
}

// Ordered is a sorted view of Count values: Ordered(k) is the k-th smallest
// (k from 0). *Dist and *Histogram are Ordered.
type Ordered interface {
	Count() int
	Ordered(k int) float64
}

// bootPercentiles draws b bootstrap replicates of the p-th percentile
// (Percentile's definition) of src. Resampling n values with replacement
// and taking order statistics k and k+1 is the same in distribution as
// mapping the k-th and (k+1)-th of n uniform order statistics through the
// empirical quantile function, so each replicate costs O(1) draws instead
// of O(n): U(k) ~ Beta(k, n−k+1), drawn exactly by betaVariate, and U(k+1)
// follows from the minimum of the n−k uniforms above it.
func bootPercentiles(src Ordered, p float64, b int, r *rand.Rand) []float64 {
	n := src.Count()
	out := make([]float64, b)
	h := float64(n-1) * p / 100
	k := int(math.Floor(h)) // 0-based lower rank
	frac := h - float64(k)
	pick := func(u float64) float64 {
		i := int(math.Ceil(float64(n)*u)) - 1
		return src.Ordered(min(max(i, 0), n-1))
	}
	for i := range out {
		u1 := betaVariate(r, float64(k+1), float64(n-k))
		v := pick(u1)
		if frac > 0 && k+1 < n {
			rest := n - k - 1
			u2 := u1 + (1-u1)*(1-math.Pow(r.Float64(), 1/float64(rest)))
			v += frac * (pick(u2) - v)
		}
		out[i] = v
	}
	return out
}

// betaVariate draws from Beta(a, b), a, b ≥ 1, exactly: in closed form
// when a or b is 1 (the largest or smallest of uniforms), else by Cheng's
// rejection algorithm BB (R. C. H. Cheng, "Generating beta variates with
// nonintegral shape parameters", CACM 21(4), 1978), which needs two
// uniforms per try and accepts more than 90% of tries for the large shapes
// a bootstrap of a percentile asks for. Drawing the beta directly rather
// than as a ratio of gamma variates keeps the one gamma sampler where
// arrivals need it (package runner) and analysis free of execution code.
func betaVariate(r *rand.Rand, a, b float64) float64 {
	switch {
	case a == 1 && b == 1:
		return r.Float64()
	case a == 1: // the smallest of b uniforms
		return 1 - math.Pow(1-r.Float64(), 1/b)
	case b == 1: // the largest of a uniforms
		return math.Pow(1-r.Float64(), 1/a)
	}
	lo, hi := min(a, b), max(a, b)
	alpha := lo + hi
	beta := math.Sqrt((alpha - 2) / (2*lo*hi - alpha))
	gamma := lo + 1/beta
	for {
		u1, u2 := r.Float64(), r.Float64()
		if u1 == 0 || u2 == 0 {
			continue
		}
		v := beta * math.Log(u1/(1-u1))
		w := lo * math.Exp(v)
		if math.IsInf(w, 1) {
			continue
		}
		z := u1 * u1 * u2
		rr := gamma*v - math.Ln2*2
		s := lo + rr - w
		if s+1+math.Log(5) < 5*z {
			t := math.Log(z)
			if s <= t && rr+alpha*math.Log(alpha/(hi+w)) < t {
				continue
			}
		}
		if lo == a {
			return w / (hi + w)
		}
		return hi / (hi + w)
	}
}

// BootstrapPValue returns the two-sided bootstrap p-value of the
// difference of the p-th percentiles (p in 0–100) of cur and base from b
// replicates drawn with r: with d the replicate differences,
// 2·min(P(d ≤ 0), P(d ≥ 0)) with the usual +1 correction. Both must hold
// at least one value.
func BootstrapPValue(cur, base Ordered, p float64, b int, r *rand.Rand) float64 {
	c := bootPercentiles(cur, p, b, r)
	bb := bootPercentiles(base, p, b, r)
	le, ge := 1, 1
	for i := range c {
		d := c[i] - bb[i]
		if d <= 0 {
			le++
		}
		if d >= 0 {
			ge++
		}
	}
	return min(1, 2*float64(min(le, ge))/float64(b+1))
}

// TwoProportionPValue is the two-sided p-value of the pooled
// two-proportion z-test of p1 against p2, proportions (0–1) of n1 and n2
// independent trials: z = (p1 − p2) / √(p̂(1 − p̂)(1/n1 + 1/n2)), with p̂ the
// pooled proportion, referred to the standard normal (the large-sample
// approximation: it assumes independent trials and enough successes and
// failures on each side). It equals the 2×2 chi-squared test without
// continuity correction. ok is false, and p 1, when no test is possible:
// a side with no trials, or a pooled proportion of 0 or 1.
func TwoProportionPValue(p1 float64, n1 int, p2 float64, n2 int) (p float64, ok bool) {
	if n1 == 0 || n2 == 0 {
		return 1, false
	}
	f1, f2 := float64(n1), float64(n2)
	pool := (p1*f1 + p2*f2) / (f1 + f2)
	se := math.Sqrt(pool * (1 - pool) * (1/f1 + 1/f2))
	if se == 0 {
		return 1, false
	}
	return ZPValue((p1 - p2) / se), true
}

// RateRatioPValue is the two-sided p-value of the test of the ratio of two
// rates r1 and r2 (per second, or any common unit) behind which lie n1 and
// n2 counted events: treating the counts as Poisson, log(r1/r2) has
// standard error √(1/n1 + 1/n2), and z = log(r1/r2) / √(1/n1 + 1/n2) is
// referred to the standard normal (large counts assumed). Events that are
// not independent, as under closed-loop load, vary less than Poisson, which
// makes the test conservative. ok is false, and p 1, when a count is zero
// or a rate is not positive.
func RateRatioPValue(r1 float64, n1 int, r2 float64, n2 int) (p float64, ok bool) {
	if n1 == 0 || n2 == 0 || r1 <= 0 || r2 <= 0 {
		return 1, false
	}
	se := math.Sqrt(1/float64(n1) + 1/float64(n2))
	return ZPValue(math.Log(r1/r2) / se), true
}

// WelchZPValue is the two-sided p-value of Welch's statistic for the
// difference of two means, z = (mean1 − mean2) / √(sd1²/n1 + sd2²/n2), from
// each sample's mean, standard deviation and size, referred to the
// standard normal rather than to Student's t with Welch–Satterthwaite
// degrees of freedom: a large-sample test (the samples it is used on hold
// hundreds of values or more) that assumes independent observations but
// not equal variances. ok is false, and p 1, when a sample has fewer than
// two values or both standard deviations are zero.
func WelchZPValue(mean1, sd1 float64, n1 int, mean2, sd2 float64, n2 int) (p float64, ok bool) {
	if n1 < 2 || n2 < 2 {
		return 1, false
	}
	se := math.Sqrt(sd1*sd1/float64(n1) + sd2*sd2/float64(n2))
	if se == 0 {
		return 1, false
	}
	return ZPValue((mean1 - mean2) / se), true
}

// ZPValue is the two-sided p-value of a standard normal statistic z (1
// for NaN).
func ZPValue(z float64) float64 {
	if math.IsNaN(z) {
		return 1
	}
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}
