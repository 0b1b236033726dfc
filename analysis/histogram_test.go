package analysis

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func lognormal(r *rand.Rand, n int, mu, sigma float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = math.Exp(mu + sigma*r.NormFloat64())
	}
	return x
}

func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

func TestHistogramRelativeError(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := append(lognormal(r, 20000, -3, 2), 0, 0, -0.5, -2e-3, 1e-12, 5e4)
	var h Histogram
	for _, v := range x {
		h.Add(v)
	}
	s := slices.Clone(x)
	slices.Sort(s)
	for k, want := range s {
		got := h.Ordered(k)
		if math.Abs(want) < MinMagnitude {
			if got != 0 && got != want {
				t.Fatalf("Ordered(%d) = %v, want 0 for %v", k, got, want)
			}
			continue
		}
		if e := relErr(got, want); e > RelativeError+1e-12 {
			t.Fatalf("Ordered(%d) = %v, want %v (relative error %.4f)", k, got, want, e)
		}
	}
	for _, q := range []float64{0, 1, 50, 90, 95, 99, 99.9, 100} {
		if e := relErr(h.Percentile(q), Percentile(s, q)); e > RelativeError+1e-12 {
			t.Errorf("p%v relative error %.4f", q, e)
		}
	}
	if h.Count() != len(x) || h.Min() != s[0] || h.Max() != s[len(s)-1] {
		t.Errorf("count/min/max = %d %v %v", h.Count(), h.Min(), h.Max())
	}
	if b := h.Buckets(); b > 2000 {
		t.Errorf("%d buckets for 20k values", b)
	}
}

func TestHistogramMergeEqualsAddingAll(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	a, b := lognormal(r, 3000, 0, 1), lognormal(r, 2000, 2, 0.5)
	var ha, hb, all Histogram
	for _, v := range a {
		ha.Add(v)
		all.Add(v)
	}
	for _, v := range b {
		hb.Add(v)
		all.Add(v)
	}
	ha.Merge(&hb)
	x, _ := ha.MarshalBinary()
	y, _ := all.MarshalBinary()
	// Sums may differ in the last bits by addition order.
	if ha.Count() != all.Count() || ha.Min() != all.Min() || ha.Max() != all.Max() {
		t.Fatal("merged histogram differs")
	}
	// Same buckets: the encodings differ at most in the sum's bits.
	if len(x) != len(y) {
		t.Fatal("encoding lengths differ")
	}
	for k := 0; k < all.Count(); k += 97 {
		if ha.Ordered(k) != all.Ordered(k) {
			t.Fatalf("Ordered(%d): %v vs %v", k, ha.Ordered(k), all.Ordered(k))
		}
	}
}

func TestHistogramEncodingRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var h Histogram
	for _, v := range append(lognormal(r, 5000, -4, 1), 0, -3, -0.001) {
		h.Add(v)
	}
	j, err := json.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	var back Histogram
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	if back.Count() != h.Count() || back.Min() != h.Min() || back.Max() != h.Max() || back.Mean() != h.Mean() {
		t.Fatal("round trip changed count/min/max/mean")
	}
	for k := range h.Count() {
		if back.Ordered(k) != h.Ordered(k) {
			t.Fatalf("Ordered(%d) %v vs %v", k, back.Ordered(k), h.Ordered(k))
		}
	}
	if len(j) > 2000 {
		t.Errorf("5000 values encode to %d bytes", len(j))
	}
}

func TestHistogramDecodeRejectsCorrupt(t *testing.T) {
	var h Histogram
	h.Add(1)
	h.Add(2)
	b, _ := h.MarshalBinary()
	for _, bad := range [][]byte{nil, {9}, b[:len(b)-1], append(slices.Clone(b), 0)} {
		var x Histogram
		if err := x.UnmarshalBinary(bad); err == nil {
			t.Errorf("UnmarshalBinary(%v) accepted", bad)
		}
	}
}

func FuzzHistogramUnmarshal(f *testing.F) {
	var h Histogram
	for _, v := range []float64{0, 1, 2.5, -7, 1e6} {
		h.Add(v)
	}
	b, _ := h.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var x Histogram
		if err := x.UnmarshalBinary(b); err != nil {
			return
		}
		// Whatever decodes must re-encode and be readable.
		for k := 0; k < x.Count() && k < 100; k++ {
			x.Ordered(k)
		}
		if _, err := x.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDistSpillsToHistogram(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x := lognormal(r, 5000, -2, 0.7)
	small, big := NewDist(1000), NewDist(0)
	for _, v := range x {
		small.Add(v)
		big.Add(v)
	}
	if small.Exact() || !big.Exact() {
		t.Fatalf("Exact: small %v big %v", small.Exact(), big.Exact())
	}
	if small.Sorted() != nil {
		t.Error("Sorted of a spilled Dist is not nil")
	}
	ms, mb := small.Metric(UnitSeconds), big.Metric(UnitSeconds)
	if ms.Count != mb.Count || ms.Min != mb.Min || ms.Max != mb.Max ||
		math.Abs(ms.Mean-mb.Mean) > 1e-12 || math.Abs(ms.Stddev-mb.Stddev) > 1e-12 {
		t.Errorf("exact moments differ: %+v vs %+v", ms, mb)
	}
	for _, st := range distStats {
		if st.p == 0 {
			continue
		}
		a, _ := ms.Stat(st.name)
		b, _ := mb.Stat(st.name)
		if relErr(a, b) > RelativeError {
			t.Errorf("%s: histogram %v vs exact %v", st.name, a, b)
		}
	}
	if len(ms.CI) != len(mb.CI) {
		t.Errorf("CI keys differ: %v vs %v", ms.CI, mb.CI)
	}
}

func TestDistMergeMoments(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	a, b := NewDist(300), NewDist(300)
	all := NewDist(0)
	for i, v := range lognormal(r, 500, 0, 1) {
		if i%3 == 0 {
			a.Add(v)
		} else {
			b.Add(v)
		}
		all.Add(v)
	}
	a.Merge(b)
	if a.Count() != all.Count() || math.Abs(a.Mean()-all.Mean()) > 1e-12 || math.Abs(a.Stddev()-all.Stddev()) > 1e-9 {
		t.Fatalf("merge: n %d mean %v sd %v; want %d %v %v", a.Count(), a.Mean(), a.Stddev(), all.Count(), all.Mean(), all.Stddev())
	}
	if a.Exact() {
		t.Fatal("merged 500 values into a Dist of limit 300 and it stayed exact")
	}
	// Exact mean/stddev against a direct computation.
	x := all.Sorted()
	sum := 0.0
	for _, v := range x {
		sum += v
	}
	mean := sum / float64(len(x))
	ss := 0.0
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	if math.Abs(all.Mean()-mean) > 1e-12 || math.Abs(all.Stddev()-math.Sqrt(ss/float64(len(x)-1))) > 1e-12 {
		t.Fatal("Welford moments disagree with the direct computation")
	}
}
