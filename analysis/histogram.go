package analysis

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// RelativeError bounds the relative error of every value read back from a
// Histogram: a value v in the histogram is reported as some v' with
// |v'−v| ≤ RelativeError·|v|.
const RelativeError = 0.01

// MinMagnitude is the smallest magnitude a Histogram distinguishes from
// zero; values with |v| < MinMagnitude (below a nanosecond, in seconds) are
// counted as 0.
const MinMagnitude = 1e-9

// Bucket i (i an integer) holds the magnitudes in (γ^(i−1), γ^i] with γ =
// (1+ε)/(1−ε), ε = RelativeError, and reports them as 2γ^i/(γ+1), which is
// within ε of every value in the bucket.
var (
	histGamma   = (1 + RelativeError) / (1 - RelativeError)
	histLnGamma = math.Log(histGamma)
	histRepr    = 2 / (histGamma + 1)
)

// Histogram is a mergeable log-bucketed histogram of float64 values with
// relative error at most RelativeError (docs/analysis.md). Its memory is a
// counter per occupied bucket between the smallest and largest magnitude
// (about 115 buckets per factor of 10), whatever the number of values. It
// keeps the exact count, minimum, maximum and sum. The zero value is an
// empty histogram ready to use; it is not safe for concurrent use.
type Histogram struct {
	pos, neg bucketStore
	zero     uint64
	count    uint64
	min, max float64
	sum      float64

	// ranks caches the cumulative counts for Ordered; nil after a change.
	ranks []rankEntry
}

type rankEntry struct {
	upto uint64 // number of values up to and including this bucket
	v    float64
}

// bucketStore is a dense run of counters for bucket indexes off, off+1, ...
type bucketStore struct {
	off int
	c   []uint64
}

func (s *bucketStore) add(i int, n uint64) {
	if len(s.c) == 0 {
		s.off = i
		s.c = append(s.c[:0], n)
		return
	}
	if i < s.off {
		grow := s.off - i
		c := make([]uint64, len(s.c)+grow, len(s.c)+grow+16)
		copy(c[grow:], s.c)
		s.c, s.off = c, i
	} else if j := i - s.off; j >= len(s.c) {
		s.c = append(s.c, make([]uint64, j-len(s.c)+1)...)
	}
	s.c[i-s.off] += n
}

// The bucket indexes a finite magnitude ≥ MinMagnitude can take; they bound
// what a decoder accepts.
var (
	minBucket = bucketIndex(MinMagnitude) - 1
	maxBucket = bucketIndex(math.MaxFloat64) + 1
)

func bucketIndex(mag float64) int {
	return int(math.Ceil(math.Log(mag) / histLnGamma))
}

func bucketValue(i int) float64 {
	return math.Exp(float64(i)*histLnGamma) * histRepr
}

// Add records v. NaN and ±Inf are ignored.
func (h *Histogram) Add(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	h.addN(v, 1)
}

func (h *Histogram) addN(v float64, n uint64) {
	if h.count == 0 || v < h.min {
		h.min = v
	}
	if h.count == 0 || v > h.max {
		h.max = v
	}
	h.count += n
	h.sum += v * float64(n)
	h.ranks = nil
	switch {
	case v >= MinMagnitude:
		h.pos.add(bucketIndex(v), n)
	case v <= -MinMagnitude:
		h.neg.add(bucketIndex(-v), n)
	default:
		h.zero += n
	}
}

// Merge adds every value of o to h. o is not changed.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.count == 0 {
		return
	}
	if h.count == 0 || o.min < h.min {
		h.min = o.min
	}
	if h.count == 0 || o.max > h.max {
		h.max = o.max
	}
	h.count += o.count
	h.sum += o.sum
	h.zero += o.zero
	h.ranks = nil
	for j, n := range o.pos.c {
		if n > 0 {
			h.pos.add(o.pos.off+j, n)
		}
	}
	for j, n := range o.neg.c {
		if n > 0 {
			h.neg.add(o.neg.off+j, n)
		}
	}
}

// Count returns the number of values recorded.
func (h *Histogram) Count() int { return int(h.count) }

// Min returns the exact smallest value recorded, 0 when empty.
func (h *Histogram) Min() float64 { return h.min }

// Max returns the exact largest value recorded, 0 when empty.
func (h *Histogram) Max() float64 { return h.max }

// Mean returns the exact mean of the values recorded, NaN when empty.
func (h *Histogram) Mean() float64 {
	if h.count == 0 {
		return math.NaN()
	}
	return h.sum / float64(h.count)
}

// Ordered returns the k-th smallest value (k from 0) within RelativeError,
// clamped to [Min, Max]. It panics if k is out of range.
func (h *Histogram) Ordered(k int) float64 {
	if k < 0 || uint64(k) >= h.count {
		panic(fmt.Sprintf("analysis: Histogram.Ordered(%d) of %d values", k, h.count))
	}
	if h.ranks == nil {
		h.buildRanks()
	}
	i := sort.Search(len(h.ranks), func(i int) bool { return h.ranks[i].upto > uint64(k) })
	return min(max(h.ranks[i].v, h.min), h.max)
}

func (h *Histogram) buildRanks() {
	var r []rankEntry
	var upto uint64
	for j := len(h.neg.c) - 1; j >= 0; j-- {
		if n := h.neg.c[j]; n > 0 {
			upto += n
			r = append(r, rankEntry{upto, -bucketValue(h.neg.off + j)})
		}
	}
	if h.zero > 0 {
		upto += h.zero
		r = append(r, rankEntry{upto, 0})
	}
	for j, n := range h.pos.c {
		if n > 0 {
			upto += n
			r = append(r, rankEntry{upto, bucketValue(h.pos.off + j)})
		}
	}
	h.ranks = r
}

// each calls fn with every occupied bucket's value (clamped to [Min, Max],
// as Ordered reads it) and count, in ascending order of value.
func (h *Histogram) each(fn func(v float64, n uint64)) {
	if h.ranks == nil {
		h.buildRanks()
	}
	var prev uint64
	for _, r := range h.ranks {
		fn(min(max(r.v, h.min), h.max), r.upto-prev)
		prev = r.upto
	}
}

// Percentile returns the p-th percentile (p in 0–100) by Percentile's
// definition applied to the bucketed values; it is within RelativeError of
// the exact result. NaN when empty.
func (h *Histogram) Percentile(p float64) float64 {
	return percentileOf(int(h.count), h.Ordered, p)
}

// Buckets returns the number of occupied buckets (a measure of its size).
func (h *Histogram) Buckets() int {
	n := 0
	if h.zero > 0 {
		n++
	}
	for _, c := range h.pos.c {
		if c > 0 {
			n++
		}
	}
	for _, c := range h.neg.c {
		if c > 0 {
			n++
		}
	}
	return n
}

const histEncodingVersion = 1

// MarshalBinary encodes h compactly: a version byte, the count, zero count,
// min, max and sum, then for the negative and the positive side the
// occupied buckets as (index delta, count) varint pairs.
func (h *Histogram) MarshalBinary() ([]byte, error) {
	b := []byte{histEncodingVersion}
	b = binary.AppendUvarint(b, h.count)
	b = binary.AppendUvarint(b, h.zero)
	for _, f := range []float64{h.min, h.max, h.sum} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	for _, s := range []*bucketStore{&h.neg, &h.pos} {
		n := 0
		for _, c := range s.c {
			if c > 0 {
				n++
			}
		}
		b = binary.AppendUvarint(b, uint64(n))
		prev := 0
		for j, c := range s.c {
			if c > 0 {
				b = binary.AppendVarint(b, int64(s.off+j-prev))
				b = binary.AppendUvarint(b, c)
				prev = s.off + j
			}
		}
	}
	return b, nil
}

var errHistCorrupt = errors.New("analysis: corrupt histogram encoding")

// UnmarshalBinary decodes the form written by MarshalBinary.
func (h *Histogram) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || b[0] != histEncodingVersion {
		return fmt.Errorf("analysis: unknown histogram encoding version")
	}
	b = b[1:]
	uv := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errHistCorrupt
		}
		b = b[n:]
		return v, nil
	}
	var nh Histogram
	var err error
	if nh.count, err = uv(); err != nil {
		return err
	}
	if nh.zero, err = uv(); err != nil {
		return err
	}
	if len(b) < 24 {
		return errHistCorrupt
	}
	nh.min = math.Float64frombits(binary.LittleEndian.Uint64(b))
	nh.max = math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))
	nh.sum = math.Float64frombits(binary.LittleEndian.Uint64(b[16:]))
	b = b[24:]
	total := nh.zero
	for _, s := range []*bucketStore{&nh.neg, &nh.pos} {
		n, err := uv()
		if err != nil {
			return err
		}
		if n > uint64(len(b)) {
			return errHistCorrupt
		}
		idx := 0
		for range n {
			d, k := binary.Varint(b)
			if k <= 0 {
				return errHistCorrupt
			}
			b = b[k:]
			c, err := uv()
			if err != nil {
				return err
			}
			idx += int(d)
			if c == 0 || idx < minBucket || idx > maxBucket || (len(s.c) > 0 && idx < s.off+len(s.c)) {
				return errHistCorrupt
			}
			s.add(idx, c)
			total += c
		}
	}
	if len(b) != 0 || total != nh.count {
		return errHistCorrupt
	}
	*h = nh
	return nil
}

// MarshalJSON encodes h as a base64 string of MarshalBinary's form.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	b, err := h.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(b))
}

// UnmarshalJSON decodes the form written by MarshalJSON.
func (h *Histogram) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("analysis: histogram: %w", err)
	}
	return h.UnmarshalBinary(b)
}
