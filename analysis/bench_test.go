package analysis

import (
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// vmHWM returns the process's peak resident set size in bytes (Linux), 0
// where /proc is not available.
func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseFloat(f[0], 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// BenchmarkDist10M summarises 10M lognormal latencies (exact path up to
// DefaultExactLimit, then the histogram) into a Metric with CIs. Goal:
// < 3 s and < 500 MB per op; it reports seconds/op, the peak heap in use
// and the process's VmHWM.
func BenchmarkDist10M(b *testing.B) {
	const n = 10_000_000
	var peakHeap uint64
	for b.Loop() {
		r := rand.New(rand.NewPCG(1, 2))
		d := NewDist(0)
		for i := range n {
			d.Add(math.Exp(-2 + 0.5*r.NormFloat64()))
			if i == DefaultExactLimit { // the largest the exact slice gets
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapInuse)
			}
		}
		m := d.Metric(UnitSeconds)
		if m.Count != n || len(m.CI) != 5 {
			b.Fatalf("metric %+v", m)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
	b.ReportMetric(vmHWM()/(1<<20), "VmHWM-MB")
}

// BenchmarkHistogramAdd measures the per-value cost of the histogram path.
func BenchmarkHistogramAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := lognormal(r, 1<<16, -2, 1)
	var h Histogram
	i := 0
	for b.Loop() {
		h.Add(x[i&(1<<16-1)])
		i++
	}
}

// BenchmarkSummarizeCase10M runs the summarising pass of SummarizeCase over
// 10M generated successful chat samples (four token gaps each, 1000 per
// second), without the file decoding, and reports its time and peak memory:
// whatever the number of samples, memory must stay bounded (the exact
// values of each metric up to DefaultExactLimit, then histograms).
func BenchmarkSummarizeCase10M(b *testing.B) {
	const n = 10_000_000
	var peakHeap uint64
	for b.Loop() {
		r := rand.New(rand.NewPCG(1, 2))
		raw := &Raw{Dists: map[string]*Dist{}}
		a := newCaseAcc(withDefaults(Options{}, results.CaseInfo{}), nil, raw, nil)
		var s results.Sample
		for i := range n {
			sched := time.Duration(i) * time.Millisecond
			ttft := time.Duration(float64(time.Second) * math.Exp(-3+0.5*r.NormFloat64()))
			gap := time.Duration(float64(time.Second) * math.Exp(-5+0.3*r.NormFloat64()))
			s = results.Sample{Scheduled: sched, Sent: sched + 100*time.Microsecond, FirstByte: sched + ttft,
				FirstToken: sched + ttft, LastToken: sched + ttft + 4*gap, Done: sched + ttft + 4*gap + time.Millisecond,
				InputTokens: 128, OutputTokens: 5, ITL: []time.Duration{gap, gap, gap, gap}}
			if err := a.sample(&s); err != nil {
				b.Fatal(err)
			}
			if i%DefaultExactLimit == 0 || i == n-1 {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapInuse)
			}
		}
		var c Case
		c.Metrics = map[string]Metric{}
		a.finish(&c, raw, nil)
		if m := c.Metrics[MetricTTFT]; m.Count != n {
			b.Fatalf("ttft %+v", m)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
	b.ReportMetric(vmHWM()/(1<<20), "VmHWM-MB")
}

// BenchmarkHistogramMerge measures merging two histograms of 65,536
// lognormal latencies each (SLURM workers' and repetitions' summaries
// are merged this way).
func BenchmarkHistogramMerge(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var h1, h2 Histogram
	for _, v := range lognormal(r, 1<<16, -2, 1) {
		h1.Add(v)
	}
	for _, v := range lognormal(r, 1<<16, -1, 1) {
		h2.Add(v)
	}
	for b.Loop() {
		var h Histogram
		h.Merge(&h1)
		h.Merge(&h2)
	}
}

// BenchmarkPercentile measures the p99 of 100,000 exact values (sorting
// included: a case's latencies are sorted once per summary).
func BenchmarkPercentile(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := lognormal(r, 100_000, -2, 1)
	sorted := make([]float64, len(x))
	for b.Loop() {
		copy(sorted, x)
		slices.Sort(sorted)
		if p := Percentile(sorted, 99); !(p > 0) {
			b.Fatal(p)
		}
	}
}
