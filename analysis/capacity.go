package analysis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Capacity search (docs/capacity.md): the decisions of a search for the
// highest load meeting SLOs. Package ci runs the probes; every number and
// every decision is made here, from the probes' summaries.

// Probe verdicts.
const (
	ProbePass          = "pass"
	ProbeFail          = "fail"
	ProbeIndeterminate = "indeterminate"
)

// MetricCapacity is the capacity case's metric: the highest passing load.
const MetricCapacity = "capacity"

// SearchSpec is a validated [benchmark.search].
type SearchSpec struct {
	Variable   string // rate, users or speed (a trace replay's pace, × the recorded)
	Min, Max   float64
	SLOs       []Threshold
	Attainment float64 // share of requests meeting every goodput SLO; 0 = not judged
	Precision  float64 // relative width at which bisection ends
	Requests   int     // measured requests of a first probe (raised to the floor)
	Remeasure  int     // re-measures of a straddling probe before it is indeterminate
}

// ProbeRequests is the measured requests of a first probe: Requests, but at
// least 10/(1−p) for the highest percentile p an SLO judges (1,000 for
// p99), 10/(1−a) for an attainment a, and 10/L for an upper limit L on an
// error rate (1,000 for error_rate < 1%: the same rule, the errors being
// the tail beyond the 1−L quantile; with fewer, even no error at all has
// a Wilson interval reaching above L, and the probe could never pass).
func (s SearchSpec) ProbeRequests() int {
	n := max(s.Requests, 100)
	floor := func(q float64) {
		if q > 0 && q < 1 {
			n = max(n, int(math.Ceil(10/(1-q)-1e-9)))
		}
	}
	for _, t := range s.SLOs {
		if p, ok := StatPercentile(t.Stat); ok {
			floor(p / 100)
		}
	}
	floor(s.Attainment)
	for _, t := range s.SLOs {
		if (t.Metric == MetricErrorRate || strings.HasPrefix(t.Metric, ErrorRatePrefix)) && (t.Op == "<" || t.Op == "<=") {
			floor(1 - t.Limit)
		}
	}
	return n
}

// JudgeProbe decides a probe on confidence bounds: pass when every SLO
// is met by the whole 95% interval of its statistic, fail when one is
// missed by its whole interval (or its metric is missing, or the probe
// had execution errors, or was stopped early: ProbeWatch, or the server
// fell behind its offered rate: label saturated of test rate, or had
// failed requests while no SLO bounds the error rate: failedRequests, or
// measured fewer requests than it was given: shortProbe), else
// indeterminate. A latency miss (or early stop) of a probe whose client
// lagged its schedule (label client_lag) is indeterminate, not a fail:
// latency counts from the scheduled send, so the client's own stall is
// in it, and the probe is measured again rather than blamed on the
// server. detail says why.
func JudgeProbe(c *Case, s SearchSpec) (verdict, detail string) {
	if len(c.Errors) > 0 {
		return ProbeFail, "execution error: " + strings.Join(c.Errors, "; ")
	}
	lag := clientLag(c)
	for _, l := range c.Labels {
		if l.Test == TestEarlyStop && lag != "" {
			return ProbeIndeterminate, lag + l.Evidence
		}
		if l.Test == TestEarlyStop {
			return ProbeFail, l.Evidence
		}
	}
	verdict = ProbePass
	var why []string
	note := func(v, d string) {
		why = append(why, d)
		if v == ProbeFail || verdict == ProbePass {
			verdict = v
		}
	}
	for _, t := range s.SLOs {
		v, d := judgeSLO(c, t)
		if v == ProbeFail && lag != "" && c.Metrics[t.Metric].Unit == UnitSeconds {
			v, d = ProbeIndeterminate, lag+d
		}
		if v != ProbePass {
			note(v, d)
		}
	}
	for _, l := range c.Labels {
		// The server fell behind the offered rate (saturated by the rate
		// test): its queue grew through the probe, and a probe too short
		// for that queue to reach the SLOs would pass a rate the server
		// never kept.
		if l.Name == LabelSaturated && l.Test == TestRate {
			if lag != "" {
				note(ProbeIndeterminate, lag+l.Evidence)
			} else {
				note(ProbeFail, l.Evidence)
			}
		}
	}
	if s.Attainment > 0 {
		if v, d := judgeAttainment(c, s.Attainment); v != ProbePass {
			note(v, d)
		}
	}
	if d := failedRequests(c, s); d != "" {
		note(ProbeFail, d)
	}
	if d := shortProbe(c); d != "" {
		note(ProbeFail, d)
	}
	return verdict, strings.Join(why, "; ")
}

// shortProbe says why a probe that measured fewer requests than it was
// given (params requests) cannot pass: canceled requests are in no
// metric, so a probe cut short (a trace replay that did not run the
// whole trace, a worker lost) would otherwise be judged on the requests
// it happened to finish. "" when it measured them all, or is not a probe.
func shortProbe(c *Case) string {
	p, ok := ProbeOf(c)
	if !ok || p.Requests <= 0 {
		return ""
	}
	if n := c.Metrics[MetricErrorRate].Count; n < p.Requests {
		return fmt.Sprintf("measured %d of its %d requests", n, p.Requests)
	}
	return ""
}

// clientLag is the prefix of a probe's detail when its client lagged its
// schedule (label client_lag), "" when it did not.
func clientLag(c *Case) string {
	for _, l := range c.Labels {
		if l.Name == LabelClientLag {
			return "not judged on the server, the client lagged (" + l.Evidence + "): "
		}
	}
	return ""
}

// failedRequests says why a probe with failed requests cannot pass when
// no SLO bounds its whole error rate (error_rate; an error_rate_<class>
// bounds one class only) and no attainment counts them: latency
// percentiles are of the successful requests only, so a server dropping
// a share of its load would otherwise pass on the latency of the rest.
// "" when nothing failed or an SLO judges the errors.
func failedRequests(c *Case, s SearchSpec) string {
	if s.Attainment > 0 {
		return ""
	}
	for _, t := range s.SLOs {
		if t.Metric == MetricErrorRate {
			return ""
		}
	}
	e, ok := c.Metrics[MetricErrorRate]
	if !ok || e.Value == 0 {
		return ""
	}
	failed := int(math.Round(e.Value * float64(e.Count)))
	return fmt.Sprintf("%d of %d requests failed and no SLO bounds error_rate", failed, e.Count)
}

// judgeSLO judges one threshold on the interval of its statistic: the
// order-statistic interval of a percentile (Metric.CI), Wilson's of a
// ratio, mean ± 1.96 standard errors of a mean; any other statistic is
// judged on its value alone.
func judgeSLO(c *Case, t Threshold) (string, string) {
	m, ok := c.Metrics[t.Metric]
	if !ok {
		m, ok = AbsentErrorRate(c, t.Metric)
	}
	if !ok || m.Kind == KindDistribution && m.Count == 0 {
		return ProbeFail, t.Metric + " was not measured"
	}
	stat := t.Stat
	if stat == "" {
		stat = m.DefaultStat()
	}
	v, ok := m.Stat(stat)
	if !ok {
		return ProbeFail, fmt.Sprintf("%s has no %s", t.Metric, stat)
	}
	lo, hi, ok := statInterval(m, stat, v)
	if !ok {
		return ProbeIndeterminate, fmt.Sprintf("%s: too few samples (%d) for an interval of %s", t.Expr, m.Count, stat)
	}
	best, worst := hi, lo // for an upper limit (<, <=) the best case is the low end
	if t.Op == "<" || t.Op == "<=" {
		best, worst = lo, hi
	}
	ival := fmt.Sprintf("%s %s %s, 95%% interval [%s, %s]", t.Metric, stat, FormatValue(v, m.Unit), FormatValue(lo, m.Unit), FormatValue(hi, m.Unit))
	switch {
	case compare(worst, t.Op, t.Limit):
		return ProbePass, ival
	case !compare(best, t.Op, t.Limit):
		return ProbeFail, t.Expr + " missed: " + ival
	}
	return ProbeIndeterminate, t.Expr + " straddled: " + ival
}

// statInterval is the 95% interval of statistic stat (value v) of m: the
// order-statistic interval of a percentile (ok false without one),
// Wilson's of a ratio, mean ± 1.96 standard errors of a mean, else [v, v].
func statInterval(m Metric, stat string, v float64) (lo, hi float64, ok bool) {
	switch _, pct := StatPercentile(stat); {
	case pct:
		ci, ok := m.CI[stat]
		return ci[0], ci[1], ok
	case m.Kind == KindRate && m.Unit == UnitRatio:
		lo, hi = Wilson(v, m.Count)
		return lo, hi, true
	case stat == "mean" && m.Count > 1:
		h := 1.96 * m.Stddev / math.Sqrt(float64(m.Count))
		return v - h, v + h, true
	}
	return v, v, true
}

// judgeAttainment judges the share of measured requests that met every
// goodput SLO (goodput / requests_per_second × (1 − error_rate)) on its
// Wilson interval.
func judgeAttainment(c *Case, want float64) (string, string) {
	g, ok1 := c.Metrics[MetricGoodput]
	r, ok2 := c.Metrics[MetricRequestsPerSecond]
	e, ok3 := c.Metrics[MetricErrorRate]
	if !ok1 || !ok2 || !ok3 || r.Value == 0 {
		return ProbeFail, "no goodput measured"
	}
	share := g.Value / r.Value * (1 - e.Value)
	lo, hi := Wilson(share, e.Count)
	ival := fmt.Sprintf("attainment %.2f%%, 95%% interval [%.2f%%, %.2f%%], required %.2f%%", 100*share, 100*lo, 100*hi, 100*want)
	switch {
	case lo >= want:
		return ProbePass, ival
	case hi < want:
		return ProbeFail, ival
	}
	return ProbeIndeterminate, "straddled: " + ival
}

// Wilson returns the 95% Wilson score interval of a proportion p of n.
func Wilson(p float64, n int) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	const z = 1.959963984540054
	nf := float64(n)
	d := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / d
	h := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / d
	return math.Max(0, mid-h), math.Min(1, mid+h)
}

// Probe is one measured probe of a search.
type Probe struct {
	Case            string
	Load            float64
	Requests, Try   int
	Verdict, Detail string
}

// Search holds the state of one search: expand (doubling from Min) until
// a probe does not pass, then bisect between the highest passing load and
// the lowest one that did not until they are within Precision.
type Search struct {
	Spec   SearchSpec
	Probes []Probe
	lo, hi float64 // highest passing load (0: none), lowest non-passing (+Inf: none)
}

// NewSearch starts a search.
func NewSearch(s SearchSpec) *Search { return &Search{Spec: s, hi: math.Inf(1)} }

// Record adds a judged probe. An indeterminate probe with re-measures
// left changes nothing (Next re-measures it); one without counts as not
// passing: the capacity is never set on a guess.
func (s *Search) Record(p Probe) {
	s.Probes = append(s.Probes, p)
	switch {
	case p.Verdict == ProbePass:
		s.lo = max(s.lo, p.Load)
	case p.Verdict == ProbeFail || p.Try > s.Spec.Remeasure:
		s.hi = min(s.hi, p.Load)
	}
}

// Next returns the next probe: its load, measured requests and try
// (1, or n for the n-th measure of a straddling load); ok is false when
// the search is over.
func (s *Search) Next() (load float64, requests, try int, ok bool) {
	base := s.Spec.ProbeRequests()
	if len(s.Probes) == 0 {
		return s.Spec.Min, base, 1, true
	}
	last := s.Probes[len(s.Probes)-1]
	if last.Verdict == ProbeIndeterminate && last.Try <= s.Spec.Remeasure {
		return last.Load, 2 * last.Requests, last.Try + 1, true
	}
	switch {
	case s.lo == 0: // Min did not pass
		return 0, 0, 0, false
	case math.IsInf(s.hi, 1):
		if s.lo >= s.Spec.Max {
			return 0, 0, 0, false
		}
		return s.round(min(2*s.lo, s.Spec.Max)), base, 1, true
	case s.hi <= s.lo*(1+s.Spec.Precision):
		return 0, 0, 0, false
	}
	mid := s.round((s.lo + s.hi) / 2)
	if mid <= s.lo || mid >= s.hi {
		return 0, 0, 0, false
	}
	return mid, base, 1, true
}

// round makes users whole and rounds rates to 3 significant digits.
func (s *Search) round(v float64) float64 {
	if s.Spec.Variable == "users" {
		return math.Round(v)
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	return f
}

// Bracket returns the highest passing load (0: none) and the lowest load
// that did not pass (+Inf: none).
func (s *Search) Bracket() (lo, hi float64) { return s.lo, s.hi }

// ProbeOf reads a probe case's load, requests and try from its params
// (search = "variable:load", requests, try); ok is false for other cases.
func ProbeOf(c *Case) (p Probe, ok bool) {
	s, found := c.Params["search"]
	_, v, _ := strings.Cut(s, ":")
	load, err := strconv.ParseFloat(v, 64)
	if !found || err != nil {
		return Probe{}, false
	}
	n, _ := strconv.Atoi(c.Params["requests"])
	try, _ := strconv.Atoi(c.Params["try"])
	return Probe{Case: c.ID, Load: load, Requests: n, Try: max(try, 1)}, true
}

// CapacityCase replays the search of benchmark over its probe cases (in
// run order) with the same decisions the run made, and returns the case
// benchmark/capacity: metric capacity (the highest passing load, its 95%
// bracket in CI["value"], higher is better), goodput at that load, a
// warning per indeterminate probe, the SLO frontier of the probes
// (Frontier); an error when no probe ran, a failed check when no load from
// Min on passed.
func CapacityCase(benchmark, kind string, spec SearchSpec, probes []*Case) Case {
	c := Case{ID: benchmark + "/capacity", Benchmark: benchmark, Kind: kind, Verdict: Pass, Repetitions: 1,
		Params: map[string]string{"search": spec.Variable}, Metrics: map[string]Metric{}}
	s := NewSearch(spec)
	var at *Case
	byID := map[string]*Case{}
	for _, pc := range probes {
		p, ok := ProbeOf(pc)
		if !ok {
			continue
		}
		byID[pc.ID] = pc
		p.Verdict, p.Detail = JudgeProbe(pc, spec)
		s.Record(p)
		if p.Verdict == ProbeIndeterminate && p.Try > spec.Remeasure {
			c.Warnings = append(c.Warnings, fmt.Sprintf("probe %s indeterminate after %d measures, counted as not passing: %s", p.Case, p.Try, p.Detail))
		}
		if p.Verdict == ProbePass && p.Load >= s.lo {
			at = pc
		}
	}
	if len(s.Probes) == 0 {
		c.Errors = append(c.Errors, "the search ran no probe")
		return c
	}
	lo, hi := s.Bracket()
	unit := UnitNone
	if spec.Variable == "rate" {
		unit = UnitRequestsPerSecond
	}
	if math.IsInf(hi, 1) {
		hi = lo
		c.Warnings = append(c.Warnings, fmt.Sprintf("every probe up to max (%s) passed: the capacity is at least that", FormatValue(spec.Max, unit)))
	}
	c.Frontier = frontier(spec, s.Probes, byID, lo, hi)
	var judged []*Case
	for _, pc := range byID {
		judged = append(judged, pc)
	}
	c.Frontier.WallSeconds = wallSeconds(judged)
	c.Metrics[MetricCapacity] = Metric{Kind: KindRate, Unit: unit, Better: "higher", Count: len(s.Probes), Value: lo,
		CI: map[string][2]float64{"value": {lo, hi}}}
	if at != nil {
		if g, ok := at.Metrics[MetricGoodput]; ok {
			c.Metrics[MetricGoodput] = g
		}
		c.Seconds = at.Seconds
	}
	ck := Check{Name: "capacity", Kind: CheckThreshold, Metric: MetricCapacity, Stat: "value", Unit: unit, Value: lo,
		Limit: spec.Min, Op: ">=", Verdict: Pass}
	if lo == 0 {
		ck.Verdict, ck.Detail = Fail, fmt.Sprintf("no load from min (%s) met the SLOs: %s", FormatValue(spec.Min, unit), s.Probes[0].Detail)
	}
	c.Checks = append(c.Checks, ck)
	return c
}
