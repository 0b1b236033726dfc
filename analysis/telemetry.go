package analysis

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/benchrun/benchrun/runner/results"
)

// This file derives a case's figures from its telemetry series
// (results.TelemetryFile: a service's /metrics scraped during the case;
// docs/analysis.md, "Telemetry"). They
// explain a case's numbers; they never decide its verdict, except through
// the saturation labels they feed (the server's waiting queue and queue
// time), whose effect the suite chooses.

// vLLM series read from a scrape (REFERENCE §3).
const (
	vllmRunning     = "vllm:num_requests_running"
	vllmWaiting     = "vllm:num_requests_waiting"
	vllmKVCache     = "vllm:kv_cache_usage_perc"
	vllmKVCacheOld  = "vllm:gpu_cache_usage_perc"
	vllmTTFT        = "vllm:time_to_first_token_seconds"
	vllmE2E         = "vllm:e2e_request_latency_seconds"
	vllmQueue       = "vllm:request_queue_time_seconds"
	vllmPrompt      = "vllm:prompt_tokens_total"
	vllmGeneration  = "vllm:generation_tokens_total"
	vllmPreemptions = "vllm:num_preemptions_total"
	vllmPrefixQuery = "vllm:prefix_cache_queries_total"
	vllmPrefixHits  = "vllm:prefix_cache_hits_total"
)

// Telemetry is what a case's telemetry series show.
type Telemetry struct {
	// Sources lists each series file with what was recorded.
	Sources []TelemetrySource `json:"sources"`
	// Server holds the figures from a vLLM /metrics scrape; nil without
	// one.
	Server *ServerFigures `json:"server,omitempty"`
	// GPUs and Nodes are the GPU and node tables from the PromQL series
	// (the gpu and node queries), sorted by host and GPU, by instance.
	GPUs  []GPUFigures  `json:"gpus,omitempty"`
	Nodes []NodeFigures `json:"nodes,omitempty"`
	// Energy is the GPUs' energy over the measured windows (J), and
	// EnergyPerOutputToken that energy per output token of the successful
	// measured operations (J/token); nil without an energy series.
	Energy               *float64 `json:"energy,omitempty"`
	EnergyPerOutputToken *float64 `json:"energy_per_output_token,omitempty"`
}

// TelemetrySource is one telemetry file of a case.
type TelemetrySource struct {
	Source   string `json:"source"`
	Kind     string `json:"kind"`
	URL      string `json:"url"`
	Points   int64  `json:"points"`
	Attempts int    `json:"attempts"`
	Failures int    `json:"failures"`
}

// ServerFigures are the server-side figures of a case over its measured
// window, from the deltas of the server's counters and histograms between
// the last scrape at or before the window's start and the first at or
// after its end (so they cover up to one scrape interval more, and every
// client of the server, not only benchrun's). Nil fields were not
// exposed.
type ServerFigures struct {
	TTFT  *ServerLatency `json:"ttft,omitempty"`
	E2E   *ServerLatency `json:"e2e,omitempty"`
	Queue *ServerLatency `json:"queue,omitempty"`

	Running *Gauge `json:"running,omitempty"`  // requests in the batch
	Waiting *Gauge `json:"waiting,omitempty"`  // requests queued
	KVCache *Gauge `json:"kv_cache,omitempty"` // KV-cache usage, 0–1

	// PrefixCacheHitRate is prefix-cache hits / queries (tokens), 0–1.
	PrefixCacheHitRate *float64 `json:"prefix_cache_hit_rate,omitempty"`
	Preemptions        *float64 `json:"preemptions,omitempty"`
	PromptTokens       *float64 `json:"prompt_tokens,omitempty"`
	GenerationTokens   *float64 `json:"generation_tokens,omitempty"`
}

// ServerLatency is one server-side latency histogram over the window, in
// seconds: Count and Mean exact (from _count and _sum), P50 and P95
// estimated within the histogram's buckets (linear interpolation, as
// PromQL's histogram_quantile). ClientMean is the client's mean of the
// same metric (ttft, e2e) and Overhead = ClientMean − Mean: what the
// client and the network add (0 for the queue, which has no client twin).
type ServerLatency struct {
	Count      float64 `json:"count"`
	Mean       float64 `json:"mean"`
	P50        float64 `json:"p50"`
	P95        float64 `json:"p95"`
	ClientMean float64 `json:"client_mean,omitempty"`
	Overhead   float64 `json:"overhead,omitempty"`
}

// Gauge is a gauge's peak and mean over the scrapes in the window.
type Gauge struct {
	Peak float64 `json:"peak"`
	Mean float64 `json:"mean"`
	N    int     `json:"n"` // scrapes
}

// tpoint is a telemetry value at t seconds from the case's start.
type tpoint struct{ t, v float64 }

// tseries is one series of one telemetry source, in time order.
type tseries struct {
	source, kind string
	metric       string
	labels       map[string]string
	pts          []tpoint
	// absent is the time of the source's last scrape before the series'
	// first point, which did not have it; NaN when there is none. A
	// counter absent from a scrape that succeeded had not started (a
	// labelled histogram appears with its first observation): it was 0.
	absent float64
}

// telemetryData is a case's telemetry as read from its files.
type telemetryData struct {
	sources []TelemetrySource
	series  []*tseries
	notes   []string          // warnings: failed scrapes, damaged files
	queries map[string]string // the PromQL queries run, by name
	step    float64           // the PromQL step (s); 0 when not recorded
	// slack is half the shortest time between two scrapes of a source
	// (s): how far before the window's end the last scrape may be, for
	// the clocks of SLURM workers, whose samples set the window, and of
	// this node, which scrapes, need not agree to the millisecond.
	slack float64
}

// readTelemetry reads the telemetry files the manifest lists for a case
// (paths relative to dir), with times shifted to offsets from the case's
// start. A missing or damaged file is a warning and is left out: its
// figures are not derived from partial data.
func readTelemetry(dir string, info results.CaseInfo) *telemetryData {
	if len(info.Telemetry) == 0 {
		return nil
	}
	td := &telemetryData{}
	for _, tf := range info.Telemetry {
		td.sources = append(td.sources, TelemetrySource{Source: tf.Source, Kind: tf.Kind, URL: tf.URL,
			Points: tf.Points, Attempts: tf.Attempts, Failures: tf.Failures})
		if tf.Failures > 0 {
			td.notes = append(td.notes, fmt.Sprintf("telemetry %s (%s %s): %d of %d attempts failed, last: %s",
				tf.Source, tf.Kind, tf.URL, tf.Failures, tf.Attempts, tf.Error))
		}
		if tf.Skipped > 0 {
			td.notes = append(td.notes, fmt.Sprintf("telemetry %s (%s %s): %d values were not finite (NaN, ±Inf) and are left out of its figures",
				tf.Source, tf.Kind, tf.URL, tf.Skipped))
		}
		if len(tf.Warnings) > 0 {
			td.notes = append(td.notes, fmt.Sprintf("telemetry %s (%s %s): the server warned that its answers may be incomplete, and the figures from them with them: %s",
				tf.Source, tf.Kind, tf.URL, strings.Join(tf.Warnings, "; ")))
		}
		if tf.Kind == results.TelemetryPromQL {
			td.queries, td.step = tf.Queries, tf.Step.Seconds()
		}
		shift := 0.0
		if !info.Start.IsZero() && !tf.Start.IsZero() {
			shift = tf.Start.Sub(info.Start).Seconds()
		}
		byKey := map[string]*tseries{}
		var keys []string
		in, err := results.ScanPointFile(filepath.Join(dir, tf.Path), func(p results.Point) error {
			k := seriesKey(p.Metric, p.Labels)
			s := byKey[k]
			if s == nil {
				s = &tseries{source: tf.Source, kind: tf.Kind, metric: p.Metric, labels: p.Labels}
				byKey[k] = s
				keys = append(keys, k)
			}
			s.pts = append(s.pts, tpoint{shift + p.T.Seconds(), p.Value})
			return nil
		})
		switch {
		case errors.Is(err, fs.ErrNotExist):
			td.notes = append(td.notes, fmt.Sprintf("telemetry %s: %s is missing: no figures from it", tf.Source, tf.Path))
			continue
		case err != nil:
			td.notes = append(td.notes, fmt.Sprintf("telemetry %s: %v: no figures from it", tf.Source, err))
			continue
		case in.BadCount > 0 || in.TornLine > 0 || in.Samples != tf.Points:
			td.notes = append(td.notes, fmt.Sprintf("telemetry %s: %s damaged (%d points of %d recorded, %d lines that do not decode): no figures from it",
				tf.Source, tf.Path, in.Samples, tf.Points, in.BadCount+min(in.TornLine, 1)))
			if tf.Kind == results.TelemetryPromQL {
				td.queries = nil // named once, not once per query
			}
			continue
		}
		times := map[float64]bool{}
		for _, k := range keys {
			for _, p := range byKey[k].pts {
				times[p.t] = true
			}
		}
		scrapes := slices.Sorted(maps.Keys(times))
		for k := 1; k < len(scrapes) && tf.Kind == results.TelemetryScrape; k++ {
			if gap := (scrapes[k] - scrapes[k-1]) / 2; td.slack == 0 || gap < td.slack {
				td.slack = gap
			}
		}
		for _, k := range keys {
			s := byKey[k]
			sort.SliceStable(s.pts, func(i, j int) bool { return s.pts[i].t < s.pts[j].t })
			s.absent = math.NaN()
			if i := sort.SearchFloat64s(scrapes, s.pts[0].t); i > 0 && tf.Kind == results.TelemetryScrape {
				s.absent = scrapes[i-1]
			}
			td.series = append(td.series, s)
		}
	}
	return td
}

// seriesKey identifies a series by name and labels.
func seriesKey(metric string, labels map[string]string) string {
	var b strings.Builder
	b.WriteString(metric)
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		b.WriteString("\x00" + k + "\x01" + labels[k])
	}
	return b.String()
}

// named returns the scraped series of a metric name.
func (td *telemetryData) named(metric string) []*tseries {
	var out []*tseries
	for _, s := range td.series {
		if s.kind == results.TelemetryScrape && s.metric == metric {
			out = append(out, s)
		}
	}
	return out
}

// windowed returns the points of s that bound and cover [from, to]: the
// last at or before from (else the first), through the first at or after
// to (else the last).
func windowed(pts []tpoint, from, to float64) []tpoint {
	if len(pts) == 0 {
		return nil
	}
	i := sort.Search(len(pts), func(i int) bool { return pts[i].t > from }) - 1
	i = max(i, 0)
	j := sort.Search(len(pts), func(j int) bool { return pts[j].t >= to })
	j = min(j, len(pts)-1)
	if j < i {
		return nil
	}
	return pts[i : j+1]
}

// covering returns the points of a counter over [from, to] (windowed),
// or nil when none is at or after to (within slack): the scrapes there
// failed (the last one starts after the case ended), and the counter's
// increase over the window cannot be known (a part of it would read as
// the whole). The start is not held to the same: the first scrape may
// start a little after the case does, and the load is only beginning
// then.
func covering(pts []tpoint, from, to, slack float64) []tpoint {
	w := windowed(pts, from, to)
	if len(w) < 2 || w[len(w)-1].t < to-slack {
		return nil
	}
	return w
}

// increase is a counter's increase over points, across resets (a value
// below the one before starts again from zero), as PromQL's increase
// without extrapolation.
func increase(pts []tpoint) float64 {
	inc := 0.0
	for k := 1; k < len(pts); k++ {
		if d := pts[k].v - pts[k-1].v; d >= 0 {
			inc += d
		} else {
			inc += pts[k].v
		}
	}
	return inc
}

// counterPoints are a counter's points, with a zero at the scrape that
// did not have it yet (tseries.absent).
func counterPoints(s *tseries) []tpoint {
	if math.IsNaN(s.absent) {
		return s.pts
	}
	return append([]tpoint{{s.absent, 0}}, s.pts...)
}

// counterIncrease sums the increase of every series of metric over the
// window; ok is false when there is no such series with points that
// bound the window (covering).
func (td *telemetryData) counterIncrease(metric string, from, to float64) (float64, bool) {
	sum, ok := 0.0, false
	for _, s := range td.named(metric) {
		if w := covering(counterPoints(s), from, to, td.slack); w != nil {
			sum += increase(w)
			ok = true
		}
	}
	return sum, ok
}

// histogramWindow returns the server-side latency of histogram name over
// the window from the increases of its _count, _sum and _bucket series
// (summed over label sets); nil when it has no observation there.
func (td *telemetryData) histogramWindow(name string, from, to float64) *ServerLatency {
	n, ok := td.counterIncrease(name+"_count", from, to)
	if !ok || n <= 0 {
		return nil
	}
	sum, _ := td.counterIncrease(name+"_sum", from, to)
	buckets := map[float64]float64{}
	for _, s := range td.named(name + "_bucket") {
		le, err := strconv.ParseFloat(s.labels["le"], 64)
		if err != nil {
			continue
		}
		if w := covering(counterPoints(s), from, to, td.slack); w != nil {
			buckets[le] += increase(w)
		}
	}
	return &ServerLatency{Count: n, Mean: sum / n, P50: bucketQuantile(0.5, buckets), P95: bucketQuantile(0.95, buckets)}
}

// bucketQuantile estimates quantile q (0–1) from cumulative bucket counts
// by upper bound: linear interpolation within the bucket holding the
// rank, from 0 for the first; a rank in the +Inf bucket gives the highest
// finite bound. NaN without buckets.
func bucketQuantile(q float64, buckets map[float64]float64) float64 {
	les := slices.Sorted(maps.Keys(buckets))
	if len(les) == 0 {
		return math.NaN()
	}
	total := buckets[les[len(les)-1]]
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	lo, prev := 0.0, 0.0
	for _, le := range les {
		c := buckets[le]
		if c >= rank {
			if math.IsInf(le, 1) {
				return lo
			}
			if c == prev {
				return le
			}
			return lo + (le-lo)*(rank-prev)/(c-prev)
		}
		lo, prev = le, c
	}
	return lo
}

// gaugeWindow aggregates the series of a gauge at each scrape time over
// the label sets (agg: sum for request counts, max for cache usage) and
// returns its peak and mean over the scrapes within [from, to], and the
// aggregated points for the waiting-queue test; nil without a scrape in
// the window.
func (td *telemetryData) gaugeWindow(metric string, from, to float64, agg func(a, b float64) float64) (*Gauge, []seriesPoint) {
	at := map[float64]float64{}
	for _, s := range td.named(metric) {
		for _, p := range s.pts {
			if p.t < from || p.t > to {
				continue
			}
			if v, seen := at[p.t]; seen {
				at[p.t] = agg(v, p.v)
			} else {
				at[p.t] = p.v
			}
		}
	}
	if len(at) == 0 {
		return nil, nil
	}
	g := &Gauge{Peak: math.Inf(-1)}
	var pts []seriesPoint
	for _, t := range slices.Sorted(maps.Keys(at)) {
		v := at[t]
		g.Peak = max(g.Peak, v)
		g.Mean += v
		g.N++
		pts = append(pts, seriesPoint{t, v})
	}
	g.Mean /= float64(g.N)
	return g, pts
}

func sum2(a, b float64) float64 { return a + b }

// serverFigures derives the vLLM figures over the measured window
// [from, to] (seconds from the case start); client holds the client's
// means of ttft and e2e. It returns nil when no vLLM series is there, and
// the waiting-queue points of the window.
func (td *telemetryData) serverFigures(from, to float64, client map[string]float64) (*ServerFigures, []seriesPoint) {
	f := &ServerFigures{}
	any := false
	for _, h := range []struct {
		dst    **ServerLatency
		name   string
		client string
	}{{&f.TTFT, vllmTTFT, MetricTTFT}, {&f.E2E, vllmE2E, MetricE2E}, {&f.Queue, vllmQueue, ""}} {
		l := td.histogramWindow(h.name, from, to)
		if l == nil {
			continue
		}
		if c, ok := client[h.client]; ok {
			l.ClientMean, l.Overhead = c, c-l.Mean
		}
		*h.dst, any = l, true
	}
	var waiting []seriesPoint
	f.Running, _ = td.gaugeWindow(vllmRunning, from, to, sum2)
	f.Waiting, waiting = td.gaugeWindow(vllmWaiting, from, to, sum2)
	f.KVCache, _ = td.gaugeWindow(vllmKVCache, from, to, math.Max)
	if f.KVCache == nil {
		f.KVCache, _ = td.gaugeWindow(vllmKVCacheOld, from, to, math.Max)
	}
	any = any || f.Running != nil || f.Waiting != nil || f.KVCache != nil
	counter := func(name string) *float64 {
		if v, ok := td.counterIncrease(name, from, to); ok {
			any = true
			return &v
		}
		return nil
	}
	f.Preemptions, f.PromptTokens, f.GenerationTokens = counter(vllmPreemptions), counter(vllmPrompt), counter(vllmGeneration)
	if q, h := counter(vllmPrefixQuery), counter(vllmPrefixHits); q != nil && h != nil && *q > 0 {
		r := *h / *q
		f.PrefixCacheHitRate = &r
	}
	if !any {
		return nil, nil
	}
	return f, waiting
}

// telemetry derives the case's Telemetry from td over the measured window
// and feeds the saturation tests: the scraped waiting queue when the
// samples carry none, the scraped queue time when they carry no server
// timings.
func (a *caseAcc) telemetry(c *Case, td *telemetryData) {
	if td == nil {
		return
	}
	c.Telemetry = &Telemetry{Sources: td.sources}
	c.Warnings = append(c.Warnings, td.notes...)
	from, to, ok := a.window()
	if !ok {
		return
	}
	client := map[string]float64{}
	for _, m := range []string{MetricTTFT, MetricE2E} {
		if d := a.dists[m]; d != nil && d.Count() > 0 {
			client[m] = d.Mean()
		}
	}
	if td.queries != nil {
		c.Warnings = append(c.Warnings, td.promqlNotes(td.queries)...)
		c.Warnings = append(c.Warnings, a.promqlTelemetry(c.Telemetry, td, from, to)...)
	}
	if note := td.scrapeCoverage(to); note != "" {
		c.Warnings = append(c.Warnings, note)
	}
	srv, waiting := td.serverFigures(from, to, client)
	c.Telemetry.Server = srv
	if srv == nil {
		if len(td.named(vllmWaiting)) == 0 && hasScrape(td) {
			c.Warnings = append(c.Warnings, "telemetry: the scraped endpoint exposes no vLLM series (vllm:...): no server-side figures")
		}
		return
	}
	if len(a.series) == 0 {
		for _, p := range waiting {
			a.addSeries(p.t, p.v)
		}
	}
	if srv.Queue != nil {
		a.sat.scrapedQueue = srv.Queue
	}
}

// scrapeCoverage is the warning when no scrape that succeeded is at or
// after the measured window's end (to), so that the server's counters and
// latencies are absent (covering); "" when one is or there is none.
func (td *telemetryData) scrapeCoverage(to float64) string {
	last, any := 0.0, false
	for _, s := range td.series {
		if s.kind != results.TelemetryScrape || len(s.pts) == 0 {
			continue
		}
		if t := s.pts[len(s.pts)-1].t; !any || t > last {
			last = t
		}
		any = true
	}
	if !any || last >= to-td.slack {
		return ""
	}
	return fmt.Sprintf("telemetry: the last scrape that succeeded was at %.3f s, before the measured window's end at %.3f s: no server-side counters or latencies (they would give a part of the window as all of it)", last, to)
}

func hasScrape(td *telemetryData) bool {
	for _, s := range td.sources {
		if s.Kind == results.TelemetryScrape {
			return true
		}
	}
	return false
}

// window is the measured window over every repetition: the first
// scheduled send to the last completion, in seconds from the case start.
func (a *caseAcc) window() (from, to float64, ok bool) {
	for _, r := range a.reps {
		if !r.seen {
			continue
		}
		if !ok || sec(r.first) < from {
			from = sec(r.first)
		}
		if !ok || sec(r.last) > to {
			to = sec(r.last)
		}
		ok = true
	}
	return from, to, ok
}
