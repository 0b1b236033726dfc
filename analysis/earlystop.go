package analysis

import (
	"fmt"
	"sync"

	"github.com/benchrun/benchrun/runner/results"
)

// Early stop of a capacity-search probe (docs/capacity.md): a probe that
// is clearly over the SLOs is ended before its requests are all sent, so
// the search does not spend its budget measuring a queue. The check is
// exact rather than statistical: for an SLO "metric.pP < L" (or <=) on a
// per-request latency (ttft, tpot, e2e), JudgeProbe fails the probe when
// the lower end of the 95% interval of the percentile — the order
// statistic of 0-based rank lo of the n requests (ciRanks) — is at least
// L. Once n − lo measured requests are at least L (beyond L for <=), that
// order statistic is at least L whatever the remaining requests measure:
// the probe run to its end would fail that SLO. ProbeWatch counts them as
// the samples arrive and says when to stop; the stopped probe is recorded
// with SettingEarlyStop and JudgeProbe fails it (its truncated samples
// are never judged on their own, so it cannot pass).

// SettingEarlyStop is the results.CaseInfo.Settings key a stopped probe
// carries: the evidence, one sentence.
const SettingEarlyStop = "early_stop"

// TestEarlyStop is the Label.Test of a probe stopped early (label
// saturated, from SettingEarlyStop).
const TestEarlyStop = "early_stop"

// ProbeWatch watches one probe's samples for an SLO already missed. It is
// safe for concurrent use.
type ProbeWatch struct {
	mu      sync.Mutex
	rules   []watchRule
	stopped string
}

type watchRule struct {
	t          Threshold
	need, over int
}

// NewProbeWatch returns the watch of a probe of requests measured
// requests under spec; it has a rule per SLO it can decide early (an
// upper limit on a percentile of ttft, tpot or e2e with an interval at
// that many requests), and never stops without one.
func NewProbeWatch(spec SearchSpec, requests int) *ProbeWatch {
	w := &ProbeWatch{}
	for _, t := range spec.SLOs {
		p, pct := StatPercentile(t.Stat)
		if !pct || (t.Op != "<" && t.Op != "<=") || (t.Metric != MetricTTFT && t.Metric != MetricTPOT && t.Metric != MetricE2E) {
			continue
		}
		lo, _, ok := ciRanks(requests, p, 0.95)
		if !ok {
			continue
		}
		w.rules = append(w.rules, watchRule{t: t, need: requests - lo})
	}
	return w
}

// Observe counts one sample (warm-up and failed requests do not count)
// and reports whether the probe should stop: an SLO is already missed.
func (w *ProbeWatch) Observe(s *results.Sample) bool {
	if w == nil || s.Warmup || !s.OK() {
		return false
	}
	op := SampleValues(s)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped != "" {
		return true
	}
	for i := range w.rules {
		r := &w.rules[i]
		var v float64
		var has bool
		switch r.t.Metric {
		case MetricTTFT:
			v, has = op.TTFT, op.HasTTFT
		case MetricTPOT:
			v, has = op.TPOT, op.HasTPOT
		default:
			v, has = op.E2E, true
		}
		if !has || compare(v, r.t.Op, r.t.Limit) {
			continue
		}
		r.over++
		if r.over >= r.need {
			w.stopped = fmt.Sprintf("stopped early: %d requests had %s beyond %s, so the %s of the probe's requests could not meet %s whatever the rest measured",
				r.over, r.t.Metric, FormatValue(r.t.Limit, UnitSeconds), r.t.Stat, r.t.Expr)
			return true
		}
	}
	return false
}

// Stopped returns the evidence of the stop, "" while the probe may go on.
func (w *ProbeWatch) Stopped() string {
	if w == nil {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopped
}

// earlyStopLabel is the label of a probe the manifest says was stopped
// early (SettingEarlyStop); nil otherwise.
func earlyStopLabel(info results.CaseInfo) *Label {
	ev := info.Settings[SettingEarlyStop]
	if ev == "" {
		return nil
	}
	return &Label{Name: LabelSaturated, Test: TestEarlyStop, Effect: EffectWarn, Evidence: ev}
}
