package report

import (
	"errors"
	"io/fs"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// caseSamples is what the charts need from one case's samples file, warm-up
// excluded. Latencies are in seconds, sorted ascending.
type caseSamples struct {
	found     bool // the samples file exists
	readErr   string
	n, failed int
	ttft, e2e []float64
	itl       []float64
	series    timeSeries
	server    map[string][]float64 // Sample.Server values by key
	errClass  map[string]int
	errDetail map[string]string // first detail seen per class
}

// timeSeries holds per-bin values over the run; T is the bin start in
// seconds from the case start.
type timeSeries struct {
	Width                                  float64
	T, Completed, Tokens, P50, InFlight, E []float64
}

type opRecord struct {
	sched, sent, done float64
	ok                bool
	tokens            int
	latency           float64 // e2e, or done−scheduled when no token was seen
}

func secs(d time.Duration) float64 { return d.Seconds() }

// readCaseSamples reads the samples of case id and bins its time series
// into at most maxBins bins.
func readCaseSamples(path string, maxBins int) *caseSamples {
	cs := &caseSamples{server: map[string][]float64{}, errClass: map[string]int{}, errDetail: map[string]string{}}
	var ops []opRecord
	err := results.ReadSampleFile(path, func(s *results.Sample) error {
		if s.Warmup {
			return nil
		}
		cs.n++
		op := opRecord{sched: secs(s.Scheduled), sent: secs(s.Sent), done: secs(s.Done), ok: s.OK(), tokens: s.OutputTokens}
		op.latency = op.done - op.sched
		if s.OK() {
			if s.FirstToken > 0 {
				cs.ttft = append(cs.ttft, secs(s.FirstToken-s.Scheduled))
			}
			if s.LastToken > 0 {
				op.latency = secs(s.LastToken - s.Scheduled)
			}
			cs.e2e = append(cs.e2e, op.latency)
			for _, g := range s.ITL {
				cs.itl = append(cs.itl, secs(g))
			}
			for k, v := range s.Server {
				cs.server[k] = append(cs.server[k], v)
			}
		} else {
			cs.failed++
			cs.errClass[s.Error]++
			if _, ok := cs.errDetail[s.Error]; !ok {
				cs.errDetail[s.Error] = s.ErrorDetail
			}
		}
		ops = append(ops, op)
		return nil
	})
	switch {
	case err == nil:
		cs.found = true
	case errors.Is(err, fs.ErrNotExist):
		return cs
	default:
		cs.found = true
		cs.readErr = err.Error()
	}
	for _, v := range [][]float64{cs.ttft, cs.e2e, cs.itl} {
		slices.Sort(v)
	}
	for _, v := range cs.server {
		slices.Sort(v)
	}
	cs.series = binSeries(ops, maxBins)
	return cs
}

// binSeries bins operations by completion time into whole-second bins (or
// wider, to stay within maxBins): completed requests/s, output tokens/s,
// errors/s, the p50 latency of the operations completed in the bin, and the
// operations in flight at the bin's middle.
func binSeries(ops []opRecord, maxBins int) timeSeries {
	var ts timeSeries
	if len(ops) == 0 {
		return ts
	}
	start, end := math.Inf(1), math.Inf(-1)
	for _, o := range ops {
		start = min(start, o.sched, o.sent)
		end = max(end, o.done)
	}
	start = math.Floor(start)
	dur := max(end-start, 1e-9)
	width := 1.0
	if dur/width > float64(maxBins) {
		width = math.Ceil(dur / float64(maxBins))
	}
	nb := int(math.Ceil(dur/width)) + 0
	if nb < 1 {
		nb = 1
	}
	ts.Width = width
	ts.T = make([]float64, nb)
	ts.Completed = make([]float64, nb)
	ts.Tokens = make([]float64, nb)
	ts.E = make([]float64, nb)
	ts.P50 = make([]float64, nb)
	ts.InFlight = make([]float64, nb)
	lat := make([][]float64, nb)
	bin := func(t float64) int { return min(max(int((t-start)/width), 0), nb-1) }
	for _, o := range ops {
		b := bin(o.done)
		if o.ok {
			ts.Completed[b]++
			ts.Tokens[b] += float64(o.tokens)
			lat[b] = append(lat[b], o.latency)
		} else {
			ts.E[b]++
		}
	}
	// In flight at each bin's middle: sends minus completions before it.
	sent := make([]float64, len(ops))
	done := make([]float64, len(ops))
	for i, o := range ops {
		sent[i], done[i] = o.sent, o.done
	}
	sort.Float64s(sent)
	sort.Float64s(done)
	for b := range nb {
		t0 := start + float64(b)*width
		ts.T[b] = t0
		mid := t0 + width/2
		s := sort.SearchFloat64s(sent, mid)
		d := sort.SearchFloat64s(done, mid)
		ts.InFlight[b] = float64(s - d)
		ts.Completed[b] /= width
		ts.Tokens[b] /= width
		ts.E[b] /= width
		if len(lat[b]) > 0 {
			slices.Sort(lat[b])
			ts.P50[b] = analysis.Percentile(lat[b], 50)
		} else {
			ts.P50[b] = math.NaN()
		}
	}
	return ts
}
