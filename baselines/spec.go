package baselines

import "strings"

// statter is a metric that names its statistics: analysis.Metric, and
// Metric (a baseline's, which embeds it).
type statter interface {
	DefaultStat() string
	Stat(stat string) (float64, bool)
}

// splitSpec splits a "metric.stat" spec as suites write it into the
// metric and the statistic's Metric.Stat name ("p99.9" → "p999"); stat is
// "" for a bare metric.
func splitSpec(spec string) (name, stat string) {
	name, stat, _ = strings.Cut(spec, ".")
	if stat == "p99.9" {
		stat = "p999"
	}
	return name, stat
}

// LookupSpec finds spec ("metric.stat", or a bare metric meaning its
// DefaultStat) in metrics: the metric's name, the statistic's name, the
// metric and its value; ok is false when the metric or the statistic is
// missing. It is the one reading of a spec for promote's headlines, the
// history and `baseline show`.
func LookupSpec[M statter](metrics map[string]M, spec string) (name, stat string, m M, v float64, ok bool) {
	name, stat = splitSpec(spec)
	if m, ok = metrics[name]; !ok {
		return name, stat, m, 0, false
	}
	if stat == "" {
		stat = m.DefaultStat()
	}
	v, ok = m.Stat(stat)
	return name, stat, m, v, ok
}
