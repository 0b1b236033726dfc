package analysis

import (
	"maps"
	"math"
	"slices"
	"strconv"
)

// Knee detection on an ordinary sweep: across the cases of one benchmark
// that differ only in their load (the "users" or "rate" parameter), the
// load where added load stops adding throughput (requests_per_second) and
// only adds latency. The method is the two-line fit GuideLLM uses
// (../shared/REFERENCE.md §10): the points (load, throughput), in load
// order, are fitted by one least-squares line and by every split into a
// rising line over the points up to and including a candidate knee and a
// tail line over the points from it on (the knee point belongs to both);
// the split with the lowest total squared error is kept, and it is a knee
// only when all of these hold:
//
//   - the rising slope is positive;
//   - the tail slope is at most KneeTailSlope times the rising slope;
//   - the two lines' squared error is at most (1 − KneeErrorReduction) times
//     one line's (a straight sweep, even a noisy one, has no knee);
//   - the throughput at the knee is at least KneePeakShare of the sweep's
//     peak throughput (the knee is on the plateau, not before it).
//
// A sweep needs KneeMinPoints points with a positive load and throughput;
// cases with execution errors or skipped are left out.
const (
	KneeTailSlope      = 0.25
	KneeErrorReduction = 0.5
	KneePeakShare      = 0.85
	KneeMinPoints      = 4
)

// Knee is the knee of one swept benchmark, in summary.json's "knees".
type Knee struct {
	Benchmark string `json:"benchmark"`
	// Variable is the swept load parameter: "users" or "rate".
	Variable string `json:"variable"`
	// Params are the case parameters shared by the sweep's points (every
	// parameter but Variable); absent when there are none.
	Params map[string]string `json:"params,omitempty"`
	// Case is the id of the case at the knee; Load its load and
	// Throughput its requests_per_second.
	Case       string  `json:"case"`
	Load       float64 `json:"load"`
	Throughput float64 `json:"throughput"`
	// Peak is the highest requests_per_second of the sweep.
	Peak float64 `json:"peak"`
	// RiseSlope and TailSlope are the two lines' slopes (requests/s per
	// unit of load); ErrorOne and ErrorTwo the squared errors of one line
	// and of the two lines.
	RiseSlope float64 `json:"rise_slope"`
	TailSlope float64 `json:"tail_slope"`
	ErrorOne  float64 `json:"error_one"`
	ErrorTwo  float64 `json:"error_two"`
	Points    int     `json:"points"`
}

// KneePoint is one point of a sweep: a load and the throughput measured at it.
type KneePoint struct {
	Load, Throughput float64
}

// kneeVariables are the load parameters a sweep is detected over, in order
// of preference when a case has both.
var kneeVariables = []string{"users", "rate"}

// Knees returns the knee of every swept benchmark of cases that has one,
// in order of the sweeps' first case. A sweep is the cases of one
// benchmark with the same parameters but the load (see the constants).
func Knees(cases []Case) []Knee {
	type group struct {
		bench, variable string
		params          map[string]string
		idx             []int
	}
	groups := map[string]*group{}
	var order []string
	for i := range cases {
		c := &cases[i]
		if len(c.Errors) > 0 || c.Verdict == Skipped || c.Verdict == Error {
			continue
		}
		variable := ""
		for _, v := range kneeVariables {
			if _, ok := c.Params[v]; ok {
				variable = v
				break
			}
		}
		if variable == "" {
			continue
		}
		rest := map[string]string{}
		key := c.Benchmark + "\x00" + variable
		for _, k := range slices.Sorted(maps.Keys(c.Params)) {
			if k != variable {
				rest[k] = c.Params[k]
				key += "\x00" + k + "=" + c.Params[k]
			}
		}
		g, ok := groups[key]
		if !ok {
			g = &group{bench: c.Benchmark, variable: variable, params: rest}
			groups[key] = g
			order = append(order, key)
		}
		g.idx = append(g.idx, i)
	}
	var out []Knee
	for _, key := range order {
		g := groups[key]
		var pts []KneePoint
		var ids []string
		for _, i := range g.idx {
			c := &cases[i]
			load, err := strconv.ParseFloat(c.Params[g.variable], 64)
			x, ok := c.Metrics[MetricRequestsPerSecond]
			if err != nil || !ok || load <= 0 || x.Value <= 0 || math.IsInf(load, 0) {
				continue
			}
			pts = append(pts, KneePoint{Load: load, Throughput: x.Value})
			ids = append(ids, c.ID)
		}
		k, ok := FindKnee(pts)
		if !ok {
			continue
		}
		k.Benchmark, k.Variable, k.Case = g.bench, g.variable, ids[k.Points]
		if len(g.params) > 0 {
			k.Params = g.params
		}
		k.Points = len(pts)
		out = append(out, k)
	}
	return out
}

// FindKnee applies the two-line fit to pts (in any order; loads must
// differ) and returns the knee, if there is one. The returned Knee carries
// Load, Throughput, Peak, the slopes and errors, and in Points the index in
// pts of the knee point (Knees replaces it by the count).
func FindKnee(pts []KneePoint) (Knee, bool) {
	if len(pts) < KneeMinPoints {
		return Knee{}, false
	}
	order := make([]int, len(pts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case pts[a].Load < pts[b].Load:
			return -1
		case pts[a].Load > pts[b].Load:
			return 1
		}
		return 0
	})
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	peak := 0.0
	for i, j := range order {
		xs[i], ys[i] = pts[j].Load, pts[j].Throughput
		peak = max(peak, ys[i])
		if i > 0 && xs[i] == xs[i-1] {
			return Knee{}, false // two cases at one load: not a sweep
		}
	}
	_, errOne := lineFit(xs, ys)
	best, bestErr := -1, math.Inf(1)
	var rise, tail float64
	// The knee point k ends the rising line and starts the tail; each line
	// has at least two points.
	for k := 1; k <= len(xs)-2; k++ {
		r, e1 := lineFit(xs[:k+1], ys[:k+1])
		t, e2 := lineFit(xs[k:], ys[k:])
		if e := e1 + e2; e < bestErr {
			best, bestErr, rise, tail = k, e, r, t
		}
	}
	if best < 0 || rise <= 0 || tail > KneeTailSlope*rise ||
		!(bestErr <= (1-KneeErrorReduction)*errOne) || errOne <= 0 ||
		ys[best] < KneePeakShare*peak {
		return Knee{}, false
	}
	return Knee{Load: xs[best], Throughput: ys[best], Peak: peak, RiseSlope: rise, TailSlope: tail,
		ErrorOne: errOne, ErrorTwo: bestErr, Points: order[best]}, true
}

// lineFit returns the least-squares slope of ys against xs (at least two
// distinct xs) and the sum of squared residuals.
func lineFit(xs, ys []float64) (slope, sse float64) {
	n := float64(len(xs))
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	var sxx, sxy float64
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - my)
	}
	slope = sxy / sxx
	for i := range xs {
		r := ys[i] - (my + slope*(xs[i]-mx))
		sse += r * r
	}
	return slope, sse
}
