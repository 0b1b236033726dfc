package analysis

import (
	"slices"
	"strings"

	"github.com/benchrun/benchrun/runner/results"
)

// Metric names (REFERENCE §1), in base units. Values keys of samples are
// metrics under their own names, Server keys under "server_" + key, and each
// error class c adds "error_rate_" + c.
const (
	MetricTTFT                  = "ttft"
	MetricTTFB                  = "ttfb"
	MetricITL                   = "itl"
	MetricTPOT                  = "tpot"
	MetricE2E                   = "e2e"
	MetricQueueDelay            = "queue_delay"
	MetricInputTokens           = "input_tokens"
	MetricOutputTokens          = "output_tokens"
	MetricRequestsPerSecond     = "requests_per_second"
	MetricOutputTokensPerSecond = "output_tokens_per_second"
	MetricTotalTokensPerSecond  = "total_tokens_per_second"
	MetricErrorRate             = "error_rate"
	MetricGoodput               = "goodput"
	// MetricInfrastructureErrorRate is the share of measured operations
	// that failed with an infrastructure class (results.Infrastructure:
	// connect, client): failures of the path to the server or of the
	// client, not of the server (Case.ApplyInfrastructureLimit).
	MetricInfrastructureErrorRate = "infrastructure_error_rate"

	// ErrorRatePrefix + error class is the share of operations failing
	// with that class.
	ErrorRatePrefix = "error_rate_"
	// ServerPrefix + key is the distribution of Sample.Server[key].
	ServerPrefix = "server_"
)

// Units of metrics.
const (
	UnitSeconds           = "s"
	UnitTokens            = "tokens"
	UnitBytes             = "bytes"
	UnitRatio             = "ratio" // 0–1
	UnitRequestsPerSecond = "requests/s"
	UnitTokensPerSecond   = "tokens/s"
	UnitBytesPerSecond    = "bytes/s" // bandwidth; shown in GiB/s, MiB/s, ...
	UnitOpsPerSecond      = "ops/s"   // operations (IOPS, queries, vectors) per second
	UnitNone              = ""        // a plain number (recall, counts)
)

// Computed says whether metric name is one SummarizeCase computes from
// the operations themselves (latencies, rates, error rates, the server's
// figures), not one the samples carry under its own name (a batch
// command's score or bandwidth, a Chroma query's recall).
func Computed(name string) bool {
	_, ok := builtinUnits[name]
	return ok || strings.HasPrefix(name, ErrorRatePrefix) || strings.HasPrefix(name, ServerPrefix)
}

// builtinUnits are the units of the metrics SummarizeCase computes itself.
var builtinUnits = map[string]string{
	MetricTTFT:                  UnitSeconds,
	MetricTTFB:                  UnitSeconds,
	MetricITL:                   UnitSeconds,
	MetricTPOT:                  UnitSeconds,
	MetricE2E:                   UnitSeconds,
	MetricQueueDelay:            UnitSeconds,
	MetricInputTokens:           UnitTokens,
	MetricOutputTokens:          UnitTokens,
	MetricRequestsPerSecond:     UnitRequestsPerSecond,
	MetricOutputTokensPerSecond: UnitTokensPerSecond,
	MetricTotalTokensPerSecond:  UnitTokensPerSecond,
	MetricErrorRate:             UnitRatio,
	MetricGoodput:               UnitRequestsPerSecond,

	MetricInfrastructureErrorRate: UnitRatio,
}

// knownErrorClasses are the error classes of results.Sample.Error that can have
// an ErrorRatePrefix + class metric; canceled operations are excluded from
// every metric, so results.ErrCanceled has none.
var knownErrorClasses = []string{
	results.ErrConnect, results.ErrTimeout, results.ErrHTTP4xx, results.ErrHTTP5xx,
	results.ErrStreamTruncated, results.ErrParse, results.ErrOther,
	results.ErrClient, results.ErrRateLimited, results.ErrUnfinished,
}

// MetricNames returns, sorted, the names of the metrics SummarizeCase
// computes itself whatever the samples' Values and Server keys: the builtin
// metrics and error_rate_<class> for every class of knownErrorClasses.
func MetricNames() []string {
	names := make([]string, 0, len(builtinUnits)+len(knownErrorClasses))
	for name := range builtinUnits {
		names = append(names, name)
	}
	for _, class := range knownErrorClasses {
		names = append(names, ErrorRatePrefix+class)
	}
	slices.Sort(names)
	return names
}

// KindOf returns the kind of the metric named metric: KindRate for the
// rates SummarizeCase computes (throughput, goodput, error rates: the
// builtin metrics per second or in ratio), KindDistribution for every
// other name, Values and Server keys included.
func KindOf(metric string) string {
	if strings.HasPrefix(metric, ErrorRatePrefix) {
		return KindRate
	}
	switch builtinUnits[metric] {
	case UnitRatio, UnitRequestsPerSecond, UnitTokensPerSecond:
		return KindRate
	}
	return KindDistribution
}

// UnitOf returns the unit of a metric name: the builtin metrics' units,
// UnitRatio for error_rate_<class>, and for other names (Values and Server
// keys) a guess from the suffix: _seconds, _duration, _time, _latency → s;
// _bytes → bytes; _tokens → tokens; otherwise UnitNone.
func UnitOf(metric string) string {
	if u, ok := builtinUnits[metric]; ok {
		return u
	}
	switch {
	case strings.HasPrefix(metric, ErrorRatePrefix):
		return UnitRatio
	case hasAnySuffix(metric, "_seconds", "_duration", "_time", "_latency"):
		return UnitSeconds
	case strings.HasSuffix(metric, "_bytes"):
		return UnitBytes
	case strings.HasSuffix(metric, "_tokens"):
		return UnitTokens
	}
	return UnitNone
}

func hasAnySuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

// Lower reports whether a lower value of m, the metric name, is better:
// the direction its case declared, else the rule by name (LowerIsBetter).
func (m Metric) Lower(name string) bool {
	if m.Better != "" {
		return m.Better == results.LowerIsBetter
	}
	return LowerIsBetter(name)
}

// LowerIsBetter reports the direction of a metric for comparisons: true for
// durations (unit s, including queue_delay) and error rates, false for
// everything else (throughput, goodput, recall, ...).
func LowerIsBetter(metric string) bool {
	return metric == MetricErrorRate || metric == MetricInfrastructureErrorRate || strings.HasPrefix(metric, ErrorRatePrefix) || UnitOf(metric) == UnitSeconds
}

// distStats is the one list of the statistics of a distribution metric,
// in the order reports list them: p is the percentile of a quantile (0 for
// the others), of the Metric field that holds it (nil for count, an int).
var distStats = []struct {
	name string
	p    float64
	of   func(*Metric) *float64
}{
	{"count", 0, nil},
	{"mean", 0, func(m *Metric) *float64 { return &m.Mean }},
	{"stddev", 0, func(m *Metric) *float64 { return &m.Stddev }},
	{"min", 0, func(m *Metric) *float64 { return &m.Min }},
	{"p50", 50, func(m *Metric) *float64 { return &m.P50 }},
	{"p90", 90, func(m *Metric) *float64 { return &m.P90 }},
	{"p95", 95, func(m *Metric) *float64 { return &m.P95 }},
	{"p99", 99, func(m *Metric) *float64 { return &m.P99 }},
	{"p999", 99.9, func(m *Metric) *float64 { return &m.P999 }},
	{"max", 0, func(m *Metric) *float64 { return &m.Max }},
}

// DistStats returns the names of the statistics of a distribution metric,
// in the order reports list them: count, mean, stddev, min, p50, p90, p95,
// p99, p999, max. The slice is the caller's.
func DistStats() []string {
	names := make([]string, len(distStats))
	for i, st := range distStats {
		names[i] = st.name
	}
	return names
}

// StatPercentile returns the percentile (0–100) a quantile statistic
// stands for ("p95" → 95, "p999" → 99.9); ok is false for any other name.
func StatPercentile(stat string) (p float64, ok bool) {
	for _, st := range distStats {
		if st.name == stat && st.p > 0 {
			return st.p, true
		}
	}
	return 0, false
}

// Stat returns the statistic named stat of m: a name of DistStats for
// distributions and "value" (or "count") for rates. ok is false when m has
// no such statistic.
func (m Metric) Stat(stat string) (v float64, ok bool) {
	if m.Kind == KindRate {
		switch stat {
		case "value":
			return m.Value, true
		case "count":
			return float64(m.Count), true
		}
		return 0, false
	}
	for _, st := range distStats {
		switch {
		case st.name != stat:
		case st.of == nil:
			return float64(m.Count), true
		default:
			return *st.of(&m), true
		}
	}
	return 0, false
}

// DefaultStat is the statistic a bare metric name refers to in thresholds
// and comparisons: "value" for rates, "mean" for distributions.
func (m Metric) DefaultStat() string {
	if m.Kind == KindRate {
		return "value"
	}
	return "mean"
}
