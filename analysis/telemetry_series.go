package analysis

import (
	"maps"
	"math"
	"slices"
)

// TimePoint is one value of a telemetry series at T seconds from the
// case's start.
type TimePoint struct{ T, V float64 }

// TelemetrySeries are a case's telemetry over its whole length, for the
// report's timeline beside the client's Timeline, aggregated as the
// tables aggregate them: at each scrape or query step, the server's
// waiting requests summed over its label sets and its KV-cache usage the
// highest (ratio); the GPUs' utilisation averaged (ratio) and their power
// summed (W). Empty slices had no series.
type TelemetrySeries struct {
	Waiting, KVCache  []TimePoint
	GPUUtil, GPUPower []TimePoint
}

// aggregate combines series point by point at each time they share
// (those present at that time), with agg, then finish (the count of
// series at that time) and scale.
func aggregate(series []*tseries, agg func(a, b float64) float64, finish func(v float64, n int) float64, scale float64) []TimePoint {
	at, n := map[float64]float64{}, map[float64]int{}
	for _, s := range series {
		for _, p := range s.pts {
			if _, seen := at[p.t]; seen {
				at[p.t] = agg(at[p.t], p.v)
			} else {
				at[p.t] = p.v
			}
			n[p.t]++
		}
	}
	var out []TimePoint
	for _, t := range slices.Sorted(maps.Keys(at)) {
		v := at[t]
		if finish != nil {
			v = finish(v, n[t])
		}
		out = append(out, TimePoint{t, v * scale})
	}
	return out
}

func mean(sum float64, n int) float64 { return sum / float64(n) }

// timelineSeries are the telemetry series of the timeline; nil without
// telemetry.
func (td *telemetryData) timelineSeries() *TelemetrySeries {
	if td == nil {
		return nil
	}
	ts := &TelemetrySeries{
		Waiting:  aggregate(td.named(vllmWaiting), sum2, nil, 1),
		KVCache:  aggregate(td.named(vllmKVCache), math.Max, nil, 1),
		GPUUtil:  aggregate(td.promqlNamed(QueryGPUUtil), sum2, mean, 0.01),
		GPUPower: aggregate(td.promqlNamed(QueryGPUPower), sum2, nil, 1),
	}
	if len(ts.KVCache) == 0 {
		ts.KVCache = aggregate(td.named(vllmKVCacheOld), math.Max, nil, 1)
	}
	return ts
}
