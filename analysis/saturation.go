package analysis

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/benchrun/benchrun/runner/results"
)

// This file detects saturation: a case whose numbers describe a queue, not
// the service (docs/analysis.md, "Saturation"). SummarizeCase labels a case
// from its own samples, in the same pass as its metrics; PlateauLabels
// compares the cases of a users sweep. What a label does (warn, fail,
// error) is the suite's choice, applied by Case.ApplyLabelEffect before
// Rollup.

// Label names.
const (
	// LabelSaturated: the server did not keep up with the load: achieved
	// rate below the offered one, latency growing over the window, requests
	// queued inside the server, or throughput flat across a users sweep.
	LabelSaturated = "saturated"
	// LabelBackpressure: open-loop requests waited for a max_concurrency
	// slot because every slot was busy with the server's slow answers.
	LabelBackpressure = "backpressure"
	// LabelClientLag: the load generator itself fell behind its schedule
	// (the client machine, not the server).
	LabelClientLag = "client_lag"
)

// Label effects: what a label does to the case's verdict, from the suite's
// [benchmark] saturation key.
const (
	EffectWarn  = "warn"  // shown everywhere; the verdict is unchanged (default)
	EffectFail  = "fail"  // the case fails (exit 1)
	EffectError = "error" // the case is an execution error (exit 2)
)

// Tests that find a label (Label.Test).
const (
	TestRate         = "rate"          // achieved vs offered rate (open loop)
	TestTrend        = "trend"         // latency slope over the window (open loop)
	TestServerQueue  = "server_queue"  // server-reported queue time vs client time
	TestWaitingQueue = "waiting_queue" // num_requests_waiting grew over the run
	TestPlateau      = "plateau"       // throughput flat across a users sweep
	TestSlotWait     = "slot_wait"     // time waiting for a max_concurrency slot
	TestLag          = "lag"           // send time minus schedule, slot waits excluded
)

// The constants of the saturation tests (docs/analysis.md, "Saturation").
const (
	// SaturationRateRatio: an open-loop case whose achieved rate is below
	// this share of the offered rate is saturated.
	SaturationRateRatio = 0.9
	// RateMinOperations is the number of measured operations a repetition
	// needs scheduled, and half of it completed, before its rates are
	// compared.
	RateMinOperations = 20
	// TrendMinBins is the number of one-second bins with a latency (and
	// so of seconds) a repetition needs before its trend is tested.
	TrendMinBins = 10
	// TrendConfidence is the two-sided confidence of the slope's interval;
	// the slope is significant when the interval lies above zero.
	TrendConfidence = 0.95
	// TrendMinGrowth: a significant slope must also raise the latency by
	// this share of its median over the window, so a tiny drift in a long
	// run does not count.
	TrendMinGrowth = 0.5
	// ServerQueueShare: when the server's queue time is at least this
	// share of the client's time (medians), the case is saturated.
	ServerQueueShare = 0.5
	// ServerQueueMinSamples is the number of operations with server
	// timings needed for that test.
	ServerQueueMinSamples = 20
	// PlateauGain: across a users sweep, throughput that rises by less than
	// this share of the users' relative increase has plateaued ...
	PlateauGain = 0.1
	// PlateauLatencyGrowth: ... when latency rises by at least this share
	// of the users' relative increase.
	PlateauLatencyGrowth = 0.5
)

// Label is a finding about a case that its metrics alone do not show: the
// case measured a queue (saturated, backpressure) or the client
// (client_lag). Evidence says it in one line with the numbers; Values holds
// them in base units.
type Label struct {
	Name     string             `json:"name"`     // LabelSaturated, LabelBackpressure, LabelClientLag
	Test     string             `json:"test"`     // the test that found it: TestRate, TestTrend, ...
	Evidence string             `json:"evidence"` // e.g. "achieved 12.0 requests/s of 150 requests/s offered (8%; below 90%)"
	Values   map[string]float64 `json:"values,omitempty"`
	Effect   string             `json:"effect"` // EffectWarn, EffectFail or EffectError
}

// ApplyLabelEffect sets what the case's labels do: EffectWarn (or "")
// leaves the verdict alone, EffectFail makes Rollup fail the case, and
// EffectError adds an execution error per label. It is judged once, before
// Rollup.
func (c *Case) ApplyLabelEffect(effect string) {
	if effect == "" {
		effect = EffectWarn
	}
	for i := range c.Labels {
		l := &c.Labels[i]
		l.Effect = effect
		if effect == EffectError {
			c.Errors = append(c.Errors, fmt.Sprintf("%s (%s; saturation = %q): %s", l.Name, l.Test, effect, l.Evidence))
		}
	}
}

// satAcc accumulates, in SummarizeCase's pass, what the saturation tests
// need. Its memory grows with the run's length (counters per 100 ms, a
// histogram per second), not with the number of operations.
type satAcc struct {
	reps          map[int]*satRep
	lag, slotWait Histogram // seconds, measured operations that were sent
	slotRecorded  bool      // some sample has SlotWait: lag and slot waits are apart
	srvQueue      Histogram // server queue time, seconds
	srvClient     Histogram // client time (done − sent) of the same operations
	// clientSum, clientN: client time (done − sent) of every successful
	// operation, for the scraped queue time (scrapedQueue), which is not
	// per operation.
	clientSum    float64
	clientN      int
	scrapedQueue *ServerLatency // the server's queue-time histogram over the window, nil without one
}

// satRep is one repetition's schedule and completions.
type satRep struct {
	nSched                int
	firstSched, lastSched float64
	done                  coMoments          // (scheduled, done) of the completed operations
	lat                   map[int]*Histogram // latency (ttft, else e2e) of successful operations by second of Scheduled
}

// coMoments accumulates the means and (co)variances of (x, y) pairs in
// one pass (Welford's update), numerically stable for large offsets.
type coMoments struct {
	n             int
	mx, my        float64
	sxx, syy, sxy float64
}

func (m *coMoments) add(x, y float64) {
	m.n++
	dx := x - m.mx
	m.mx += dx / float64(m.n)
	dy := y - m.my
	m.my += dy / float64(m.n)
	m.sxx += dx * (x - m.mx)
	m.syy += dy * (y - m.my)
	m.sxy += dx * (y - m.my)
}

func newSatAcc() *satAcc { return &satAcc{reps: map[int]*satRep{}} }

func (sa *satAcc) rep(r int) *satRep {
	x := sa.reps[r]
	if x == nil {
		x = &satRep{lat: map[int]*Histogram{}}
		sa.reps[r] = x
	}
	return x
}

// sample records one measured (non-warm-up) operation, canceled ones
// included: they were scheduled, and never completed.
func (sa *satAcc) sample(s *results.Sample) {
	r := sa.rep(s.Rep)
	sched := sec(s.Scheduled)
	if r.nSched == 0 || sched < r.firstSched {
		r.firstSched = sched
	}
	if r.nSched == 0 || sched > r.lastSched {
		r.lastSched = sched
	}
	r.nSched++
	switch s.Error {
	case results.ErrCanceled:
		return // maybe never sent: no lag either
	case results.ErrUnfinished: // offered, never achieved
	default:
		r.done.add(sched, sec(s.Done))
	}
	if s.Sent == 0 {
		return // unfinished before it was sent: no wait or lag to measure
	}
	if s.SlotWait > 0 {
		sa.slotRecorded = true
	}
	sa.slotWait.Add(sec(s.SlotWait))
	sa.lag.Add(sec(s.Sent - s.Scheduled - s.SlotWait))
	if !s.OK() {
		return
	}
	lat := s.Done
	if s.FirstToken != 0 {
		lat = s.FirstToken
	} else if s.LastToken != 0 {
		lat = s.LastToken
	}
	k := int(math.Floor(sec(s.Scheduled)))
	h := r.lat[k]
	if h == nil {
		h = &Histogram{}
		r.lat[k] = h
	}
	h.Add(sec(lat - s.Scheduled))
	sa.clientSum += sec(s.Done - s.Sent)
	sa.clientN++
	if q, ok := serverQueue(s); ok {
		sa.srvQueue.Add(q)
		sa.srvClient.Add(sec(s.Done - s.Sent))
	}
}

// serverQueue returns how long the server kept the operation waiting, in
// seconds: Server["queue_time"] when the server reports it, else for
// Ollama the client's time minus the server's work (load, prompt eval
// and eval durations).
func serverQueue(s *results.Sample) (float64, bool) {
	if q, ok := s.Server["queue_time"]; ok {
		return q, true
	}
	eval, ok := s.Server["eval_duration"]
	if !ok {
		return 0, false
	}
	work := eval + s.Server["prompt_eval_duration"] + s.Server["load_duration"]
	return max(sec(s.Done-s.Sent)-work, 0), true
}

// labels runs the tests of one case. load is the case's load (nil when
// unknown: the open-loop tests are skipped), lagLimit the queue-delay
// limit in seconds, series the waiting-queue series.
func (sa *satAcc) labels(load *results.Load, lagLimit float64, series []seriesPoint, tl *Timeline) []Label {
	var out []Label
	open := load != nil && load.Mode == results.ModeOpen
	if open {
		if l, ok := sa.rateLabel(); ok {
			out = append(out, l)
		}
		if l, ok := sa.trendLabel(); ok {
			out = append(out, l)
		}
	}
	if l, ok := sa.serverQueueLabel(); ok {
		out = append(out, l)
	}
	if from, to, grew := queueGrowth(series); grew {
		out = append(out, Label{Name: LabelSaturated, Test: TestWaitingQueue,
			Evidence: fmt.Sprintf("the server's waiting queue grew from %.3g to %.3g requests over the run", from, to),
			Values:   map[string]float64{"waiting_from": from, "waiting_to": to}})
	}
	return append(out, sa.lagLabels(load, lagLimit, tl)...)
}

// rateLabel compares the achieved with the offered rate. Offered is the
// schedule's: (scheduled operations − 1) / (last − first scheduled time).
// Achieved follows from the least-squares slope β of completion time on
// scheduled time over the completed (succeeded or failed) operations:
// with the latency steady, completions follow the schedule shifted by it
// (β = 1, whatever the latency's spread); when the server cannot keep up
// they follow its own pace, β = offered / achieved. So achieved =
// offered / β, and the case is saturated when β's TrendConfidence interval
// lies above 1/SaturationRateRatio. Canceled and unfinished operations
// count as scheduled, never as completed; repetitions pool (each with its
// own intercept). When too few completed to fit (fewer than
// RateMinOperations/2), fewer than half of the scheduled completing is
// saturation.
func (sa *satAcc) rateLabel() (Label, bool) {
	var nOff, span float64
	var sxx, sxy, syy float64
	var n, reps, scheduled, completed int
	for _, id := range slices.Sorted(maps.Keys(sa.reps)) {
		r := sa.reps[id]
		if r.nSched < RateMinOperations || r.lastSched <= r.firstSched {
			continue
		}
		nOff += float64(r.nSched - 1)
		span += r.lastSched - r.firstSched
		scheduled += r.nSched
		completed += r.done.n
		if r.done.n >= 2 {
			sxx, sxy, syy = sxx+r.done.sxx, sxy+r.done.sxy, syy+r.done.syy
			n += r.done.n
			reps++
		}
	}
	if span == 0 {
		return Label{}, false
	}
	offered := nOff / span
	values := map[string]float64{"offered_rate": offered, "scheduled": float64(scheduled), "completed": float64(completed)}
	df := n - reps - 1
	if df < 1 || sxx <= 0 || 2*n < RateMinOperations {
		if 2*completed >= scheduled {
			return Label{}, false
		}
		return Label{Name: LabelSaturated, Test: TestRate,
			Evidence: fmt.Sprintf("only %d of %d scheduled operations completed at %s offered: the server did not keep up with the schedule",
				completed, scheduled, FormatValue(offered, UnitRequestsPerSecond)),
			Values: values}, true
	}
	beta := sxy / sxx
	se := math.Sqrt(max(syy-beta*sxy, 0) / float64(df) / sxx)
	lo := beta - tQuantile975(float64(df))*se
	if lo <= 1/SaturationRateRatio {
		return Label{}, false
	}
	achieved, ratio := offered/beta, 1/beta
	values["achieved_rate"], values["ratio"], values["ratio_hi"] = achieved, ratio, 1/lo
	cut := ""
	if completed < scheduled {
		cut = fmt.Sprintf("; %d of %d scheduled completed", completed, scheduled)
	}
	return Label{Name: LabelSaturated, Test: TestRate,
		Evidence: fmt.Sprintf("achieved %s of %s offered (%.0f%%, 95%% bound %.0f%%, limit %.0f%%%s): the server fell behind",
			FormatValue(achieved, UnitRequestsPerSecond), FormatValue(offered, UnitRequestsPerSecond), 100*ratio, 100/lo, 100*SaturationRateRatio, cut),
		Values: values}, true
}

// Trend is a least-squares line through points and its slope's
// confidence interval.
type Trend struct {
	N                int     // points
	Slope, Intercept float64 // y = Intercept + Slope·x
	Lo, Hi           float64 // TrendConfidence interval of Slope (Student's t, N−2 degrees of freedom)
}

// FitTrend fits y = a + b·x by least squares; ok is false with fewer than
// three points or all x equal.
func FitTrend(x, y []float64) (Trend, bool) {
	n := len(x)
	if n < 3 || len(y) != n {
		return Trend{}, false
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxx, sxy float64
	for i := range x {
		sxx += (x[i] - mx) * (x[i] - mx)
		sxy += (x[i] - mx) * (y[i] - my)
	}
	if sxx == 0 {
		return Trend{}, false
	}
	b := sxy / sxx
	a := my - b*mx
	var sse float64
	for i := range x {
		e := y[i] - a - b*x[i]
		sse += e * e
	}
	se := math.Sqrt(sse / float64(n-2) / sxx)
	m := tQuantile975(float64(n-2)) * se
	return Trend{N: n, Slope: b, Intercept: a, Lo: b - m, Hi: b + m}, true
}

// tQuantile975 is the 0.975 quantile of Student's t with nu degrees of
// freedom (the two-sided 95% critical value), by the Cornish-Fisher
// expansion around the normal quantile (Abramowitz & Stegun 26.7.5);
// within 0.002 for nu ≥ 3.
func tQuantile975(nu float64) float64 {
	const z = 1.959963984540054
	z3, z5, z7, z9 := z*z*z, math.Pow(z, 5), math.Pow(z, 7), math.Pow(z, 9)
	g1 := (z3 + z) / 4
	g2 := (5*z5 + 16*z3 + 3*z) / 96
	g3 := (3*z7 + 19*z5 + 17*z3 - 15*z) / 384
	g4 := (79*z9 + 776*z7 + 1482*z5 - 1920*z3 - 945*z) / 92160
	return z + g1/nu + g2/(nu*nu) + g3/(nu*nu*nu) + g4/(nu*nu*nu*nu)
}

// trendLabel tests each repetition's latency for growth over its window:
// the medians of the successful operations' ttft (e2e without tokens) by
// second of their scheduled time, fitted by least squares. Saturated when,
// in some repetition with at least TrendMinBins seconds, the slope's
// TrendConfidence interval lies above zero and the fitted rise over the
// window is at least TrendMinGrowth of the median of the medians.
func (sa *satAcc) trendLabel() (Label, bool) {
	for _, id := range slices.Sorted(maps.Keys(sa.reps)) {
		r := sa.reps[id]
		if len(r.lat) < TrendMinBins {
			continue
		}
		var x, y []float64
		for _, k := range slices.Sorted(maps.Keys(r.lat)) {
			x = append(x, float64(k)+0.5)
			y = append(y, r.lat[k].Percentile(50))
		}
		t, ok := FitTrend(x, y)
		if !ok || t.Lo <= 0 {
			continue
		}
		window := x[len(x)-1] - x[0]
		rise, med := t.Slope*window, Percentile(slices.Clone(y), 50)
		if rise < TrendMinGrowth*med {
			continue
		}
		return Label{Name: LabelSaturated, Test: TestTrend,
			Evidence: fmt.Sprintf("latency grew %s per second over %s (95%% interval %s to %s per second; +%s over the window, median %s): requests queue up",
				FormatValue(t.Slope, UnitSeconds), FormatValue(window, UnitSeconds), FormatValue(t.Lo, UnitSeconds), FormatValue(t.Hi, UnitSeconds),
				FormatValue(rise, UnitSeconds), FormatValue(med, UnitSeconds)),
			Values: map[string]float64{"slope": t.Slope, "slope_lo": t.Lo, "slope_hi": t.Hi, "window_seconds": window, "rise": rise, "median": med}}, true
	}
	return Label{}, false
}

// serverQueueLabel: saturated when the server kept requests waiting for
// at least ServerQueueShare of the client's time (medians), in open or
// closed loop.
func (sa *satAcc) serverQueueLabel() (Label, bool) {
	if sa.srvQueue.Count() < ServerQueueMinSamples {
		return sa.scrapedQueueLabel()
	}
	q, c := sa.srvQueue.Percentile(50), sa.srvClient.Percentile(50)
	if !(c > 0) || q < ServerQueueShare*c {
		return Label{}, false
	}
	return Label{Name: LabelSaturated, Test: TestServerQueue,
		Evidence: fmt.Sprintf("requests waited in the server's queue %s of %s client time (medians, %.0f%%; %.0f%% or more is saturation)",
			FormatValue(q, UnitSeconds), FormatValue(c, UnitSeconds), 100*q/c, 100*ServerQueueShare),
		Values: map[string]float64{"server_queue_p50": q, "client_p50": c, "share": q / c}}, true
}

// scrapedQueueLabel is the server-queue test on the server's own queue-time
// histogram (vllm:request_queue_time_seconds, scraped over the window)
// when the samples carry no per-operation queue time: saturated when the
// mean queue time is at least ServerQueueShare of the client's mean time
// (done − sent). Means, not medians: the histogram's median is only
// known within a bucket (vLLM's first ends at 0.3 s), its mean exactly.
func (sa *satAcc) scrapedQueueLabel() (Label, bool) {
	sq := sa.scrapedQueue
	if sq == nil || sq.Count < ServerQueueMinSamples || sa.clientN < ServerQueueMinSamples {
		return Label{}, false
	}
	q, c := sq.Mean, sa.clientSum/float64(sa.clientN)
	if !(c > 0) || q < ServerQueueShare*c {
		return Label{}, false
	}
	return Label{Name: LabelSaturated, Test: TestServerQueue,
		Evidence: fmt.Sprintf("requests waited in the server's queue %s of %s client time (means; the server's vllm:request_queue_time_seconds over the window, %.0f%%; %.0f%% or more is saturation)",
			FormatValue(q, UnitSeconds), FormatValue(c, UnitSeconds), 100*q/c, 100*ServerQueueShare),
		Values: map[string]float64{"server_queue_mean": q, "client_mean": c, "share": q / c}}, true
}

// lagLabels tells the server pushing back (waiting for a max_concurrency
// slot) from the client falling behind (the rest of the queue delay),
// each labelled when its p99 is beyond lagLimit. Samples without slot
// waits recorded but with max_concurrency set cannot be split: their
// queue delay is called backpressure when the operations in flight reached
// max_concurrency at some point of the timeline, else client lag.
func (sa *satAcc) lagLabels(load *results.Load, lagLimit float64, tl *Timeline) []Label {
	var out []Label
	limit := FormatValue(lagLimit, UnitSeconds)
	slots, slotName := 0, "max_concurrency slots"
	if load != nil && load.Mode == results.ModeOpen {
		slots = load.MaxConcurrency
	}
	if sa.slotRecorded {
		if slots == 0 && load != nil {
			// No max_concurrency: the runner's default bound held them.
			slots = load.InFlightBound()
			slotName = "in-flight slots benchrun allows an open loop without max_concurrency (the client held these requests; the server never saw them at their scheduled time)"
		}
		if p := sa.slotWait.Percentile(99); p > lagLimit {
			out = append(out, Label{Name: LabelBackpressure, Test: TestSlotWait,
				Evidence: fmt.Sprintf("requests waited for one of %d %s, p99 %s beyond %s: the server answered too slowly for the offered rate",
					slots, slotName, FormatValue(p, UnitSeconds), limit),
				Values: map[string]float64{"slot_wait_p99": p, "limit": lagLimit, "max_concurrency": float64(slots)}})
		}
		if p := sa.lag.Percentile(99); p > lagLimit {
			out = append(out, Label{Name: LabelClientLag, Test: TestLag,
				Evidence: fmt.Sprintf("the client sent late, p99 %s beyond %s (slot waits excluded): the load generator could not keep its schedule", FormatValue(p, UnitSeconds), limit),
				Values:   map[string]float64{"lag_p99": p, "limit": lagLimit}})
		}
		return out
	}
	p := sa.lag.Percentile(99) // = queue delay: no slot waits recorded
	if sa.lag.Count() == 0 || p <= lagLimit {
		return nil
	}
	if slots > 0 {
		peak := 0.0
		if tl != nil {
			for _, v := range tl.Series(math.MaxInt32).InFlight {
				peak = max(peak, v)
			}
		}
		if peak >= float64(slots) {
			return []Label{{Name: LabelBackpressure, Test: TestSlotWait,
				Evidence: fmt.Sprintf("queue delay p99 %s beyond %s while all %d max_concurrency slots were busy (these samples do not record slot waits; counted as backpressure)",
					FormatValue(p, UnitSeconds), limit, slots),
				Values: map[string]float64{"queue_delay_p99": p, "limit": lagLimit, "max_concurrency": float64(slots), "in_flight_peak": peak}}}
		}
	}
	return []Label{{Name: LabelClientLag, Test: TestLag,
		Evidence: fmt.Sprintf("the client sent late, queue delay p99 %s beyond %s: the load generator could not keep its schedule", FormatValue(p, UnitSeconds), limit),
		Values:   map[string]float64{"lag_p99": p, "limit": lagLimit}}}
}

// PlateauLabels labels the cases of a users sweep whose throughput stopped
// rising while latency rose. It compares, among cases of one benchmark
// that differ only in their "users" parameter, each case with the one with
// the next fewer users: with u the users' relative increase, a throughput
// (requests_per_second) gain below PlateauGain·u and a latency (ttft p50,
// else e2e p50) rise of at least PlateauLatencyGrowth·u label the case with
// more users saturated. Cases with errors or without those metrics are left
// out. It runs after every case is summarised (SummarizeDir).
func PlateauLabels(cases []Case) {
	groups := map[string][]int{}
	var order []string
	for i := range cases {
		c := &cases[i]
		if _, ok := c.Params["users"]; !ok || len(c.Errors) > 0 || c.Verdict == Skipped {
			continue
		}
		key := c.Benchmark
		for _, k := range slices.Sorted(maps.Keys(c.Params)) {
			if k != "users" {
				key += "\x00" + k + "=" + c.Params[k]
			}
		}
		if _, seen := groups[key]; !seen {
			order = append(order, key)
		}
		groups[key] = append(groups[key], i)
	}
	for _, key := range order {
		type point struct {
			i         int
			users     float64
			tput, lat float64
			latMetric string
		}
		var pts []point
		for _, i := range groups[key] {
			c := &cases[i]
			u, err := strconv.ParseFloat(c.Params["users"], 64)
			x, okX := c.Metrics[MetricRequestsPerSecond]
			lm := MetricTTFT
			l, okL := c.Metrics[lm]
			if !okL {
				lm = MetricE2E
				l, okL = c.Metrics[lm]
			}
			if err != nil || !okX || !okL || u <= 0 || x.Value <= 0 || l.P50 <= 0 {
				continue
			}
			pts = append(pts, point{i: i, users: u, tput: x.Value, lat: l.P50, latMetric: lm})
		}
		slices.SortStableFunc(pts, func(a, b point) int {
			switch {
			case a.users < b.users:
				return -1
			case a.users > b.users:
				return 1
			}
			return 0
		})
		for j := 1; j < len(pts); j++ {
			p, q := pts[j-1], pts[j]
			if q.users <= p.users || q.latMetric != p.latMetric {
				continue
			}
			u := q.users/p.users - 1
			gain, rise := q.tput/p.tput-1, q.lat/p.lat-1
			if gain >= PlateauGain*u || rise < PlateauLatencyGrowth*u {
				continue
			}
			c := &cases[q.i]
			c.Labels = append(c.Labels, Label{Name: LabelSaturated, Test: TestPlateau, Effect: EffectWarn,
				Evidence: fmt.Sprintf("users %s → %s (%+.0f%%): requests_per_second %+.0f%% (%s → %s), %s p50 %+.0f%% (%s → %s): more users only queue",
					FormatNumber(p.users), FormatNumber(q.users), 100*u, 100*gain,
					FormatValue(p.tput, UnitRequestsPerSecond), FormatValue(q.tput, UnitRequestsPerSecond),
					q.latMetric, 100*rise, FormatValue(p.lat, UnitSeconds), FormatValue(q.lat, UnitSeconds)),
				Values: map[string]float64{"users_from": p.users, "users_to": q.users, "throughput_from": p.tput, "throughput_to": q.tput,
					"latency_p50_from": p.lat, "latency_p50_to": q.lat}})
		}
	}
}
