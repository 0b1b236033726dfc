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
