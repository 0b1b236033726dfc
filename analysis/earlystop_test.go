package analysis

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

func ttftSample(seq int64, ttft float64) *results.Sample {
	d := time.Duration(ttft * float64(time.Second))
	at := time.Duration(seq) * time.Millisecond
	return &results.Sample{Seq: seq, Scheduled: at, Sent: at + 1, FirstToken: at + d, LastToken: at + d + time.Millisecond, Done: at + d + time.Millisecond}
}

// TestProbeWatchStopsOverloadedProbe: an overloaded probe (its TTFT
// growing past the SLO after 200 requests) is stopped long before its
// 1,000 requests, and the stop is exact: the probe run to its end would
// have failed even had every remaining request been instant. A stopped
// probe is judged failing (never passing) through the manifest's
// SettingEarlyStop, whatever its truncated samples say.
func TestProbeWatchStopsOverloadedProbe(t *testing.T) {
	th, err := ParseThreshold("ttft.p99 < 80ms")
	if err != nil {
		t.Fatal(err)
	}
	spec := SearchSpec{Variable: "rate", Min: 10, Max: 80, SLOs: []Threshold{th}, Precision: 0.1, Remeasure: 1}
	const n = 1000
	w := NewProbeWatch(spec, n)
	var seen []float64
	stop := -1
	for i := range n {
		v := 0.02
		if i >= 200 {
			v = 0.02 + 0.001*float64(i-200) // the queue grows by 1 ms a request
		}
		seen = append(seen, v)
		if w.Observe(ttftSample(int64(i), v)) {
			stop = i
			break
		}
	}
	if stop < 0 || stop > 300 {
		t.Fatalf("stopped at request %d: want soon after TTFT passed 80 ms (request 260)", stop)
	}
	if w.Stopped() == "" {
		t.Fatal("no evidence")
	}
	// The rest instant: the full probe still fails.
	k := 0
	full := probeCase(n, func() float64 {
		k++
		if k <= len(seen) {
			return seen[k-1]
		}
		return 0
	})
	if v, d := JudgeProbe(full, spec); v != ProbeFail {
		t.Errorf("the probe completed with instant requests is %s (%s): the stop was not exact", v, d)
	}
	// The truncated probe alone would be indeterminate (too few samples
	// for a p99 interval) or worse: the stop marker makes it fail.
	info := results.CaseInfo{ID: "p", Status: results.StatusDone, Settings: map[string]string{SettingEarlyStop: w.Stopped()}}
	c := probeCase(50, func() float64 { return 0.01 }) // a fast-looking remnant
	c.Labels = append(c.Labels, *earlyStopLabel(info))
	if v, d := JudgeProbe(c, spec); v != ProbeFail || d != w.Stopped() {
		t.Errorf("stopped probe judged %s (%s): want fail with the stop's evidence", v, d)
	}
	if earlyStopLabel(results.CaseInfo{}) != nil {
		t.Error("a label without the setting")
	}
}

// TestProbeWatchLetsPassingProbeRun: a probe whose p99 is clearly under
// the SLO, or near it with noise, is never stopped; an SLO the watch
// cannot decide early (a lower limit, a ratio) never stops it.
func TestProbeWatchLetsPassingProbeRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	th, _ := ParseThreshold("ttft.p99 < 80ms")
	er, _ := ParseThreshold("error_rate < 1%")
	spec := SearchSpec{SLOs: []Threshold{th, er}}
	for trial := range 20 {
		w := NewProbeWatch(spec, 1000)
		for i := range 1000 {
			// p99 of this exponential is 80 ms: the probe straddles, it
			// must run to its end to be judged.
			if w.Observe(ttftSample(int64(i), rng.ExpFloat64()*0.08/4.605)) {
				t.Fatalf("trial %d: a probe on the SLO stopped at %d: %s", trial, i, w.Stopped())
			}
		}
	}
	if w := NewProbeWatch(SearchSpec{SLOs: []Threshold{er}}, 1000); len(w.rules) != 0 {
		t.Errorf("rules %+v for an error_rate SLO", w.rules)
	}
	var nilWatch *ProbeWatch
	if nilWatch.Observe(ttftSample(0, 10)) || nilWatch.Stopped() != "" {
		t.Error("a nil watch stops")
	}
}
