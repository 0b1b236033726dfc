package runner

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

func TestPacerConstantOffsets(t *testing.T) {
	tests := []struct {
		name string
		rate float64
		ramp time.Duration
		want []time.Duration
	}{
		{"10/s", 10, 0, []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}},
		// Λ(t) = t²/4 during the ramp, so u=1 arrives at t=2s, the ramp's
		// end; then one per second.
		{"ramp 2s to 1/s", 1, 2 * time.Second, []time.Duration{0, 2 * time.Second, 3 * time.Second, 4 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPacer(tc.rate, results.ArrivalConstant, 0, tc.ramp, 1)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.want {
				got := p.Next()
				if d := got - want; d < -time.Microsecond || d > time.Microsecond {
					t.Errorf("arrival %d at %v, want %v", i, got, want)
				}
			}
		})
	}
}

// pacerStats draws n arrivals and returns the mean rate and the coefficient
// of variation of the intervals.
func pacerStats(t *testing.T, p *Pacer, n int) (rate, cv float64) {
	t.Helper()
	prev := p.Next()
	var sum, sumSq float64
	for i := 1; i < n; i++ {
		off := p.Next()
		if off < prev {
			t.Fatalf("arrival %d at %v before the previous one at %v", i, off, prev)
		}
		d := (off - prev).Seconds()
		sum += d
		sumSq += d * d
		prev = off
	}
	m := float64(n - 1)
	mean := sum / m
	sd := math.Sqrt(sumSq/m - mean*mean)
	return 1 / mean, sd / mean
}

func TestPacerArrivalProcesses(t *testing.T) {
	const n = 200_000
	tests := []struct {
		arrival string
		shape   float64
		wantCV  float64 // coefficient of variation of the intervals: 1/sqrt(shape)
	}{
		{results.ArrivalConstant, 0, 0},
		{results.ArrivalPoisson, 0, 1},
		{results.ArrivalGamma, 0, 1}, // shape 0 means 1: Poisson
		{results.ArrivalGamma, 1, 1},
		{results.ArrivalGamma, 0.25, 2},
		{results.ArrivalGamma, 4, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.arrival+"/"+ftoa(tc.shape), func(t *testing.T) {
			const target = 500.0
			p, err := NewPacer(target, tc.arrival, tc.shape, 0, 42)
			if err != nil {
				t.Fatal(err)
			}
			rate, cv := pacerStats(t, p, n)
			// The mean of n intervals has relative sd cv/sqrt(n); allow 5 sd.
			tol := 5*tc.wantCV/math.Sqrt(n) + 1e-9
			if math.Abs(rate/target-1) > tol {
				t.Errorf("mean rate %.3f/s, want %v/s within %.3f%%", rate, target, tol*100)
			}
			if math.Abs(cv-tc.wantCV) > 0.05*tc.wantCV+1e-6 {
				t.Errorf("interval CV %.3f, want %.3f", cv, tc.wantCV)
			}
		})
	}
}

func ftoa(f float64) string {
	return time.Duration(f * float64(time.Second)).String()
}

func TestPacerDeterministic(t *testing.T) {
	for _, arrival := range []string{results.ArrivalPoisson, results.ArrivalGamma} {
		a, _ := NewPacer(100, arrival, 0.5, time.Second, 7)
		b, _ := NewPacer(100, arrival, 0.5, time.Second, 7)
		c, _ := NewPacer(100, arrival, 0.5, time.Second, 8)
		same := 0
		for i := range 1000 {
			x, y, z := a.Next(), b.Next(), c.Next()
			if x != y {
				t.Fatalf("%s: arrival %d differs with the same seed: %v vs %v", arrival, i, x, y)
			}
			if x == z {
				same++
			}
		}
		if same > 10 {
			t.Errorf("%s: different seeds gave %d identical arrivals of 1000", arrival, same)
		}
	}
}

func TestPacerRampUpCount(t *testing.T) {
	const rate = 1000.0
	ramp := 2 * time.Second
	tests := []struct {
		arrival string
		at      time.Duration
	}{
		{results.ArrivalConstant, 500 * time.Millisecond},
		{results.ArrivalConstant, time.Second},
		{results.ArrivalConstant, 2 * time.Second},
		{results.ArrivalConstant, 5 * time.Second},
		{results.ArrivalPoisson, time.Second},
		{results.ArrivalPoisson, 5 * time.Second},
		{results.ArrivalGamma, 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.arrival+"/"+tc.at.String(), func(t *testing.T) {
			p, err := NewPacer(rate, tc.arrival, 0.5, ramp, 3)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for p.Next() < tc.at {
				n++
			}
			want := expectedArrivals(rate, ramp, tc.at)
			tol := 1.0 // constant: the schedule is exact up to the one at u=0
			if tc.arrival != results.ArrivalConstant {
				tol = 5 * math.Sqrt(want*2) // gamma 0.5 has variance 2× Poisson's
			}
			if math.Abs(float64(n)-want) > tol {
				t.Errorf("%d arrivals before %v, want %.1f ± %.1f", n, tc.at, want, tol)
			}
		})
	}
	if got := expectedArrivals(rate, ramp, time.Second); got != 250 {
		t.Errorf("expectedArrivals during the ramp = %v, want 250", got)
	}
	if got := expectedArrivals(rate, ramp, 3*time.Second); got != 2000 {
		t.Errorf("expectedArrivals after the ramp = %v, want 2000", got)
	}
}

func TestPacerInvalid(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		arrival string
		shape   float64
		ramp    time.Duration
	}{
		{"zero rate", 0, results.ArrivalConstant, 0, 0},
		{"negative rate", -1, results.ArrivalConstant, 0, 0},
		{"NaN rate", math.NaN(), results.ArrivalConstant, 0, 0},
		{"infinite rate", math.Inf(1), results.ArrivalConstant, 0, 0},
		{"unknown arrival", 1, "uniform", 0, 0},
		{"negative shape", 1, results.ArrivalGamma, -1, 0},
		{"negative ramp", 1, results.ArrivalPoisson, 0, -time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewPacer(tc.rate, tc.arrival, tc.shape, tc.ramp, 0); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestGammaVariateMoments(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range []float64{0.1, 0.5, 1, 3, 10} {
		const n = 200_000
		var sum, sumSq float64
		for range n {
			x := GammaVariate(rng, k)
			if x < 0 || math.IsNaN(x) {
				t.Fatalf("shape %v: variate %v", k, x)
			}
			sum += x
			sumSq += x * x
		}
		mean := sum / n
		variance := sumSq/n - mean*mean
		// Mean k, variance k; the sample mean has sd sqrt(k/n).
		if math.Abs(mean-k) > 5*math.Sqrt(k/n) {
			t.Errorf("shape %v: mean %v", k, mean)
		}
		if math.Abs(variance/k-1) > 0.1 {
			t.Errorf("shape %v: variance %v, want %v", k, variance, k)
		}
	}
}

// expectedArrivals returns Λ(t), the expected number of arrivals in [0, t)
// for a Pacer built with the same rate and rampUp.
func expectedArrivals(rate float64, rampUp, t time.Duration) float64 {
	s, r := t.Seconds(), rampUp.Seconds()
	if s <= 0 {
		return 0
	}
	if r > 0 && s < r {
		return rate * s * s / (2 * r)
	}
	if r > 0 {
		return rate*r/2 + rate*(s-r)
	}
	return rate * s
}
