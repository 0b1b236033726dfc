package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// probeCase summarises n TTFTs drawn by draw into a case with its p99
// interval, as SummarizeCase gives it.
func probeCase(n int, draw func() float64) *Case {
	v := make([]float64, n)
	for i := range v {
		v[i] = draw()
	}
	slices.Sort(v)
	m := Metric{Kind: KindDistribution, Unit: UnitSeconds, Count: n, P99: Percentile(v, 99), CI: map[string][2]float64{}}
	if lo, hi, ok := ciRanks(n, 99, 0.95); ok {
		m.CI["p99"] = [2]float64{v[lo], v[hi]}
	}
	return &Case{ID: "p", Metrics: map[string]Metric{"ttft": m}}
}

// TestNoisyProbeRemeasuredThenIndeterminate: a noisy server whose true
// p99 sits on the SLO gives a straddling interval; the search re-measures
// it with twice the requests and, still straddling, counts it as not
// passing with a warning instead of guessing. A clear pass and a clear
// fail are decided at once.
func TestNoisyProbeRemeasuredThenIndeterminate(t *testing.T) {
	th, err := ParseThreshold("ttft.p99 < 100ms")
	if err != nil {
		t.Fatal(err)
	}
	spec := SearchSpec{Variable: "rate", Min: 10, Max: 80, SLOs: []Threshold{th}, Precision: 0.1, Remeasure: 1}
	if n := spec.ProbeRequests(); n != 1000 {
		t.Fatalf("probe requests %d, want 10/(1−0.99) = 1000", n)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// Exponential TTFTs with mean m: p99 = m·ln 100.
	server := func(p99 float64) func() float64 {
		return func() float64 { return rng.ExpFloat64() * p99 / math.Log(100) }
	}
	s := NewSearch(spec)
	loads := map[float64]float64{10: 0.05, 20: 0.1, 40: 0.3} // true p99 per load: pass, on the SLO, fail
	var got []string
	for range 10 {
		load, n, try, ok := s.Next()
		if !ok {
			break
		}
		p99, ok := loads[load]
		if !ok {
			p99 = 0.05 // between 10 and 20: clearly passing
		}
		c := probeCase(n, server(p99))
		p := Probe{Case: "p", Load: load, Requests: n, Try: try}
		p.Verdict, p.Detail = JudgeProbe(c, spec)
		s.Record(p)
		got = append(got, p.Verdict)
		if p.Verdict == ProbeIndeterminate && !strings.Contains(p.Detail, "straddled") {
			t.Errorf("indeterminate without its interval: %s", p.Detail)
		}
	}
	want := []string{ProbePass, ProbeIndeterminate, ProbeIndeterminate}
	if len(got) < 3 || !slices.Equal(got[:3], want) {
		t.Fatalf("verdicts %v, want %v first", got, want)
	}
	if s.Probes[2].Load != 20 || s.Probes[2].Requests != 2000 || s.Probes[2].Try != 2 {
		t.Errorf("re-measure %+v, want load 20 with 2000 requests, try 2", s.Probes[2])
	}
	lo, hi := s.Bracket()
	if hi != 20 || !(lo >= 20/1.1 && lo < 20) {
		t.Errorf("bracket [%v, %v]: want the straddling 20 counted as not passing and capacity below it within 10%%", lo, hi)
	}
}

// TestProbeWithFailedRequestsNeverPasses: latency percentiles are of the
// successful requests, so a probe whose server dropped requests must not
// pass on the latency of the rest unless an SLO bounds the error rate
// (then that SLO decides), and a probe where every request failed has no
// latency to pass on.
func TestProbeWithFailedRequestsNeverPasses(t *testing.T) {
	ttft, _ := ParseThreshold("ttft.p99 < 100ms")
	errs, _ := ParseThreshold("error_rate < 50%")
	timeouts, _ := ParseThreshold("error_rate_timeout < 50%")
	fast := func() float64 { return 0.01 }
	tests := []struct {
		name      string
		slos      []Threshold
		errorRate float64
		ok        int // successful requests
		want      string
		detail    string
	}{
		{"no errors", []Threshold{ttft}, 0, 1000, ProbePass, ""},
		{"20% dropped, latency SLO only", []Threshold{ttft}, 0.2, 1000, ProbeFail, "250 of 1250 requests failed and no SLO bounds error_rate"},
		{"20% dropped, error_rate SLO decides", []Threshold{ttft, errs}, 0.2, 1000, ProbePass, ""},
		{"20% dropped, only timeouts bounded", []Threshold{ttft, timeouts}, 0.2, 1000, ProbeFail, "250 of 1250 requests failed"},
		{"every request failed", []Threshold{ttft}, 1, 0, ProbeFail, "ttft was not measured"},
		{"every request failed, error_rate SLO", []Threshold{errs}, 1, 0, ProbeFail, "error_rate < 50% missed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c *Case
			if tc.ok > 0 {
				c = probeCase(tc.ok, fast)
			} else {
				c = &Case{ID: "p", Metrics: map[string]Metric{"ttft": {Kind: KindDistribution, Unit: UnitSeconds}}}
			}
			total := int(math.Round(float64(tc.ok) / (1 - tc.errorRate)))
			if tc.errorRate == 1 {
				total = 1000
			}
			c.Metrics[MetricErrorRate] = Metric{Kind: KindRate, Unit: UnitRatio, Value: tc.errorRate, Count: total}
			spec := SearchSpec{Variable: "rate", Min: 10, Max: 80, SLOs: tc.slos, Precision: 0.1, Remeasure: 1}
			v, d := JudgeProbe(c, spec)
			if v != tc.want || !strings.Contains(d, tc.detail) {
				t.Errorf("JudgeProbe = %s (%s), want %s (%s)", v, d, tc.want, tc.detail)
			}
		})
	}
}

// TestProbeRequestsErrorRate: an error-rate limit L asks for 10/L
// requests, enough that a probe without errors passes it on its Wilson
// interval (with 200 requests and no error the interval reaches 1.9%:
// error_rate < 1% could never pass).
func TestProbeRequestsErrorRate(t *testing.T) {
	for _, tc := range []struct {
		slos []string
		want int
	}{
		{[]string{"error_rate < 1%"}, 1000},
		{[]string{"error_rate < 5%", "e2e.p90 < 1s"}, 200},
		{[]string{"error_rate_timeout <= 0.1%"}, 10000},
		{[]string{"error_rate < 50%"}, 100},
		{[]string{"ttft.p99 < 1s"}, 1000},
	} {
		ts, err := ParseThresholds(tc.slos)
		if err != nil {
			t.Fatal(err)
		}
		spec := SearchSpec{SLOs: ts}
		n := spec.ProbeRequests()
		if n != tc.want {
			t.Errorf("%v: %d requests, want %d", tc.slos, n, tc.want)
		}
		c := &Case{Metrics: map[string]Metric{MetricErrorRate: {Kind: KindRate, Unit: UnitRatio, Count: n}}}
		for _, th := range ts {
			if v, d := judgeSLO(c, th); th.Metric == MetricErrorRate && v != ProbePass {
				t.Errorf("%s with no error in %d requests: %s (%s)", th.Expr, n, v, d)
			}
		}
	}
}

// TestProbeClientLag: a latency miss or an early stop of a probe whose
// client lagged its schedule is indeterminate (measured again), not a
// fail; a pass stays a pass (the lag is in the latencies it met), and a
// miss of a non-latency SLO stays a fail. A probe whose server fell
// behind the offered rate (label saturated, test rate) fails whatever its
// latencies, or is indeterminate when the client lagged.
func TestProbeClientLag(t *testing.T) {
	ttft, _ := ParseThreshold("ttft.p99 < 100ms")
	errs, _ := ParseThreshold("error_rate < 1%")
	lag := Label{Name: LabelClientLag, Test: TestLag, Evidence: "the client sent late"}
	stop := Label{Name: LabelSaturated, Test: TestEarlyStop, Evidence: "stopped early: 18 requests had ttft beyond 100 ms"}
	behind := Label{Name: LabelSaturated, Test: TestRate, Evidence: "achieved 681 requests/s of 4.1k requests/s offered (17%): the server fell behind"}
	slow := func() float64 { return 0.5 }
	fast := func() float64 { return 0.01 }
	spec := SearchSpec{Variable: "rate", Min: 10, Max: 80, SLOs: []Threshold{ttft, errs}, Precision: 0.1, Remeasure: 1}
	tests := []struct {
		name   string
		draw   func() float64
		errors float64
		labels []Label
		want   string
	}{
		{"slow, no lag", slow, 0, nil, ProbeFail},
		{"slow, lag", slow, 0, []Label{lag}, ProbeIndeterminate},
		{"stopped early, no lag", slow, 0, []Label{stop}, ProbeFail},
		{"stopped early, lag", slow, 0, []Label{stop, lag}, ProbeIndeterminate},
		{"fast, lag", fast, 0, []Label{lag}, ProbePass},
		{"errors, lag", fast, 0.5, []Label{lag}, ProbeFail},
		// The server fell behind the offered rate, the probe too short for
		// its queue to reach the SLOs (a real Chroma's 4,100 queries/s
		// probe achieved 681/s with every SLO met): never a pass.
		{"fell behind, fast", fast, 0, []Label{behind}, ProbeFail},
		{"fell behind, lag", fast, 0, []Label{behind, lag}, ProbeIndeterminate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := probeCase(1000, tc.draw)
			c.Metrics[MetricErrorRate] = Metric{Kind: KindRate, Unit: UnitRatio, Value: tc.errors, Count: 1000}
			c.Labels = tc.labels
			v, d := JudgeProbe(c, spec)
			if v != tc.want || (v == ProbeIndeterminate) != strings.Contains(d, "client lagged") {
				t.Errorf("JudgeProbe = %s (%s), want %s", v, d, tc.want)
			}
		})
	}
}

// TestShortProbeNeverPasses: canceled requests are in no metric, so a
// probe that measured fewer requests than it was given (a trace replay
// cut short, a lost worker) must not pass on the ones it finished, however
// fast they were; one that measured them all passes. The capacity of a
// search over a trace's speed is that multiplier, without a unit.
func TestShortProbeNeverPasses(t *testing.T) {
	ttft, _ := ParseThreshold("ttft.p99 < 100ms")
	spec := SearchSpec{Variable: "speed", Min: 1, Max: 8, SLOs: []Threshold{ttft}, Precision: 0.1, Remeasure: 1}
	probe := func(load float64, measured int) *Case {
		c := probeCase(measured, func() float64 { return 0.01 })
		c.ID = "chat/search=speed:" + FormatNumber(load)
		c.Benchmark = "chat"
		c.Params = map[string]string{"search": "speed:" + FormatNumber(load), "requests": "1200"}
		c.Metrics[MetricErrorRate] = Metric{Kind: KindRate, Unit: UnitRatio, Count: measured}
		return c
	}
	if v, d := JudgeProbe(probe(1, 1200), spec); v != ProbePass {
		t.Errorf("whole probe: %s (%s), want pass", v, d)
	}
	v, d := JudgeProbe(probe(2, 1100), spec)
	if v != ProbeFail || !strings.Contains(d, "measured 1100 of its 1200 requests") {
		t.Errorf("short probe: %s (%s), want fail naming the count", v, d)
	}
	c := CapacityCase("chat", "openai", spec, []*Case{probe(1, 1200), probe(2, 1100)})
	m := c.Metrics[MetricCapacity]
	if m.Value != 1 || m.Unit != UnitNone || m.CI["value"] != [2]float64{1, 2} || c.Frontier.Variable != "speed" {
		t.Errorf("capacity %v %q %v, frontier variable %q: want speed 1, bracket [1, 2], no unit", m.Value, m.Unit, m.CI["value"], c.Frontier.Variable)
	}
}
