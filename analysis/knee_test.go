package analysis

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

func kneePoints(loads []float64, f func(float64) float64) []KneePoint {
	var pts []KneePoint
	for _, l := range loads {
		pts = append(pts, KneePoint{Load: l, Throughput: f(l)})
	}
	return pts
}

var kneeLoads = []float64{1, 2, 4, 8, 12, 16, 24, 32}

// TestFindKneeClear: throughput rising 10 requests/s per user up to 8
// users, flat after: the knee is at 8 users.
func TestFindKneeClear(t *testing.T) {
	k, ok := FindKnee(kneePoints(kneeLoads, func(u float64) float64 { return 10 * min(u, 8) }))
	if !ok || k.Load != 8 || k.Throughput != 80 || k.Peak != 80 {
		t.Fatalf("knee %+v, %v: want at 8 users, 80 requests/s", k, ok)
	}
	if k.TailSlope > KneeTailSlope*k.RiseSlope || k.ErrorTwo > (1-KneeErrorReduction)*k.ErrorOne {
		t.Errorf("knee %+v does not meet its own conditions", k)
	}
	// In any order.
	pts := kneePoints(kneeLoads, func(u float64) float64 { return 10 * min(u, 8) })
	pts[0], pts[5] = pts[5], pts[0]
	if k2, ok := FindKnee(pts); !ok || k2.Load != 8 || pts[k2.Points].Load != 8 {
		t.Errorf("shuffled: knee %+v, %v", k2, ok)
	}
}

// TestFindKneeLinear: throughput proportional to load has no knee, exact
// or noisy.
func TestFindKneeLinear(t *testing.T) {
	if k, ok := FindKnee(kneePoints(kneeLoads, func(u float64) float64 { return 10 * u })); ok {
		t.Errorf("straight line: knee %+v", k)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		pts := kneePoints(kneeLoads, func(u float64) float64 { return 10 * u * (1 + 0.1*(r.Float64()-0.5)) })
		if k, ok := FindKnee(pts); ok {
			t.Fatalf("trial %d: noisy straight line %v: knee %+v", trial, pts, k)
		}
	}
}

// TestFindKneeNoisy: a knee at 8 users with ±5% noise on every point is
// still found at 8 users (or the next point, 12, when noise lifts it).
func TestFindKneeNoisy(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		pts := kneePoints(kneeLoads, func(u float64) float64 { return 10 * min(u, 8) * (1 + 0.1*(r.Float64()-0.5)) })
		k, ok := FindKnee(pts)
		if !ok || (k.Load != 8 && k.Load != 12) {
			t.Fatalf("trial %d: %v: knee %+v, %v: want at 8 users", trial, pts, k, ok)
		}
	}
}

// TestFindKneeRefused: a sweep that keeps rising (more slowly) far beyond
// the bend has no knee (the bend is below 85% of the peak); too few points
// have none; two cases at one load are not a sweep.
func TestFindKneeRefused(t *testing.T) {
	slow := kneePoints([]float64{1, 2, 3, 4, 10, 20, 30, 40}, func(u float64) float64 {
		if u <= 4 {
			return 10 * u
		}
		return 40 + 2*(u-4)
	})
	if k, ok := FindKnee(slow); ok {
		t.Errorf("still rising to %v: knee %+v", slow[len(slow)-1], k)
	}
	// A tail rising at 40% of the rising slope is not flat enough, though
	// the bend is within 85% of the peak.
	bend := kneePoints([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, func(u float64) float64 {
		return 10*min(u, 10) + 4*max(u-10, 0)
	})
	if k, ok := FindKnee(bend); ok {
		t.Errorf("tail slope 0.4 of the rise: knee %+v", k)
	}
	if k, ok := FindKnee(kneePoints([]float64{1, 2, 4}, func(u float64) float64 { return min(u, 2) })); ok {
		t.Errorf("3 points: knee %+v", k)
	}
	dup := kneePoints([]float64{1, 2, 4, 4, 8}, func(u float64) float64 { return min(u, 4) })
	if k, ok := FindKnee(dup); ok {
		t.Errorf("duplicate load: knee %+v", k)
	}
	// Falling throughput after the bend is still a knee (tail slope < 0).
	if k, ok := FindKnee(kneePoints(kneeLoads, func(u float64) float64 {
		if u <= 8 {
			return 10 * u
		}
		return 80 - 0.5*(u-8)
	})); !ok || k.Load != 8 {
		t.Errorf("falling tail: knee %+v, %v", k, ok)
	}
}

// TestKneesOverCases: the sweeps of a run are grouped by benchmark and the
// parameters but the load; a case with errors is left out; the knee names
// its case.
func TestKneesOverCases(t *testing.T) {
	var cases []Case
	add := func(bench, prompt string, users, rps float64, errs ...string) {
		u := strconv.FormatFloat(users, 'g', -1, 64)
		cases = append(cases, Case{ID: bench + "/users=" + u + ",prompt_tokens=" + prompt, Benchmark: bench,
			Params: map[string]string{"users": u, "prompt_tokens": prompt}, Errors: errs,
			Metrics: map[string]Metric{MetricRequestsPerSecond: {Kind: KindRate, Value: rps}}})
	}
	for _, u := range kneeLoads {
		add("chat", "128", u, 10*min(u, 8))
		add("chat", "1024", u, 10*u) // no knee
	}
	add("chat", "1024", 64, 0, "connection refused")
	for _, u := range kneeLoads {
		add("other", "128", u, 5*min(u, 16))
	}
	ks := Knees(cases)
	if len(ks) != 2 {
		t.Fatalf("knees %+v: want chat prompt 128 and other", ks)
	}
	if ks[0].Benchmark != "chat" || ks[0].Case != "chat/users=8,prompt_tokens=128" || ks[0].Variable != "users" ||
		ks[0].Params["prompt_tokens"] != "128" || ks[0].Points != len(kneeLoads) || ks[0].Load != 8 {
		t.Errorf("knee 0 %+v", ks[0])
	}
	if ks[1].Benchmark != "other" || ks[1].Load != 16 || ks[1].Throughput != 80 {
		t.Errorf("knee 1 %+v", ks[1])
	}
}
