package analysis

import (
	"maps"
	"math"
	"slices"
)

// Timeline holds a case's measured operations second by second, for charts
// of throughput, latency and errors over the run. SummarizeCase fills it in
// the same pass that summarises the case. Like a Dist it keeps the
// latencies exactly up to DefaultExactLimit in all, then one Histogram per
// second, so its memory grows with the run's length in seconds (a few
// counters and a histogram per second), not with the number of operations.
// Times are seconds from the case start. It is not safe for concurrent use.
type Timeline struct {
	seen       bool
	start, end float64 // earliest scheduled or actual send, latest completion
	secs       map[int]*second
	exact      int  // latencies kept exactly
	spilled    bool // exact passed DefaultExactLimit: histograms only
}

// second is one second [k, k+1) of a Timeline: the operations completed in
// it, and the sends and completions in each half, so the number in flight
// at any multiple of half a second is exact.
type second struct {
	completed, errors int
	tokens            float64
	sent, done        [2]int
	latency           *Dist              // e2e of the successful operations completed
	values            map[string]float64 // sums of the Values of the successful operations completed
}

func (t *Timeline) at(k int) *second {
	if t.secs == nil {
		t.secs = map[int]*second{}
	}
	s := t.secs[k]
	if s == nil {
		s = &second{}
		t.secs[k] = s
	}
	return s
}

// add records one measured operation: scheduled, sent and done times, and
// for a successful one its output tokens, latency (e2e) and the per-operation
// values a driver recorded (results.Sample.Values).
func (t *Timeline) add(sched, sent, done float64, ok bool, tokens int, latency float64, values map[string]float64) {
	if !t.seen || min(sched, sent) < t.start {
		t.start = min(sched, sent)
	}
	if !t.seen || done > t.end {
		t.end = done
	}
	t.seen = true
	half := func(v float64) (int, int) {
		h := int(math.Floor(2 * v))
		k := h >> 1 // floor(h/2), for negative h too
		return k, h - 2*k
	}
	k, h := half(sent)
	t.at(k).sent[h]++
	k, h = half(done)
	s := t.at(k)
	s.done[h]++
	if !ok {
		s.errors++
		return
	}
	s.completed++
	s.tokens += float64(tokens)
	for name, v := range values {
		if s.values == nil {
			s.values = map[string]float64{}
		}
		s.values[name] += v
	}
	if s.latency == nil {
		s.latency = NewDist(math.MaxInt)
		if t.spilled {
			s.latency.spill()
		}
	}
	s.latency.Add(latency)
	if t.spilled {
		return
	}
	if t.exact++; t.exact > DefaultExactLimit {
		for _, s := range t.secs {
			if s.latency != nil && s.latency.Exact() {
				s.latency.spill()
			}
		}
		t.spilled = true
	}
}

// Series is a Timeline in bins of Width seconds; every slice has one
// entry per bin.
type Series struct {
	Width float64
	// T is each bin's start, seconds from the case start.
	T []float64
	// Completed, OutputTokens and Errors are per second: successful
	// operations, their output tokens, and failed operations completed in
	// the bin.
	Completed, OutputTokens, Errors []float64
	// LatencyP50 is the median e2e of the successful operations completed
	// in the bin (Percentile's definition); NaN when there are none.
	LatencyP50 []float64
	// InFlight is the number of operations sent and not yet completed at
	// the bin's middle.
	InFlight []float64
	// Totals holds, for each per-operation value the successful operations
	// recorded (results.Sample.Values, e.g. a chroma load's batch_vectors),
	// its running sum through the end of each bin: the vectors
	// acknowledged so far. Nil when no operation recorded a value.
	Totals map[string][]float64
}

// Series bins the timeline into whole-second bins, or into wider ones
// (a whole number of seconds) when that would give more than maxBins.
// Bins start at the whole second at or before the first send; an
// operation counts in the bin its completion falls in. An empty timeline
// gives an empty Series.
func (t *Timeline) Series(maxBins int) Series {
	var ts Series
	if t == nil || !t.seen {
		return ts
	}
	start := math.Floor(t.start)
	dur := max(t.end-start, 1e-9)
	width := 1.0
	if dur/width > float64(maxBins) {
		width = math.Ceil(dur / float64(maxBins))
	}
	nb := max(int(math.Ceil(dur/width)), 1)
	ts.Width = width
	ts.T = make([]float64, nb)
	ts.Completed = make([]float64, nb)
	ts.OutputTokens = make([]float64, nb)
	ts.Errors = make([]float64, nb)
	ts.LatencyP50 = make([]float64, nb)
	ts.InFlight = make([]float64, nb)
	lat := make([]*Dist, nb)
	// Prefix counts of sends and completions by half second, from the
	// first second on.
	keys := slices.Sorted(maps.Keys(t.secs))
	first := keys[0]
	sentBefore := make([]int, 2*(keys[len(keys)-1]-first+1)+1)
	doneBefore := make([]int, len(sentBefore))
	for _, k := range keys {
		s := t.secs[k]
		for h := range 2 {
			sentBefore[2*(k-first)+h+1] = s.sent[h]
			doneBefore[2*(k-first)+h+1] = s.done[h]
		}
		// An operation's second k ≥ start; with width a whole number of
		// seconds, bin int((k−start)/width) is the bin of every time in k.
		b := min(max(int((float64(k)-start)/width), 0), nb-1)
		ts.Completed[b] += float64(s.completed)
		ts.OutputTokens[b] += s.tokens
		ts.Errors[b] += float64(s.errors)
		for name, v := range s.values {
			if ts.Totals == nil {
				ts.Totals = map[string][]float64{}
			}
			if ts.Totals[name] == nil {
				ts.Totals[name] = make([]float64, nb)
			}
			ts.Totals[name][b] += v
		}
		if s.latency != nil {
			if lat[b] == nil {
				lat[b] = NewDist(0)
			}
			lat[b].Merge(s.latency)
		}
	}
	for i := 1; i < len(sentBefore); i++ {
		sentBefore[i] += sentBefore[i-1]
		doneBefore[i] += doneBefore[i-1]
	}
	// before returns how many of a prefix count fall before time mid, a
	// multiple of half a second.
	before := func(prefix []int, mid float64) int {
		i := min(max(int(2*mid)-2*first, 0), len(prefix)-1)
		return prefix[i]
	}
	for _, tot := range ts.Totals {
		for b := 1; b < nb; b++ {
			tot[b] += tot[b-1]
		}
	}
	for b := range nb {
		t0 := start + float64(b)*width
		ts.T[b] = t0
		mid := t0 + width/2
		ts.InFlight[b] = float64(before(sentBefore, mid) - before(doneBefore, mid))
		ts.Completed[b] /= width
		ts.OutputTokens[b] /= width
		ts.Errors[b] /= width
		ts.LatencyP50[b] = math.NaN()
		if lat[b] != nil {
			ts.LatencyP50[b] = lat[b].Percentile(50)
		}
	}
	return ts
}
