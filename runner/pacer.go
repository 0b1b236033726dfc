package runner

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// Pacer produces the scheduled send offsets of an open-loop load: a pure,
// deterministic sequence that knows nothing about clocks or responses, so it
// can be tested with plain tables.
//
// Arrivals are generated in "operational time" u, where the process has a
// mean interval of exactly 1, and mapped to real time through the inverse of
// the cumulative rate Λ(t) = ∫₀ᵗ rate(s) ds. With a linear ramp-up the rate
// grows from 0 to Rate over RampUp, so Λ(t) = Rate·t²/(2·RampUp) during the
// ramp and the number of arrivals before any t is Λ(t) in expectation, never
// more than the target.
//
// A Pacer is not safe for concurrent use.
type Pacer struct {
	rate    float64 // operations per second
	rampUp  float64 // seconds
	arrival string
	shape   float64 // gamma shape
	rng     *rand.Rand
	u       float64 // operational time of the next arrival
	started bool
}

// NewPacer returns a Pacer for rate operations per second (> 0) with the
// given arrival process (ArrivalConstant, results.ArrivalPoisson, results.ArrivalGamma; ""
// means constant). shape is the gamma shape (Load.Burstiness; 0 means 1,
// i.e. Poisson; smaller is burstier) and is ignored by the other processes.
// rampUp ≥ 0 is the time over which the rate grows linearly from 0.
// seed makes random processes reproducible. (Several workers share one
// case's schedule by drawing it all from one seed and keeping every n-th
// arrival; see RunCase.)
func NewPacer(rate float64, arrival string, shape float64, rampUp time.Duration, seed uint64) (*Pacer, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return nil, fmt.Errorf("rate must be a positive number of operations per second, got %v", rate)
	}
	if rampUp < 0 {
		return nil, fmt.Errorf("ramp_up must not be negative, got %v", rampUp)
	}
	switch arrival {
	case "":
		arrival = results.ArrivalConstant
	case results.ArrivalConstant, results.ArrivalPoisson:
	case results.ArrivalGamma:
		if shape == 0 {
			shape = 1
		}
		if !(shape > 0) || math.IsInf(shape, 0) {
			return nil, fmt.Errorf("burstiness (gamma shape) must be positive, got %v", shape)
		}
	default:
		return nil, fmt.Errorf("unknown arrival %q (want %q, %q or %q)", arrival, results.ArrivalConstant, results.ArrivalPoisson, results.ArrivalGamma)
	}
	p := &Pacer{
		rate:    rate,
		rampUp:  rampUp.Seconds(),
		arrival: arrival,
		shape:   shape,
		rng:     rand.New(rand.NewPCG(seed, 0x9ace5)),
	}
	return p, nil
}

// Next returns the scheduled offset of the next arrival from the case start.
// Offsets never decrease.
func (p *Pacer) Next() time.Duration {
	if p.started || p.arrival != results.ArrivalConstant {
		p.u += p.interval()
	}
	p.started = true
	return time.Duration(p.offset(p.u) * float64(time.Second))
}

// interval draws one inter-arrival gap in operational time (mean 1).
func (p *Pacer) interval() float64 {
	switch p.arrival {
	case results.ArrivalPoisson:
		return p.rng.ExpFloat64()
	case results.ArrivalGamma:
		return GammaVariate(p.rng, p.shape) / p.shape
	default:
		return 1
	}
}

// offset maps operational time u (expected arrivals so far) to seconds: the
// inverse of the cumulative rate.
func (p *Pacer) offset(u float64) float64 {
	if p.rampUp > 0 {
		rampArrivals := p.rate * p.rampUp / 2
		if u < rampArrivals {
			return math.Sqrt(2 * p.rampUp * u / p.rate)
		}
		return p.rampUp + (u-rampArrivals)/p.rate
	}
	return u / p.rate
}

// GammaVariate draws from Gamma(shape, scale 1) with the Marsaglia–Tsang
// squeeze method; shapes below 1 use the boost Gamma(k) = Gamma(k+1)·U^(1/k).
// It is the one gamma sampler of benchrun: gamma arrivals here, the
// Beta-distributed bootstrap ranks in package baselines.
func GammaVariate(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := r.Float64()
		for u == 0 {
			u = r.Float64()
		}
		return GammaVariate(r, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		x2 := x * x
		if u < 1-0.0331*x2*x2 {
			return d * v
		}
		if u > 0 && math.Log(u) < 0.5*x2+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
