package baselines

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner"
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
		if got := mannWhitney(tt.x, tt.y); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: p = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMannWhitneyTiesAndLarge(t *testing.T) {
	// All tied: no evidence.
	if p := mannWhitney([]float64{1, 1, 1, 1}, []float64{1, 1, 1, 1}); p != 1 {
		t.Errorf("all tied: p = %v", p)
	}
	// Large separated samples use the normal approximation: tiny p.
	var x, y []float64
	for i := range 30 {
		x = append(x, float64(i))
		y = append(y, float64(i+100))
	}
	if p := mannWhitney(x, y); p > 1e-8 {
		t.Errorf("separated 30v30: p = %v", p)
	}
	// Exact and approximate agree roughly near the switch.
	r := rand.New(rand.NewPCG(1, 1))
	var a, b []float64
	for range 20 {
		a = append(a, r.Float64())
		b = append(b, r.Float64()+0.3)
	}
	exact := mannWhitney(a, b)
	a = append(a, a[0]) // one tie forces the approximation
	b = append(b, b[0]+0.0001)
	if approx := mannWhitney(a, b); math.Abs(approx-exact) > 0.05 {
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
	src := ordered{len(x), func(k int) float64 { return x[k] }}
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
		naive[i] = analysis.Percentile(buf, 95)
	}
	slices.Sort(fast)
	slices.Sort(naive)
	for _, q := range []float64{5, 25, 50, 75, 95} {
		f, n := analysis.Percentile(fast, q), analysis.Percentile(naive, q)
		if math.Abs(f-n)/n > 0.03 {
			t.Errorf("bootstrap p95 distribution, q%v: fast %v naive %v", q, f, n)
		}
	}
}

func TestGammaSampleMean(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, shape := range []float64{1, 3.5, 1000, 1e6} {
		s := 0.0
		const n = 20000
		for range n {
			s += runner.GammaVariate(r, shape)
		}
		if m := s / n; math.Abs(m-shape)/shape > 0.05 {
			t.Errorf("Gamma(%v) mean %v", shape, m)
		}
	}
}
