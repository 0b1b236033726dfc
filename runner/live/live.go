// Package live is benchrun's own /metrics during a run: what the load
// generator is doing now, for a Prometheus that scrapes it and a Grafana
// dashboard beside the service's metrics (docs/monitoring.md). Names are
// in base units (seconds, tokens). They are live operational counters,
// observed as each sample is written; the figures that decide a run come
// from analysis, from the samples files.
//
// Data flow: package ci creates Metrics, serves its registry, and passes
// Observe to the load generator (runner.Case.Observe).
package live

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
)

// Outcome label values besides the error classes.
const (
	OutcomeOK     = "ok"
	OutcomeWarmup = "warmup" // a warm-up operation, whatever its result
)

// Metrics are the live metrics of one run, in their own registry.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	ttft     *prometheus.HistogramVec
	lag      *prometheus.HistogramVec
	tokens   *prometheus.CounterVec
	running  *prometheus.GaugeVec
	progress atomic.Pointer[runner.Progress]
}

// latencyBuckets span 1 ms to about 2 minutes.
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2, 18)

// New returns the metrics of a run of suite, registered with the Go and
// process collectors.
func New(suite string) *Metrics {
	labels := prometheus.Labels{"suite": suite}
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "benchrun_requests_total", ConstLabels: labels,
		Help: "Operations completed, by case and outcome (ok, an error class, or warmup)."}, []string{"case", "outcome"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "benchrun_request_duration_seconds", ConstLabels: labels,
		Help: "End-to-end latency of successful measured operations, from their scheduled send time.", Buckets: latencyBuckets}, []string{"case"})
	m.ttft = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "benchrun_time_to_first_token_seconds", ConstLabels: labels,
		Help: "Time to first token of successful measured operations, from their scheduled send time.", Buckets: latencyBuckets}, []string{"case"})
	m.lag = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "benchrun_generator_lag_seconds", ConstLabels: labels,
		Help:    "Send time minus scheduled time, waits for a max_concurrency slot excluded: the load generator's own lag.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, []string{"case"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "benchrun_tokens_total", ConstLabels: labels,
		Help: "Tokens of successful measured operations, by direction (input, output)."}, []string{"case", "direction"})
	m.running = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "benchrun_case_running", ConstLabels: labels,
		Help: "1 while the case runs."}, []string{"case"})
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "benchrun_requests_in_flight", ConstLabels: labels,
		Help: "Operations sent and not yet completed in the running case."}, func() float64 {
		return float64(m.progress.Load().Snapshot().InFlight)
	})
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "benchrun_requests_queued", ConstLabels: labels,
		Help: "Open loop: operations due and waiting for a max_concurrency slot in the running case."}, func() float64 {
		return float64(m.progress.Load().Snapshot().Queued)
	})
	m.reg.MustRegister(m.requests, m.latency, m.ttft, m.lag, m.tokens, m.running, inFlight, queued,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is what a /metrics handler serves.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// StartCase marks the case running; p is its progress counters (in
// flight, queued), read at each scrape.
func (m *Metrics) StartCase(id string, p *runner.Progress) {
	m.progress.Store(p)
	m.running.WithLabelValues(id).Set(1)
}

// EndCase marks the case no longer running.
func (m *Metrics) EndCase(id string) {
	m.running.WithLabelValues(id).Set(0)
	m.progress.Store(nil)
}

// Observe records one written sample of case id. It is safe for
// concurrent use.
func (m *Metrics) Observe(id string, s *results.Sample) {
	switch {
	case s.Warmup:
		m.requests.WithLabelValues(id, OutcomeWarmup).Inc()
		return
	case s.Error != "":
		m.requests.WithLabelValues(id, s.Error).Inc()
	default:
		m.requests.WithLabelValues(id, OutcomeOK).Inc()
		end := s.Done
		if s.LastToken != 0 {
			end = s.LastToken
		}
		m.latency.WithLabelValues(id).Observe((end - s.Scheduled).Seconds())
		if s.FirstToken != 0 {
			m.ttft.WithLabelValues(id).Observe((s.FirstToken - s.Scheduled).Seconds())
		}
		m.tokens.WithLabelValues(id, "input").Add(float64(s.InputTokens))
		m.tokens.WithLabelValues(id, "output").Add(float64(s.OutputTokens))
	}
	if s.Sent != 0 {
		m.lag.WithLabelValues(id).Observe(max(s.Sent-s.Scheduled-s.SlotWait, 0).Seconds())
	}
}
