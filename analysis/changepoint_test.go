package analysis

import (
	"math/rand/v2"
	"testing"
)

// nights is a synthetic nightly history: n nights of a metric around 100
// with Gaussian noise of relative standard deviation cv, and a relative
// step from night stepAt on (1-based; 0: no step).
func nights(seed uint64, n, stepAt int, step, cv float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	xs := make([]float64, n)
	for i := range xs {
		level := 100.0
		if stepAt > 0 && i+1 >= stepAt {
			level *= 1 + step
		}
		xs[i] = level * (1 + cv*r.NormFloat64())
	}
	return xs
}

// The test: 40 nights, a 15% step at night 25, 5% noise: the
// change point is night 25 ± 1, for either direction of the step; noise
// alone gives none in at least 95% of seeds.
func TestChangePointsStep(t *testing.T) {
	const seeds = 100
	for _, step := range []float64{0.15, -0.15} {
		hit := 0
		for seed := uint64(1); seed <= seeds; seed++ {
			xs := nights(seed, 40, 25, step, 0.05)
			cps := ChangePoints(xs, ChangePointOptions{Seed: seed})
			for _, c := range cps {
				night := c.Index + 1
				if night >= 24 && night <= 26 && (c.Delta > 0) == (step > 0) {
					hit++
					break
				}
			}
		}
		if hit < seeds*95/100 {
			t.Errorf("step %+.0f%%: the change point at night 25±1 found in %d of %d seeds, want ≥ 95%%", step*100, hit, seeds)
		}
	}
}

func TestChangePointsNoiseOnly(t *testing.T) {
	const seeds = 200
	flagged := 0
	for seed := uint64(1); seed <= seeds; seed++ {
		if cps := ChangePoints(nights(seed, 40, 0, 0, 0.05), ChangePointOptions{Seed: seed}); len(cps) > 0 {
			flagged++
		}
	}
	if flagged > seeds*5/100 {
		t.Errorf("noise only: change points in %d of %d seeds, want ≤ 5%%", flagged, seeds)
	}
	t.Logf("noise only: %d of %d seeds flagged", flagged, seeds)
}

func TestChangePointsCases(t *testing.T) {
	flat := make([]float64, 30)
	for i := range flat {
		flat[i] = 5
	}
	broken := nights(7, 30, 20, -0.9, 0.02) // a 90% "improvement": a broken measurement
	two := append(nights(3, 20, 0, 0, 0.02), nights(4, 20, 1, 0.3, 0.02)...)
	two = append(two, nights(5, 20, 1, -0.2, 0.02)...)
	for _, tc := range []struct {
		name string
		xs   []float64
		want []int // nights (1-based) where a step starts
	}{
		{"empty", nil, nil},
		{"too short", []float64{1, 2, 3, 4, 5}, nil},
		{"constant", flat, nil},
		{"90% drop", broken, []int{20}},
		{"two steps", two, []int{21, 41}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cps := ChangePoints(tc.xs, ChangePointOptions{Seed: 1})
			var got []int
			for _, c := range cps {
				got = append(got, c.Index+1)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("change points at nights %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("change points at nights %v, want %v", got, tc.want)
				}
			}
		})
	}
	cps := ChangePoints(broken, ChangePointOptions{Seed: 1})
	if len(cps) == 1 && (cps[0].Delta > -0.85 || cps[0].Delta < -0.95) {
		t.Errorf("90%% drop: Delta %v, want about -0.9", cps[0].Delta)
	}
}
