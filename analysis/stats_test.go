package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestMannWhitneyExact(t *testing.T) {
	tests := []struct {
		name string
		x, y []float64
		want float64
	}{
		// Complete separation of 4 vs 4: U = 0 is 1 of C(8,4) = 70
		// arrangements, two-sided 2/70.
		{"separated 4v4", []float64{1, 2, 3, 4}, []float64{5, 6, 7, 8}, 2.0 / 70},
		{"separated reversed", []float64{5, 6, 7, 8}, []float64{1, 2, 3, 4}, 2.0 / 70},
		// 3 vs 3 separated: 2/C(6,3) = 2/20.
		{"separated 3v3", []float64{1, 2, 3}, []float64{4, 5, 6}, 0.1},
		// U = 1 of 4v4: arrangements with U ≤ 1 are 2, so 4/70.
		{"one swap", []float64{1, 2, 3, 5}, []float64{4, 6, 7, 8}, 4.0 / 70},
		// Interleaved: U = 8 = n1·n2/2, p = 1.
		{"interleaved", []float64{1, 4, 5, 8}, []float64{2, 3, 6, 7}, 1},
	}
	for _, tt := range tests {
		if got := MannWhitney(tt.x, tt.y); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: p = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMannWhitneyTiesAndLarge(t *testing.T) {
	// All tied: no evidence.
	if p := MannWhitney([]float64{1, 1, 1, 1}, []float64{1, 1, 1, 1}); p != 1 {
		t.Errorf("all tied: p = %v", p)
	}
	// Large separated samples use the normal approximation: tiny p.
	var x, y []float64
	for i := range 30 {
		x = append(x, float64(i))
		y = append(y, float64(i+100))
	}
	if p := MannWhitney(x, y); p > 1e-8 {
		t.Errorf("separated 30v30: p = %v", p)
	}
	// Exact and approximate agree roughly near the switch.
	r := rand.New(rand.NewPCG(1, 1))
	var a, b []float64
	for range 20 {
		a = append(a, r.Float64())
		b = append(b, r.Float64()+0.3)
	}
	exact := MannWhitney(a, b)
	a = append(a, a[0]) // one tie forces the approximation
	b = append(b, b[0]+0.0001)
	if approx := MannWhitney(a, b); math.Abs(approx-exact) > 0.05 {
		t.Errorf("exact %v vs approximate %v", exact, approx)
	}
}

// The O(1) bootstrap must match the distribution of the naive one
// (resample n values, sort, take the percentile).
func TestBootPercentilesMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	x := make([]float64, 300)
	for i := range x {
		x[i] = math.Exp(r.NormFloat64())
	}
	slices.Sort(x)
	src := NewDist(0)
	for _, v := range x {
		src.Add(v)
	}
	const b = 4000
	fast := bootPercentiles(src, 95, b, rand.New(rand.NewPCG(4, 5)))
	naive := make([]float64, b)
	rs := rand.New(rand.NewPCG(6, 7))
	buf := make([]float64, len(x))
	for i := range naive {
		for j := range buf {
			buf[j] = x[rs.IntN(len(x))]
		}
		slices.Sort(buf)
		naive[i] = Percentile(buf, 95)
	}
	slices.Sort(fast)
	slices.Sort(naive)
	for _, q := range []float64{5, 25, 50, 75, 95} {
		f, n := Percentile(fast, q), Percentile(naive, q)
		if math.Abs(f-n)/n > 0.03 {
			t.Errorf("bootstrap p95 distribution, q%v: fast %v naive %v", q, f, n)
		}
	}
}

// betaVariate must draw Beta(a, b): its mean and variance match for the
// shapes a percentile bootstrap uses (up to a million), and for small
// integer shapes its quantiles match those of the a-th smallest of a+b−1
// uniforms, which is Beta(a, b) by definition.
func TestBetaVariate(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, ab := range [][2]float64{{1, 1}, {1, 7}, {7, 1}, {2, 2}, {3.5, 1.5}, {20, 980}, {950_001, 50_000}, {500_000, 500_001}} {
		a, b := ab[0], ab[1]
		const n = 40000
		var sum, sumSq float64
		for range n {
			x := betaVariate(r, a, b)
			if !(x >= 0 && x <= 1) {
				t.Fatalf("Beta(%v, %v) drew %v", a, b, x)
			}
			sum += x
			sumSq += x * x
		}
		mean := sum / n
		variance := sumSq/n - mean*mean
		wantMean := a / (a + b)
		wantVar := a * b / ((a + b) * (a + b) * (a + b + 1))
		// Five standard errors of the mean; 10% on the variance.
		if se := math.Sqrt(wantVar / n); math.Abs(mean-wantMean) > 5*se {
			t.Errorf("Beta(%v, %v): mean %v, want %v ± %v", a, b, mean, wantMean, 5*se)
		}
		if math.Abs(variance-wantVar) > 0.1*wantVar {
			t.Errorf("Beta(%v, %v): variance %v, want %v", a, b, variance, wantVar)
		}
	}
	for _, ab := range [][2]int{{2, 3}, {3, 2}, {4, 9}} {
		a, b := ab[0], ab[1]
		const n = 20000
		fast, slow := make([]float64, n), make([]float64, n)
		u := make([]float64, a+b-1)
		for i := range n {
			fast[i] = betaVariate(r, float64(a), float64(b))
			for j := range u {
				u[j] = r.Float64()
			}
			slices.Sort(u)
			slow[i] = u[a-1]
		}
		slices.Sort(fast)
		slices.Sort(slow)
		for _, q := range []float64{5, 25, 50, 75, 95} {
			if f, s := Percentile(fast, q), Percentile(slow, q); math.Abs(f-s) > 0.015 {
				t.Errorf("Beta(%d, %d) q%v: %v, order statistic of uniforms %v", a, b, q, f, s)
			}
		}
	}
}

// The reference p-values of the z-tests below are two-sided standard
// normal tail areas, 2(1 − Φ(z)), as printed in standard normal tables
// (Abramowitz and Stegun, table 26.1: Φ(1) = 0.8413447, Φ(2) = 0.9772499,
// Φ(1.959964) = 0.9750000); the inputs are chosen so that z comes out as
// one of those values by hand.
const (
	pZ1    = 0.3173105 // z = 1
	pZ2    = 0.0455003 // z = 2
	pZ1_96 = 0.0500000 // z = 1.959964
)

func TestTwoProportionPValue(t *testing.T) {
	tests := []struct {
		name   string
		p1     float64
		n1     int
		p2     float64
		n2     int
		want   float64
		tol    float64
		wantOK bool
	}{
		// 45 of 100 against 30 of 100. By hand, as the 2×2 table
		// [[45 55] [30 70]]: χ² = N(ad − bc)² / (r₁r₂c₁c₂) =
		// 200·1500² / (100·100·75·125) = 4.8 exactly, and the pooled z-test
		// is that χ² test without continuity correction (z² = χ²), so
		// p = P(χ²₁ > 4.8) = 2(1 − Φ(√4.8)); the table gives Φ(2.19) =
		// 0.98574, Φ(2.20) = 0.98610, so p ≈ 0.0285.
		{"45/100 vs 30/100", 0.45, 100, 0.30, 100, ZPValue(math.Sqrt(4.8)), 1e-12, true},
		{"45/100 vs 30/100, table", 0.45, 100, 0.30, 100, 0.0285, 1e-4, true},
		{"swapped sides", 0.30, 100, 0.45, 100, ZPValue(math.Sqrt(4.8)), 1e-12, true},
		// 0.6 of 50 against 0.4 of 50: pool 0.5, se = √(0.25·0.04) = 0.1,
		// z = 0.2/0.1 = 2.
		{"z = 2", 0.6, 50, 0.4, 50, pZ2, 1e-6, true},
		{"equal proportions", 0.2, 300, 0.2, 700, 1, 0, true},
		{"no trials on one side", 0.1, 0, 0.2, 100, 1, 0, false},
		{"pooled 0: nothing failed on either side", 0, 100, 0, 100, 1, 0, false},
		{"pooled 1: everything failed on both sides", 1, 100, 1, 100, 1, 0, false},
	}
	for _, tt := range tests {
		p, ok := TwoProportionPValue(tt.p1, tt.n1, tt.p2, tt.n2)
		if ok != tt.wantOK || math.Abs(p-tt.want) > tt.tol {
			t.Errorf("%s: p = %v, ok %t; want %v ± %v, ok %t", tt.name, p, ok, tt.want, tt.tol, tt.wantOK)
		}
	}
}

func TestRateRatioPValue(t *testing.T) {
	tests := []struct {
		name   string
		r1     float64
		n1     int
		r2     float64
		n2     int
		want   float64
		tol    float64
		wantOK bool
	}{
		// 200 events a side: se = √(2/200) = 0.1; a ratio of e^0.2 is
		// z = 0.2/0.1 = 2.
		{"z = 2", 10 * math.Exp(0.2), 200, 10, 200, pZ2, 1e-6, true},
		{"z = −2", 10, 200, 10 * math.Exp(0.2), 200, pZ2, 1e-6, true},
		// The unit of the rates does not matter, only their ratio.
		{"rates in another unit", 10_000 * math.Exp(0.2), 200, 10_000, 200, pZ2, 1e-6, true},
		// 100 against 400 events: se = √(1/100 + 1/400) = √0.0125; a log
		// ratio of one se is z = 1.
		{"unequal counts, z = 1", 3 * math.Exp(math.Sqrt(0.0125)), 100, 3, 400, pZ1, 1e-6, true},
		// 50 a side: se = 0.2; log ratio 0.2·1.959964 is z = 1.959964.
		{"z = 1.96", math.Exp(0.2 * 1.959964), 50, 1, 50, pZ1_96, 1e-6, true},
		{"equal rates", 7, 30, 7, 3000, 1, 0, true},
		{"no events on one side", 5, 0, 5, 100, 1, 0, false},
		{"zero rate", 0, 100, 5, 100, 1, 0, false},
		{"negative rate", 5, 100, -5, 100, 1, 0, false},
	}
	for _, tt := range tests {
		p, ok := RateRatioPValue(tt.r1, tt.n1, tt.r2, tt.n2)
		if ok != tt.wantOK || math.Abs(p-tt.want) > tt.tol {
			t.Errorf("%s: p = %v, ok %t; want %v ± %v, ok %t", tt.name, p, ok, tt.want, tt.tol, tt.wantOK)
		}
	}
}

func TestWelchZPValue(t *testing.T) {
	tests := []struct {
		name       string
		mean1, sd1 float64
		n1         int
		mean2, sd2 float64
		n2         int
		want       float64
		tol        float64
		wantOK     bool
	}{
		// se = √(4/8 + 4/8) = 1, z = (10 − 9)/1 = 1.
		{"equal variances, z = 1", 10, 2, 8, 9, 2, 8, pZ1, 1e-6, true},
		// Unequal variances and sizes: se = √(36/4 + 144/9) = √25 = 5,
		// z = (20 − 10)/5 = 2; a pooled-variance statistic would differ.
		{"unequal variances, z = 2", 20, 6, 4, 10, 12, 9, pZ2, 1e-6, true},
		{"z = −2", 10, 12, 9, 20, 6, 4, pZ2, 1e-6, true},
		// se = √(1/2 + 1/2) = 1.
		{"z = 1.96", 1.959964, 1, 2, 0, 1, 2, pZ1_96, 1e-6, true},
		// Only the other side varies: se = √(0 + 25/100) = 0.5, z = 1/0.5 = 2.
		{"one side constant", 3, 0, 100, 2, 5, 100, pZ2, 1e-6, true},
		{"equal means", 5, 1, 10, 5, 3, 20, 1, 0, true},
		{"one value on one side", 10, 0, 1, 9, 2, 8, 1, 0, false},
		{"both constant", 10, 0, 50, 9, 0, 50, 1, 0, false},
	}
	for _, tt := range tests {
		p, ok := WelchZPValue(tt.mean1, tt.sd1, tt.n1, tt.mean2, tt.sd2, tt.n2)
		if ok != tt.wantOK || math.Abs(p-tt.want) > tt.tol {
			t.Errorf("%s: p = %v, ok %t; want %v ± %v, ok %t", tt.name, p, ok, tt.want, tt.tol, tt.wantOK)
		}
	}
}

func TestZPValue(t *testing.T) {
	for _, tt := range []struct{ z, want, tol float64 }{
		{0, 1, 0}, {1, pZ1, 1e-7}, {-1, pZ1, 1e-7}, {2, pZ2, 1e-7}, {1.959964, pZ1_96, 1e-7}, {math.NaN(), 1, 0},
	} {
		if got := ZPValue(tt.z); math.Abs(got-tt.want) > tt.tol {
			t.Errorf("ZPValue(%v) = %v, want %v", tt.z, got, tt.want)
		}
	}
}
