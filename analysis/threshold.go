package analysis

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Threshold is a parsed threshold expression such as "ttft.p95 < 500ms":
// a metric, an optional statistic, a comparison and a limit in the metric's
// base unit. Parse thresholds when a suite is validated, check them after
// the run.
type Threshold struct {
	Expr   string  // the expression as written
	Metric string  // e.g. "ttft"
	Stat   string  // "p95", "mean", "value", ...; "" = the metric's DefaultStat
	Op     string  // <, <=, >, >=, ==
	Limit  float64 // in the metric's base unit (seconds, ratio 0–1, bytes, ...)
}

var thresholdOps = []string{"<=", ">=", "==", "<", ">"} // two-character operators first

// unitScale maps a unit suffix to its factor to base units and its kind.
var unitScale = map[string]struct {
	f    float64
	kind string
}{
	"ns": {1e-9, "duration"}, "us": {1e-6, "duration"}, "µs": {1e-6, "duration"}, "μs": {1e-6, "duration"},
	"ms": {1e-3, "duration"}, "s": {1, "duration"}, "m": {60, "duration"}, "h": {3600, "duration"},
	"%": {0.01, "percentage"},
	"B": {1, "size"}, "KB": {1e3, "size"}, "MB": {1e6, "size"}, "GB": {1e9, "size"}, "TB": {1e12, "size"},
	"KiB": {1 << 10, "size"}, "MiB": {1 << 20, "size"}, "GiB": {1 << 30, "size"}, "TiB": {1 << 40, "size"},
	"k": {1e3, ""}, "M": {1e6, ""}, "G": {1e9, ""},
}

// statAliases maps accepted statistic spellings to Metric.Stat names: each
// name of DistStats and "value" to itself, and the other spellings.
var statAliases = func() map[string]string {
	m := map[string]string{"value": "value", "avg": "mean", "rate": "value", "median": "p50", "med": "p50", "p99.9": "p999"}
	for _, st := range distStats {
		m[st.name] = st.name
	}
	return m
}()

// ParseThreshold parses a threshold expression: metric[.stat] op number[unit].
//
// The metric is any name of letters, digits and _ starting with a letter
// (unknown names are metrics from sample Values). The stat is one of mean
// (avg), stddev, min, max, count, value (rate), p50 (median), p90, p95, p99,
// p99.9 (p999), also written p(95); without it a rate's value or a
// distribution's mean is meant. The op is <, <=, >, >= or ==. The unit is a
// duration (ns us µs ms s m h; a bare number on a duration is seconds), %
// (of a ratio or plain number), a size (B KB MB GB TB KiB MiB GiB TiB) or a
// scale (k M G); a unit that does not fit a known metric's unit is an error.
func ParseThreshold(expr string) (Threshold, error) {
	t, err := parseThreshold(expr)
	if err != nil {
		return Threshold{}, fmt.Errorf("threshold %q: %w", expr, err)
	}
	return t, nil
}

// ParseThresholds parses every expression and reports every bad one at once.
func ParseThresholds(exprs []string) ([]Threshold, error) {
	var ts []Threshold
	var errs []error
	for _, e := range exprs {
		t, err := ParseThreshold(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ts = append(ts, t)
	}
	return ts, errors.Join(errs...)
}

func parseThreshold(expr string) (Threshold, error) {
	t := Threshold{Expr: expr}
	s := strings.TrimSpace(expr)
	opAt, op := -1, ""
	for _, o := range thresholdOps {
		if i := strings.Index(s, o); i >= 0 && (opAt < 0 || i < opAt || (i == opAt && len(o) > len(op))) {
			opAt, op = i, o
		}
	}
	if opAt < 0 {
		return t, errors.New("no comparison (want one of < <= > >= ==)")
	}
	lhs, rhs := strings.TrimSpace(s[:opAt]), strings.TrimSpace(s[opAt+len(op):])
	t.Op = op
	if rhs == "" {
		return t, errors.New("no limit after " + op)
	}
	if strings.ContainsAny(rhs, "<>=") {
		return t, errors.New("more than one comparison")
	}
	name, stat, hasStat := strings.Cut(lhs, ".")
	if !isMetricName(name) {
		return t, fmt.Errorf("bad metric name %q (want letters, digits and _)", name)
	}
	t.Metric = name
	if hasStat {
		st, ok := normalizeStat(stat)
		if !ok {
			return t, fmt.Errorf("unknown stat %q (want mean, stddev, min, max, count, value, p50, p90, p95, p99, p99.9)", stat)
		}
		t.Stat = st
	}
	num, unit := splitNumber(rhs)
	if num == "" {
		return t, fmt.Errorf("bad limit %q", rhs)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return t, fmt.Errorf("bad number %q", num)
	}
	f, kind, err := unitFactor(unit)
	if err != nil {
		return t, err
	}
	if err := unitFits(t.Metric, t.Stat, unit, kind); err != nil {
		return t, err
	}
	t.Limit = v * f
	if err := ratioFits(t.Metric, t.Stat, unit, t.Limit); err != nil {
		return t, err
	}
	return t, nil
}

// ratioFits refuses a limit on a ratio metric (error_rate...) not written
// with % that is not a share below 1: "error_rate < 5" meant as 5% (or
// "error_rate < 1k") is a limit no ratio reaches, a threshold that always
// passes, and a bare 1 may mean 1% or 100%. Written with %, any limit is
// taken as given.
func ratioFits(metric, stat, unit string, limit float64) error {
	if unit == "%" || stat == "count" || UnitOf(metric) != UnitRatio {
		return nil
	}
	switch {
	case limit == 1 && unit == "":
		return fmt.Errorf("%s is a ratio (0–1): limit 1 is ambiguous, write 1%% or 100%%", metric)
	case limit < 0 || limit > 1:
		return fmt.Errorf("%s is a ratio (0–1): limit %g is outside it (for a percentage, write it with %%)", metric, limit)
	}
	return nil
}

func isMetricName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// NormalizeStat maps a statistic as thresholds write it ("median", "avg",
// "rate", "p99.9", "p(95)") to its Metric.Stat name ("p50", "mean",
// "value", "p999", "p95"); ok is false for an unknown statistic.
func NormalizeStat(s string) (stat string, ok bool) { return normalizeStat(s) }

// StatNames returns, sorted, the Metric.Stat names a metric of kind has:
// value and count for rates; count, mean, stddev, min, max and the
// percentiles for distributions.
func StatNames(kind string) []string {
	m := Metric{Kind: kind}
	var names []string
	for _, st := range statAliases {
		if _, ok := m.Stat(st); ok && !slices.Contains(names, st) {
			names = append(names, st)
		}
	}
	slices.Sort(names)
	return names
}

func normalizeStat(s string) (string, bool) {
	if inner, ok := strings.CutPrefix(s, "p("); ok && strings.HasSuffix(inner, ")") {
		s = "p" + strings.TrimSuffix(inner, ")")
	}
	st, ok := statAliases[s]
	return st, ok
}

// splitNumber splits "500ms" into "500" and "ms".
func splitNumber(s string) (num, unit string) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	// An exponent: 1e-3, 2E6.
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j
		}
	}
	return s[:i], strings.TrimSpace(s[i:])
}

func unitFactor(unit string) (float64, string, error) {
	if unit == "" {
		return 1, "", nil
	}
	u, ok := unitScale[unit]
	if !ok {
		return 0, "", fmt.Errorf("unknown unit %q", unit)
	}
	return u.f, u.kind, nil
}

// unitFits checks a limit's unit kind against the metric's unit, for the
// metrics whose unit is known.
func unitFits(metric, stat, unit, kind string) error {
	if kind == "" {
		return nil
	}
	if stat == "count" {
		return fmt.Errorf("unit %q on a count", unit)
	}
	mu := UnitOf(metric)
	ok := false
	switch kind {
	case "duration":
		ok = mu == UnitSeconds
	case "percentage":
		ok = mu == UnitRatio || mu == UnitNone
	case "size":
		ok = mu == UnitBytes || mu == UnitNone
	}
	if !ok {
		what := mu
		if what == UnitNone {
			what = "a plain number"
		}
		return fmt.Errorf("unit %q is a %s but %s is in %s", unit, kind, metric, what)
	}
	return nil
}

// parseQuantity parses a number with an optional unit (as in thresholds)
// into base units.
func parseQuantity(s string) (float64, string, error) {
	num, unit := splitNumber(strings.TrimSpace(s))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, "", fmt.Errorf("bad number %q", s)
	}
	f, kind, err := unitFactor(unit)
	if err != nil {
		return 0, "", err
	}
	return v * f, kind, nil
}

// Check evaluates t against c's metrics. A metric or statistic the case
// does not have is a failing check whose Detail says so, with Value 0 and
// the metric's Unit; but error_rate_<class> of a class of knownErrorClasses that
// did not occur in a case with measured operations is 0 and checked as such.
func (t Threshold) Check(c *Case) Check {
	ck := Check{Name: t.Expr, Kind: CheckThreshold, Metric: t.Metric, Stat: t.Stat, Op: t.Op, Limit: t.Limit, Verdict: Fail}
	m, ok := c.Metrics[t.Metric]
	if !ok {
		m, ok = AbsentErrorRate(c, t.Metric)
	}
	if !ok {
		ck.Unit = UnitOf(t.Metric)
		ck.Detail = fmt.Sprintf("metric %s was not measured in this case", t.Metric)
		return ck
	}
	ck.Unit = m.Unit
	if ck.Stat == "" {
		ck.Stat = m.DefaultStat()
	}
	v, ok := m.Stat(ck.Stat)
	if !ok {
		ck.Detail = fmt.Sprintf("metric %s is a %s and has no %s", t.Metric, m.Kind, ck.Stat)
		return ck
	}
	if m.Kind == KindDistribution && m.Count == 0 {
		ck.Detail = fmt.Sprintf("metric %s has no values", t.Metric)
		return ck
	}
	ck.Value = v
	if compare(v, t.Op, t.Limit) {
		ck.Verdict = Pass
	} else {
		ck.Detail = fmt.Sprintf("%s %s is %s, limit %s %s", t.Metric, ck.Stat, FormatValue(v, m.Unit), t.Op, FormatValue(t.Limit, m.Unit))
	}
	return ck
}

// AbsentErrorRate returns the error_rate_<class> metric SummarizeCase
// leaves out when no operation failed with class: a rate of 0 over the
// case's measured operations. ok is false when metric is not the error
// rate of a class of knownErrorClasses or the case measured no operation.
// Thresholds and baseline comparisons both use it.
func AbsentErrorRate(c *Case, metric string) (Metric, bool) {
	class, isErrorRate := strings.CutPrefix(metric, ErrorRatePrefix)
	all, measured := c.Metrics[MetricErrorRate]
	if !isErrorRate || !slices.Contains(knownErrorClasses, class) || !measured || all.Count == 0 {
		return Metric{}, false
	}
	return Metric{Kind: KindRate, Unit: UnitOf(metric), Count: all.Count}, true
}

func compare(v float64, op string, lim float64) bool {
	switch op {
	case "<":
		return v < lim
	case "<=":
		return v <= lim
	case ">":
		return v > lim
	case ">=":
		return v >= lim
	case "==":
		return v == lim
	}
	return false
}

// CheckThresholds appends the check of every threshold to c.Checks.
func CheckThresholds(c *Case, ts []Threshold) {
	for _, t := range ts {
		c.Checks = append(c.Checks, t.Check(c))
	}
}
