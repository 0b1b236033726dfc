package analysis

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/montanaflynn/stats"
)

// TestAgreesWithMontanaflynnStats checks benchrun's streaming statistics
// against montanaflynn/stats on the same vectors: mean, sample standard
// deviation, median, min and max. (Its Percentile uses another definition
// than numpy's linear one, so percentiles are checked against hand-computed
// numpy vectors in percentile_test.go instead.)
func TestAgreesWithMontanaflynnStats(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{2, 3, 10, 101, 5000} {
		xs := make([]float64, n)
		d := NewDist(0)
		for i := range xs {
			xs[i] = math.Exp(r.NormFloat64()*0.5) * 0.1 // latency-like, seconds
			d.Add(xs[i])
		}
		want := map[string]func(stats.Float64Data) (float64, error){
			"mean": stats.Mean, "stddev": stats.StandardDeviationSample, "median": stats.Median,
			"min": stats.Min, "max": stats.Max,
		}
		got := map[string]float64{"mean": d.Mean(), "stddev": d.Stddev(), "median": d.Percentile(50), "min": d.Min(), "max": d.Max()}
		for name, f := range want {
			w, err := f(xs)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got[name]-w) > 1e-9*math.Max(1, math.Abs(w)) {
				t.Errorf("n=%d %s = %v, montanaflynn/stats says %v", n, name, got[name], w)
			}
		}
	}
}
