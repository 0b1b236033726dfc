package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

type testOp struct {
	sched, sent, done float64
	ok                bool
	tokens            int
	latency           float64
}

// naiveSeries bins ops the obvious way, holding every operation: the
// reference Timeline.Series must match.
func naiveSeries(ops []testOp, maxBins int) Series {
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
	nb := max(int(math.Ceil(dur/width)), 1)
	ts := Series{Width: width, T: make([]float64, nb), Completed: make([]float64, nb), OutputTokens: make([]float64, nb),
		Errors: make([]float64, nb), LatencyP50: make([]float64, nb), InFlight: make([]float64, nb)}
	lat := make([][]float64, nb)
	var sent, done []float64
	for _, o := range ops {
		b := min(max(int((o.done-start)/width), 0), nb-1)
		if o.ok {
			ts.Completed[b]++
			ts.OutputTokens[b] += float64(o.tokens)
			lat[b] = append(lat[b], o.latency)
		} else {
			ts.Errors[b]++
		}
		sent, done = append(sent, o.sent), append(done, o.done)
	}
	sort.Float64s(sent)
	sort.Float64s(done)
	for b := range nb {
		ts.T[b] = start + float64(b)*width
		mid := ts.T[b] + width/2
		ts.InFlight[b] = float64(sort.SearchFloat64s(sent, mid) - sort.SearchFloat64s(done, mid))
		ts.Completed[b] /= width
		ts.OutputTokens[b] /= width
		ts.Errors[b] /= width
		slices.Sort(lat[b])
		ts.LatencyP50[b] = Percentile(lat[b], 50)
	}
	return ts
}

func randomOps(r *rand.Rand, n int, span float64) []testOp {
	ops := make([]testOp, n)
	for i := range ops {
		sched := 0.3 + span*r.Float64()
		sent := sched + 0.01*r.Float64()
		lat := math.Exp(-1 + r.NormFloat64())
		ops[i] = testOp{sched, sent, sent + lat, r.IntN(10) > 0, r.IntN(100), sent + lat - sched}
	}
	return ops
}

func sameSeries(t *testing.T, name string, got, want Series, tol float64) {
	t.Helper()
	if got.Width != want.Width || !slices.Equal(got.T, want.T) {
		t.Fatalf("%s: width %v bins %v, want %v %v", name, got.Width, got.T, want.Width, want.T)
	}
	for _, f := range []struct {
		name      string
		got, want []float64
		tol       float64
	}{{"completed", got.Completed, want.Completed, 0}, {"tokens", got.OutputTokens, want.OutputTokens, 0},
		{"errors", got.Errors, want.Errors, 0}, {"in flight", got.InFlight, want.InFlight, 0}, {"p50", got.LatencyP50, want.LatencyP50, tol}} {
		for i := range f.want {
			g, w := f.got[i], f.want[i]
			if math.IsNaN(w) && math.IsNaN(g) {
				continue
			}
			if math.Abs(g-w) > f.tol*math.Abs(w) {
				t.Errorf("%s: %s[%d] = %v, want %v", name, f.name, i, g, w)
			}
		}
	}
}

func TestTimelineSeriesMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tt := range []struct {
		name    string
		n       int
		span    float64
		maxBins int
	}{{"one bin", 5, 0.2, 300}, {"whole seconds", 2000, 60, 300}, {"wide bins", 3000, 1000, 30}, {"odd width", 3000, 250, 100}} {
		ops := randomOps(r, tt.n, tt.span)
		var tl Timeline
		for _, o := range ops {
			tl.add(o.sched, o.sent, o.done, o.ok, o.tokens, o.latency, nil)
		}
		sameSeries(t, tt.name, tl.Series(tt.maxBins), naiveSeries(ops, tt.maxBins), 0)
	}
	var empty Timeline
	if s := empty.Series(10); len(s.T) != 0 {
		t.Errorf("empty timeline: %+v", s)
	}
}

// Past DefaultExactLimit latencies in all, each second keeps a histogram:
// the bin medians are within RelativeError.
func TestTimelineSpills(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	ops := randomOps(r, DefaultExactLimit+DefaultExactLimit/4, 100)
	var tl Timeline
	for _, o := range ops {
		tl.add(o.sched, o.sent, o.done, o.ok, o.tokens, o.latency, nil)
	}
	if !tl.spilled {
		t.Fatal("timeline kept every latency")
	}
	for _, s := range tl.secs {
		if s.latency != nil && s.latency.Exact() {
			t.Fatal("a second kept its latencies after the spill")
		}
	}
	sameSeries(t, "spilled", tl.Series(50), naiveSeries(ops, 50), RelativeError)
}

func TestDistBinCounts(t *testing.T) {
	d := NewDist(4)
	for _, v := range []float64{-1, 0, 0.5, 1.5, 2.5} {
		d.Add(v)
	}
	// Spilled into a histogram at the fifth value: every value sits in
	// its bin (none is within RelativeError of an edge).
	if got, want := d.BinCounts(1, 3), []int{3, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("histogram BinCounts = %v, want %v", got, want)
	}
	e := NewDist(0)
	for _, v := range []float64{-1, 0, 0.5, 0.99, 1, 1.5, 2, 7} {
		e.Add(v)
	}
	if got, want := e.BinCounts(1, 3), []int{4, 2, 2}; !slices.Equal(got, want) {
		t.Errorf("exact BinCounts = %v, want %v", got, want)
	}
}

// TestTimelineTotals: the running sums of a per-operation value (a chroma
// load's batch_vectors) count successful operations only, in the bin of
// their completion, and carry over empty bins.
func TestTimelineTotals(t *testing.T) {
	var tl Timeline
	v := func(n float64) map[string]float64 { return map[string]float64{"batch_vectors": n} }
	tl.add(0, 0, 0.5, true, 0, 0.5, v(100))
	tl.add(0, 0.2, 0.9, true, 0, 0.7, v(100))
	tl.add(1, 1, 1.5, false, 0, 0, v(1000)) // failed: not acknowledged
	tl.add(1, 1, 3.2, true, 0, 2.2, v(50))
	ts := tl.Series(100)
	want := []float64{200, 200, 200, 250}
	if got := ts.Totals["batch_vectors"]; !slices.Equal(got, want) {
		t.Fatalf("totals %v, want %v", got, want)
	}
	var none Timeline
	none.add(0, 0, 1, true, 0, 1, nil)
	if ts := none.Series(100); ts.Totals != nil {
		t.Fatalf("totals %v without values", ts.Totals)
	}
}
