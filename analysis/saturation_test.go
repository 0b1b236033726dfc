package analysis

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// sim is an open-loop run against a FIFO server with Slots sequences at
// once, each taking Service (± Jitter, uniform): what a load generator
// would record.
type sim struct {
	Rate     float64       // arrivals per second
	Poisson  bool          // exponential gaps, else constant
	Duration time.Duration // scheduling window
	Slots    int
	Service  time.Duration
	Jitter   float64 // relative, uniform
	// MaxConcurrency > 0 queues requests in the client for one of so
	// many slots (fewer than Slots: the server never queues); RecordSlot
	// records the wait in Sample.SlotWait.
	MaxConcurrency int
	RecordSlot     bool
	Lag            time.Duration // the client sends this late
	Drain          time.Duration // operations not done by Duration+Drain are canceled; 0: none
	Seed           uint64
}

type freeTimes []time.Duration

func (h freeTimes) Len() int           { return len(h) }
func (h freeTimes) Less(i, j int) bool { return h[i] < h[j] }
func (h freeTimes) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *freeTimes) Push(x any)        { *h = append(*h, x.(time.Duration)) }
func (h *freeTimes) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (c sim) samples() []results.Sample {
	r := rand.New(rand.NewPCG(c.Seed, 7))
	server := make(freeTimes, c.Slots)
	client := make(freeTimes, max(c.MaxConcurrency, 0))
	var out []results.Sample
	t := 0.0
	for seq := int64(0); ; seq++ {
		sched := time.Duration(t * float64(time.Second))
		if sched >= c.Duration {
			break
		}
		gap := 1 / c.Rate
		if c.Poisson {
			gap = r.ExpFloat64() / c.Rate
		}
		t += gap
		s := results.Sample{Seq: seq, Scheduled: sched, Sent: sched + c.Lag}
		if c.MaxConcurrency > 0 {
			free := heap.Pop(&client).(time.Duration)
			if free > s.Sent {
				if c.RecordSlot {
					s.SlotWait = free - s.Sent
				}
				s.Sent = free
			} else if c.RecordSlot {
				s.SlotWait = 1 // queued, a slot was free
			}
		}
		free := heap.Pop(&server).(time.Duration)
		start := max(free, s.Sent)
		svc := time.Duration(float64(c.Service) * (1 + c.Jitter*(2*r.Float64()-1)))
		s.Done = start + svc
		heap.Push(&server, s.Done)
		if c.MaxConcurrency > 0 {
			heap.Push(&client, s.Done)
		}
		s.FirstToken = start + svc/4
		s.LastToken = s.Done - ms
		s.OutputTokens = 16
		if c.Drain > 0 && s.Done > c.Duration+c.Drain {
			s.Done, s.FirstToken, s.LastToken, s.OutputTokens = c.Duration+c.Drain, 0, 0, 0
			s.Error = results.ErrCanceled
		}
		out = append(out, s)
	}
	return out
}

func (c sim) load() *results.Load {
	return &results.Load{Mode: results.ModeOpen, Rate: c.Rate, MaxConcurrency: c.MaxConcurrency, Duration: c.Duration}
}

// summarize summarises samples as one case with load.
func summarize(t *testing.T, ss []results.Sample, load *results.Load) Case {
	t.Helper()
	f := writeSamples(t, t.TempDir(), "s.jsonl", ss)
	c, _, err := SummarizeCase(results.CaseInfo{ID: "c", Status: "done", Load: load}, []string{f}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// labelOf returns the case's label found by test, if any.
func labelOf(c Case, test string) (Label, bool) {
	for _, l := range c.Labels {
		if l.Test == test {
			return l, true
		}
	}
	return Label{}, false
}

func TestSaturationOverloadedOpenLoop(t *testing.T) {
	// The run: 150 req/s offered, the server serves 12 (4 slots of
	// 1/3 s), 10 s, the drain cuts the rest at 30 s.
	c := sim{Rate: 150, Duration: 10 * time.Second, Slots: 4, Service: time.Second / 3, Jitter: 0.05, Drain: 30 * time.Second, Seed: 1}
	got := summarize(t, c.samples(), c.load())
	l, ok := labelOf(got, TestRate)
	if !ok || l.Name != LabelSaturated || l.Effect != EffectWarn {
		t.Fatalf("no saturated/rate label with effect warn: %+v", got.Labels)
	}
	if a, o := l.Values["achieved_rate"], l.Values["offered_rate"]; math.Abs(a-12) > 1 || math.Abs(o-150) > 5 {
		t.Errorf("achieved %v offered %v, want ~12 and ~150", a, o)
	}
	if !strings.Contains(l.Evidence, "achieved 12.0") || !strings.Contains(l.Evidence, "of 150 requests/s offered") {
		t.Errorf("evidence %q lacks the numbers", l.Evidence)
	}
}

func TestSaturationHealthyOpenLoop(t *testing.T) {
	for seed := range uint64(20) {
		for _, c := range []sim{
			{Rate: 10, Duration: 30 * time.Second, Slots: 4, Service: 100 * ms, Jitter: 0.3, Seed: seed},
			{Rate: 20, Poisson: true, Duration: 30 * time.Second, Slots: 8, Service: 200 * ms, Jitter: 0.5, Seed: seed},
			// Short, with latency near the window's length.
			{Rate: 20, Poisson: true, Duration: 2 * time.Second, Slots: 64, Service: 1500 * ms, Jitter: 0.5, Seed: seed},
		} {
			got := summarize(t, c.samples(), c.load())
			if len(got.Labels) > 0 {
				t.Errorf("seed %d, %+v: labels %+v", seed, c, got.Labels)
			}
		}
	}
}

func TestSaturationLatencyTrend(t *testing.T) {
	// 13 req/s against 12: achieved is 92% of offered (no rate label),
	// but the queue, and so latency, grows all along.
	c := sim{Rate: 13, Duration: 60 * time.Second, Slots: 4, Service: time.Second / 3, Jitter: 0.05, Seed: 3}
	got := summarize(t, c.samples(), c.load())
	l, ok := labelOf(got, TestTrend)
	if !ok || l.Name != LabelSaturated {
		t.Fatalf("no trend label: %+v", got.Labels)
	}
	// The queue grows by 1 request/s, served at 12/s: +1/12 s per second.
	if s := l.Values["slope"]; math.Abs(s-1.0/12) > 0.02 || l.Values["slope_lo"] <= 0 {
		t.Errorf("slope %v (lo %v), want ~0.083", s, l.Values["slope_lo"])
	}
	if _, rate := labelOf(got, TestRate); rate {
		t.Errorf("rate label at 92%% achieved: %+v", got.Labels)
	}
}

func TestSaturationFlatNoisyLatency(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 9))
		var ss []results.Sample
		for i := range 600 { // 10/s for 60 s
			sched := time.Duration(i) * 100 * ms
			lat := time.Duration((0.5 + 0.4*(2*r.Float64()-1)) * float64(time.Second))
			ss = append(ss, results.Sample{Scheduled: sched, Sent: sched, Done: sched + lat})
		}
		got := summarize(t, ss, &results.Load{Mode: results.ModeOpen, Rate: 10})
		if len(got.Labels) > 0 {
			t.Errorf("seed %d: labels %+v", seed, got.Labels)
		}
	}
}

func TestSaturationShortCaseNotJudgedForTrend(t *testing.T) {
	// Growing latency, but only 5 seconds: below TrendMinBins.
	var ss []results.Sample
	for i := range 50 {
		sched := time.Duration(i) * 100 * ms
		ss = append(ss, results.Sample{Scheduled: sched, Sent: sched, Done: sched + time.Duration(i)*20*ms + 10*ms})
	}
	got := summarize(t, ss, &results.Load{Mode: results.ModeOpen, Rate: 10})
	if _, ok := labelOf(got, TestTrend); ok {
		t.Errorf("trend judged on 5 seconds: %+v", got.Labels)
	}
}

func TestSaturationBackpressureVsClientLag(t *testing.T) {
	tests := []struct {
		name      string
		c         sim
		want, not string
		warning   string
	}{
		{"slot waits recorded", sim{Rate: 20, Duration: 10 * time.Second, Slots: 8, Service: 500 * ms, MaxConcurrency: 4, RecordSlot: true, Seed: 1},
			LabelBackpressure, LabelClientLag, "server backpressure: waits for a max_concurrency slot"},
		{"client lag with slots free", sim{Rate: 5, Duration: 10 * time.Second, Slots: 8, Service: 100 * ms, MaxConcurrency: 4, RecordSlot: true, Lag: 50 * ms, Seed: 1},
			LabelClientLag, LabelBackpressure, "generator lag: client lag p99 50 ms"},
		{"client lag, no max_concurrency", sim{Rate: 10, Duration: 10 * time.Second, Slots: 8, Service: 100 * ms, Lag: 50 * ms, Seed: 1},
			LabelClientLag, LabelBackpressure, "generator lag: queue_delay p99 50 ms"},
		{"slot waits not recorded: in flight reached max_concurrency", sim{Rate: 20, Duration: 10 * time.Second, Slots: 8, Service: 500 * ms, MaxConcurrency: 4, Seed: 1},
			LabelBackpressure, LabelClientLag, "queue_delay p99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarize(t, tt.c.samples(), tt.c.load())
			has := map[string]bool{}
			for _, l := range got.Labels {
				has[l.Name] = true
			}
			if !has[tt.want] || has[tt.not] {
				t.Errorf("labels %+v: want %s, not %s", got.Labels, tt.want, tt.not)
			}
			found := false
			for _, w := range got.Warnings {
				found = found || strings.HasPrefix(w, tt.warning)
				if tt.want == LabelBackpressure && strings.HasPrefix(w, "generator lag") {
					t.Errorf("backpressure blamed on the client: %q", w)
				}
			}
			if !found {
				t.Errorf("warnings %q: want one starting %q", got.Warnings, tt.warning)
			}
		})
	}
}

// TestSaturationDefaultBoundBackpressure: an open loop without
// max_concurrency whose requests waited for the runner's default in-flight
// bound (results.DefaultMaxInFlight) is labelled backpressure, and the
// evidence and warning say the client held them at the default bound, not
// "one of 0 slots" and not silence.
func TestSaturationDefaultBoundBackpressure(t *testing.T) {
	c := sim{Rate: 20, Duration: 10 * time.Second, Slots: 8, Service: 500 * ms, MaxConcurrency: 4, RecordSlot: true, Seed: 1}
	load := c.load()
	load.MaxConcurrency = 0 // the samples' slot waits are the default bound's
	got := summarize(t, c.samples(), load)
	l, ok := labelOf(got, TestSlotWait)
	if !ok || l.Name != LabelBackpressure || l.Values["max_concurrency"] != results.DefaultMaxInFlight ||
		!strings.Contains(l.Evidence, "without max_concurrency (the client held these requests") {
		t.Fatalf("labels %+v: want backpressure at the default bound %d, the client named", got.Labels, results.DefaultMaxInFlight)
	}
	found := false
	for _, w := range got.Warnings {
		found = found || strings.HasPrefix(w, fmt.Sprintf("server backpressure: waits for one of the %d in-flight slots of an open loop without max_concurrency", results.DefaultMaxInFlight))
	}
	if !found {
		t.Errorf("warnings %q: want the default bound's backpressure", got.Warnings)
	}
}

func TestSaturationServerQueue(t *testing.T) {
	// Closed loop: Ollama says it worked 0.5 s of the 2 s the client waited.
	var ss []results.Sample
	for i := range 40 {
		sched := time.Duration(i) * 2 * time.Second
		ss = append(ss, results.Sample{Scheduled: sched, Sent: sched, FirstToken: sched + 1600*ms, LastToken: sched + 1990*ms, Done: sched + 2*time.Second,
			OutputTokens: 10, Server: map[string]float64{"prompt_eval_duration": 0.1, "eval_duration": 0.4}})
	}
	got := summarize(t, ss, &results.Load{Mode: results.ModeClosed, Users: 64})
	l, ok := labelOf(got, TestServerQueue)
	if !ok || math.Abs(l.Values["server_queue_p50"]-1.5) > 0.02 {
		t.Fatalf("want a server_queue label with 1.5 s queued: %+v", got.Labels)
	}
	// The server's own queue_time key, small: no label.
	for i := range ss {
		ss[i].Server = map[string]float64{"queue_time": 0.1}
	}
	if got := summarize(t, ss, &results.Load{Mode: results.ModeClosed, Users: 1}); len(got.Labels) > 0 {
		t.Errorf("labels %+v", got.Labels)
	}
}

func TestPlateauLabels(t *testing.T) {
	mk := func(users, prompt string, rps, ttft float64) Case {
		return Case{ID: "chat/users=" + users + ",p=" + prompt, Benchmark: "chat", Params: map[string]string{"users": users, "prompt_tokens": prompt},
			Metrics: map[string]Metric{MetricRequestsPerSecond: {Kind: KindRate, Value: rps}, MetricTTFT: {Kind: KindDistribution, P50: ttft}}}
	}
	cases := []Case{
		mk("16", "128", 20, 0.2), mk("4", "128", 10, 0.1), mk("8", "128", 19, 0.105), mk("32", "128", 20.5, 0.4),
		// Another sweep of the same benchmark, scaling well.
		mk("4", "512", 5, 0.3), mk("8", "512", 9.8, 0.31), mk("16", "512", 19, 0.33),
	}
	PlateauLabels(cases)
	want := map[string]bool{"chat/users=16,p=128": true, "chat/users=32,p=128": true}
	for _, c := range cases {
		l, ok := labelOf(c, TestPlateau)
		if ok != want[c.ID] {
			t.Errorf("%s: plateau label %v, want %v (%+v)", c.ID, ok, want[c.ID], c.Labels)
		}
		if ok && (l.Name != LabelSaturated || !strings.Contains(l.Evidence, "users 8 → 16") && !strings.Contains(l.Evidence, "users 16 → 32")) {
			t.Errorf("%s: label %+v", c.ID, l)
		}
	}
}

func TestFitTrend(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5, 6}
	y := []float64{2.1, 3.9, 6.2, 7.8, 10.1, 11.9} // ≈ 2x
	tr, ok := FitTrend(x, y)
	if !ok || math.Abs(tr.Slope-1.977143) > 1e-4 || math.Abs(tr.Intercept-0.08) > 1e-4 {
		t.Fatalf("fit %+v", tr)
	}
	// se = sqrt(SSE/(n−2)/Sxx), t(0.975, 4) = 2.776.
	if m := tr.Hi - tr.Slope; math.Abs(m-2.776*0.0397954) > 1e-3 {
		t.Errorf("margin %v", m)
	}
	if _, ok := FitTrend([]float64{1, 1, 1}, []float64{1, 2, 3}); ok {
		t.Error("fit with all x equal")
	}
}

func TestTQuantile975(t *testing.T) {
	for _, c := range []struct{ nu, want float64 }{{3, 3.182}, {4, 2.776}, {8, 2.306}, {30, 2.042}, {1000, 1.962}} {
		if got := tQuantile975(c.nu); math.Abs(got-c.want) > 0.01 {
			t.Errorf("t(0.975, %v) = %v, want %v", c.nu, got, c.want)
		}
	}
}

func TestLabelEffects(t *testing.T) {
	label := Label{Name: LabelSaturated, Test: TestRate, Evidence: "achieved 12 of 150"}
	for _, tt := range []struct {
		effect, verdict string
		errors          int
	}{{"", Pass, 0}, {EffectWarn, Pass, 0}, {EffectFail, Fail, 0}, {EffectError, Error, 1}} {
		c := Case{ID: "c", Labels: []Label{label}}
		c.ApplyLabelEffect(tt.effect)
		c.Rollup()
		if c.Verdict != tt.verdict || len(c.Errors) != tt.errors {
			t.Errorf("effect %q: verdict %s, errors %q", tt.effect, c.Verdict, c.Errors)
		}
		if tt.errors > 0 && !strings.Contains(c.Errors[0], "achieved 12 of 150") {
			t.Errorf("error %q lacks the evidence", c.Errors[0])
		}
	}
}
