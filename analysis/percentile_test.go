package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The expected values are numpy.percentile(x, p) (method "linear"),
// worked by hand: h = (n−1)·p/100, x[⌊h⌋] + frac(h)·(x[⌊h⌋+1] − x[⌊h⌋]).
func TestPercentileKnownVectors(t *testing.T) {
	tests := []struct {
		name string
		x    []float64
		p    float64
		want float64
	}{
		{"single", []float64{7}, 99, 7},
		{"median even", []float64{1, 2, 3, 4}, 50, 2.5},
		{"p90 of four", []float64{1, 2, 3, 4}, 90, 3.7},               // h = 2.7
		{"p95 of five", []float64{15, 20, 35, 40, 50}, 95, 48},        // h = 3.8
		{"p25 of five", []float64{15, 20, 35, 40, 50}, 25, 20},        // h = 1
		{"p40 of five", []float64{15, 20, 35, 40, 50}, 40, 29},        // h = 1.6
		{"p0 is min", []float64{-3, 0, 9}, 0, -3},                     //
		{"p100 is max", []float64{-3, 0, 9}, 100, 9},                  //
		{"p99.9 of 1..10", seq(1, 10), 99.9, 9.991},                   // h = 8.991
		{"p99 of 1..100", seq(1, 100), 99, 99.01},                     // h = 98.01
		{"p50 of 1..100", seq(1, 100), 50, 50.5},                      // h = 49.5
		{"p99 of 0..1000", seq(0, 1000), 99, 990},                     // h = 990
		{"ties", []float64{1, 1, 1, 5}, 75, 2},                        // h = 2.25: 1 + 0.25·4
		{"negative", []float64{-10, -4, -1}, 75, -2.5},                // h = 1.5
		{"p99.9 of 1..1000", seq(1, 1000), 99.9, 999.001},             // h = 998.001
		{"p1 of 2 values", []float64{100, 200}, 1, 101},               // h = 0.01
		{"p95 of 20", seq(1, 20), 95, 19.05},                          // h = 18.05
		{"p90 of 1..11", seq(1, 11), 90, 10},                          // h = 9
		{"p33.3 of 0,10,20,30", []float64{0, 10, 20, 30}, 33.3, 9.99}, // h = 0.999
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Percentile(tt.x, tt.p)
			if math.Abs(got-tt.want) > 1e-9*math.Max(1, math.Abs(tt.want)) {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.x, tt.p, got, tt.want)
			}
		})
	}
}

func seq(from, to int) []float64 {
	var x []float64
	for i := from; i <= to; i++ {
		x = append(x, float64(i))
	}
	return x
}

func TestPercentileInvalid(t *testing.T) {
	for _, p := range []float64{-1, 100.5, math.NaN()} {
		if v := Percentile([]float64{1, 2}, p); !math.IsNaN(v) {
			t.Errorf("Percentile(p=%v) = %v, want NaN", p, v)
		}
	}
	if v := Percentile(nil, 50); !math.IsNaN(v) {
		t.Errorf("Percentile(nil) = %v, want NaN", v)
	}
}

// binomCDF is a direct O(n) reference for checking ciRanks.
func binomCDF(n int, q float64, k int) float64 {
	s := 0.0
	for i := 0; i <= k; i++ {
		lc, _ := math.Lgamma(float64(n) + 1)
		a, _ := math.Lgamma(float64(i) + 1)
		b, _ := math.Lgamma(float64(n-i) + 1)
		s += math.Exp(lc - a - b + float64(i)*math.Log(q) + float64(n-i)*math.Log1p(-q))
	}
	return s
}

func TestCIRanksMedianOfTen(t *testing.T) {
	// Binomial(10, ½): F(1) = 11/1024 ≤ 2.5% < F(2) = 56/1024, and
	// F(7) = 968/1024 < 97.5% ≤ F(8) = 1013/1024: the 2nd and 9th values.
	lo, hi, ok := ciRanks(10, 50, 0.95)
	if !ok || lo != 1 || hi != 8 {
		t.Fatalf("ciRanks(10, 50) = %d, %d, %v; want 1, 8, true", lo, hi, ok)
	}
}

func TestCIRanksTooFew(t *testing.T) {
	for _, tt := range []struct {
		n int
		p float64
	}{{5, 50}, {100, 99}, {1000, 99.9}, {0, 50}} {
		if _, _, ok := ciRanks(tt.n, tt.p, 0.95); ok {
			t.Errorf("ciRanks(%d, p%v) ok, want too few", tt.n, tt.p)
		}
	}
	if _, _, ok := ciRanks(6, 50, 0.95); !ok {
		t.Errorf("ciRanks(6, p50) not ok; 6 samples allow a 96.9%% interval")
	}
}

func TestCIRanksCoverage(t *testing.T) {
	for _, n := range []int{6, 10, 37, 100, 500, 1000, 5000, 20000} {
		for _, p := range []float64{50, 90, 95, 99, 99.9} {
			lo, hi, ok := ciRanks(n, p, 0.95)
			if !ok {
				continue
			}
			q := p / 100
			// P(lo+1 ≤ B ≤ hi) with 1-based order statistics lo+1, hi+1.
			lower := binomCDF(n, q, lo) // P(B ≤ lo): the interval misses low
			upper := binomCDF(n, q, hi) // P(B ≤ hi)
			if lower > 0.025+1e-9 || upper < 0.975-1e-9 {
				t.Errorf("n=%d p%v: ranks %d..%d have tails %.4f, %.4f", n, p, lo, hi, lower, 1-upper)
			}
			// Tightness: moving either end inwards breaks its tail.
			if lo+1 < hi && binomCDF(n, q, lo+1) <= 0.025 {
				t.Errorf("n=%d p%v: lower rank %d not the largest", n, p, lo)
			}
			if hi > 0 && binomCDF(n, q, hi-1) >= 0.975 {
				t.Errorf("n=%d p%v: upper rank %d not the smallest", n, p, hi)
			}
		}
	}
}

func TestDistCIContainsTruth(t *testing.T) {
	// For a uniform(0,1) sample the true p-th percentile is p/100; a 95%
	// interval should miss it in about 5% of trials.
	r := rand.New(rand.NewPCG(1, 2))
	miss := 0
	const trials = 400
	for range trials {
		d := NewDist(0)
		for range 300 {
			d.Add(r.Float64())
		}
		m := d.Metric("")
		ci := m.CI["p90"]
		if !(ci[0] <= 0.9 && 0.9 <= ci[1]) {
			miss++
		}
	}
	if miss > trials*9/100 {
		t.Errorf("p90 CI missed the truth in %d of %d trials", miss, trials)
	}
}

func TestDistSortedIsPercentileInput(t *testing.T) {
	d := NewDist(0)
	for _, v := range []float64{5, 1, 4, 2, 3} {
		d.Add(v)
	}
	if !slices.Equal(d.Sorted(), []float64{1, 2, 3, 4, 5}) {
		t.Fatalf("Sorted = %v", d.Sorted())
	}
	if got := d.Percentile(50); got != 3 {
		t.Fatalf("p50 = %v", got)
	}
}
