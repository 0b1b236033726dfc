package runner

import (
	"math"
	"time"
)

// The progress display's live TTFT percentiles come from a fixed-bucket
// histogram in Progress: bounded memory whatever the run's length, and a
// live approximation only — a value is reported as the upper bound of its
// bucket (buckets grow by ttftGrowth, so within 15% above the true
// percentile). The numbers of record are computed by package analysis
// from the samples after the run.
const (
	ttftBuckets = 100
	ttftGrowth  = 1.15
	ttftLowest  = 100 * time.Microsecond // upper bound of bucket 0
)

func ttftBucket(d time.Duration) int {
	if d <= ttftLowest {
		return 0
	}
	i := int(math.Ceil(math.Log(float64(d)/float64(ttftLowest)) / math.Log(ttftGrowth)))
	return min(i, ttftBuckets-1)
}

func ttftUpper(i int) time.Duration {
	return time.Duration(float64(ttftLowest) * math.Pow(ttftGrowth, float64(i)))
}

// observeTTFT counts one successful operation's time to first token
// (first token − scheduled, as analysis measures it); d ≤ 0 is not
// counted.
func (p *Progress) observeTTFT(d time.Duration) {
	if p == nil || d <= 0 {
		return
	}
	p.ttft[ttftBucket(d)].Add(1)
}

// TTFTQuantile is the live approximation of the q-quantile (0 < q ≤ 1)
// of the times to first token counted so far; 0 when none is. See the
// histogram's comment for its precision.
func (p *Progress) TTFTQuantile(q float64) time.Duration {
	if p == nil {
		return 0
	}
	var counts [ttftBuckets]int64
	var n int64
	for i := range p.ttft {
		counts[i] = p.ttft[i].Load()
		n += counts[i]
	}
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i, c := range counts {
		if seen += c; seen >= rank {
			return ttftUpper(i)
		}
	}
	return ttftUpper(ttftBuckets - 1)
}
