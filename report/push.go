package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/benchrun/benchrun/analysis"
)

// CaseGatherer is one case's summary as Prometheus gauges, for a
// Pushgateway group that names the case (so the series carry no case
// label): each metric as metrics.txt names it (benchrun_ttft_seconds
// {benchmark, stat}), benchrun_case_verdict{verdict} = 1,
// benchrun_case_seconds, benchrun_checks_failed, and the server-side
// overhead from telemetry when there is one. Those families come first:
// a metric whose name sanitises like one of them, or like an earlier
// metric, is left out (as in metrics.txt).
func CaseGatherer(c *analysis.Case) (prometheus.Gatherer, error) {
	reg := prometheus.NewRegistry()
	gauges := map[string]*prometheus.GaugeVec{}
	labelNames := map[string]string{}
	seen := map[string]bool{}
	bench := strings.ToValidUTF8(c.Benchmark, "")
	// set keeps the first sample of a family and label set: a metric whose
	// name sanitises like an earlier family's ("case" in seconds is
	// benchrun_case_seconds) is left out, as in metrics.txt, rather than
	// overwriting it or, with other label names, panicking.
	set := func(name, help string, labels prometheus.Labels, v float64) error {
		keys := slices.Sorted(maps.Keys(labels))
		names := strings.Join(keys, "\x00")
		g := gauges[name]
		if g == nil {
			g = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, keys)
			if err := reg.Register(g); err != nil {
				return fmt.Errorf("push: %w", err)
			}
			gauges[name], labelNames[name] = g, names
		} else if labelNames[name] != names {
			return nil
		}
		key := name
		for _, k := range keys {
			key += "\x00" + labels[k]
		}
		if seen[key] {
			return nil
		}
		seen[key] = true
		g.With(labels).Set(v)
		return nil
	}
	// The push's own families first, so that they win.
	failed := 0
	for _, ch := range c.Checks {
		if checkFailed(ch.Verdict) {
			failed++
		}
	}
	if err := set("benchrun_case_verdict", "1 for the case's verdict", prometheus.Labels{"benchmark": bench, "verdict": c.Verdict}, 1); err != nil {
		return nil, err
	}
	if err := set("benchrun_case_seconds", "length of the measured window", prometheus.Labels{"benchmark": bench}, c.Seconds); err != nil {
		return nil, err
	}
	if err := set("benchrun_checks_failed", "failed threshold and regression checks", prometheus.Labels{"benchmark": bench}, float64(failed)); err != nil {
		return nil, err
	}
	if t := c.Telemetry; t != nil && t.Server != nil {
		for _, what := range []string{"e2e", "ttft"} {
			l := map[string]*analysis.ServerLatency{"ttft": t.Server.TTFT, "e2e": t.Server.E2E}[what]
			if l == nil || l.ClientMean == 0 {
				continue
			}
			if err := set("benchrun_client_overhead_seconds", "client mean minus the server's own mean (client and network)",
				prometheus.Labels{"benchmark": bench, "metric": what}, l.Overhead); err != nil {
				return nil, err
			}
		}
	}
	for _, metric := range slices.Sorted(maps.Keys(c.Metrics)) {
		m := c.Metrics[metric]
		name, _ := familyName(metric, m.Unit)
		help := fmt.Sprintf("benchrun metric %s in %s", metric, m.Unit)
		stats := []string{"value"}
		if m.Kind != analysis.KindRate {
			if m.Count == 0 {
				continue
			}
			stats = nil
			for _, st := range analysis.DistStats() {
				if !metricsOmitted[st] {
					stats = append(stats, st)
				}
			}
		}
		for _, st := range stats {
			v := m.Value
			if st != "value" {
				v, _ = m.Stat(st)
			}
			if err := set(name, help, prometheus.Labels{"benchmark": bench, "stat": st}, v); err != nil {
				return nil, err
			}
		}
	}
	return reg, nil
}

// RunGatherer is a run's status as Prometheus gauges, for a Pushgateway
// group of the run: benchrun_run_verdict{verdict} = 1,
// benchrun_run_exit_code, benchrun_run_incomplete, and
// benchrun_run_cases{verdict}.
func RunGatherer(s *analysis.Summary, exitCode int) prometheus.Gatherer {
	reg := prometheus.NewRegistry()
	verdict := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "benchrun_run_verdict", Help: "1 for the run's verdict"}, []string{"verdict"})
	verdict.WithLabelValues(s.Verdict).Set(1)
	code := prometheus.NewGauge(prometheus.GaugeOpts{Name: "benchrun_run_exit_code", Help: "benchrun's exit code for the run"})
	code.Set(float64(exitCode))
	inc := prometheus.NewGauge(prometheus.GaugeOpts{Name: "benchrun_run_incomplete", Help: "1 when the run was cut short"})
	if s.Incomplete {
		inc.Set(1)
	}
	cases := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "benchrun_run_cases", Help: "cases by verdict"}, []string{"verdict"})
	for _, v := range []string{analysis.Pass, analysis.Fail, analysis.Error, analysis.Skipped} {
		cases.WithLabelValues(v)
	}
	for _, c := range s.Cases {
		cases.WithLabelValues(c.Verdict).Inc()
	}
	reg.MustRegister(verdict, code, inc, cases)
	return reg
}
