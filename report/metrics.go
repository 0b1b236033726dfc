package report

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/benchrun/benchrun/analysis"
)

// metricsOmitted are the statistics of a distribution (analysis.DistStats)
// that metrics.txt leaves out: it carries mean, the percentiles and max;
// rates carry "value".
var metricsOmitted = map[string]bool{"count": true, "stddev": true, "min": true}

// metricName makes s a valid OpenMetrics name fragment: characters outside
// [a-zA-Z0-9_] become '_'.
func metricName(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r >= '0' && r <= '9' && i > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// familyName returns the OpenMetrics family of metric with unit: base-unit
// suffixes (_seconds, _bytes, _tokens) are added unless the name already
// ends with them; the second result is the OpenMetrics UNIT, if any.
func familyName(metric, unit string) (string, string) {
	name := "benchrun_" + metricName(metric)
	suffix := ""
	switch analysis.BaseUnit(unit) {
	case analysis.UnitSeconds:
		suffix = "seconds"
	case analysis.UnitBytes:
		suffix = "bytes"
	case "tokens", "token":
		suffix = "tokens"
	}
	if suffix == "" {
		return name, ""
	}
	if !strings.HasSuffix(name, "_"+suffix) {
		name += "_" + suffix
	}
	if suffix == "tokens" {
		return name, "" // not a unit OpenMetrics knows; kept in the name only
	}
	return name, suffix
}

// WriteMetrics writes metrics.txt in the OpenMetrics text format for
// GitLab's metrics report: one gauge family per metric, named in base
// units (benchrun_ttft_seconds, benchrun_output_tokens_per_second), with
// labels benchmark, case and stat (mean, p50 … p999, max, or value for
// rates), plus benchrun_case_seconds and benchrun_checks_failed per case.
// The gauges are collected in a client_golang registry and written by the
// OpenMetrics encoder of prometheus/common/expfmt: families sorted by name,
// samples by label values, a UNIT line for seconds and bytes, and "# EOF"
// at the end. Invalid UTF-8 is dropped from label values; of two metrics
// whose names sanitise alike, the first keeps the sample.
func WriteMetrics(w io.Writer, in *Input) error {
	reg := prometheus.NewRegistry()
	gauges := map[string]*prometheus.GaugeVec{}
	units := map[string]string{}
	seen := map[[4]string]bool{}
	add := func(name, unit, help string, c *analysis.Case, stat string, v float64) error {
		labels := [3]string{strings.ToValidUTF8(c.Benchmark, ""), strings.ToValidUTF8(c.ID, ""), stat}
		key := [4]string{name, labels[0], labels[1], labels[2]}
		if seen[key] {
			return nil
		}
		seen[key] = true
		g := gauges[name]
		if g == nil {
			g = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: strings.ToValidUTF8(help, "")}, []string{"benchmark", "case", "stat"})
			if err := reg.Register(g); err != nil {
				return fmt.Errorf("metrics.txt: %w", err)
			}
			gauges[name] = g
			if unit != "" {
				units[name] = unit
			}
		}
		g.WithLabelValues(labels[:]...).Set(v)
		return nil
	}
	for i := range in.Summary.Cases {
		c := &in.Summary.Cases[i]
		for _, metric := range slices.Sorted(maps.Keys(c.Metrics)) {
			m := c.Metrics[metric]
			name, unit := familyName(metric, m.Unit)
			help := fmt.Sprintf("benchrun metric %s in %s", metric, m.Unit)
			if m.Kind == analysis.KindRate {
				if err := add(name, unit, help, c, "value", m.Value); err != nil {
					return err
				}
				continue
			}
			if m.Count == 0 {
				continue
			}
			for _, stat := range analysis.DistStats() {
				if metricsOmitted[stat] {
					continue
				}
				v, _ := m.Stat(stat)
				if err := add(name, unit, help, c, stat, v); err != nil {
					return err
				}
			}
		}
		failed := 0
		for _, ch := range c.Checks {
			if checkFailed(ch.Verdict) {
				failed++
			}
		}
		if err := add("benchrun_case_seconds", "seconds", "length of the measured window", c, "value", c.Seconds); err != nil {
			return err
		}
		if err := add("benchrun_checks_failed", "", "failed threshold and regression checks", c, "value", float64(failed)); err != nil {
			return err
		}
	}
	fams, err := reg.Gather()
	if err != nil {
		return fmt.Errorf("metrics.txt: %w", err)
	}
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		if u, ok := units[f.GetName()]; ok {
			f.Unit = proto.String(u) // client_golang has no unit option; the encoder writes it
		}
		if _, err := expfmt.MetricFamilyToOpenMetrics(bw, f, expfmt.WithUnit()); err != nil {
			return err
		}
	}
	if _, err := expfmt.FinalizeOpenMetrics(bw); err != nil {
		return err
	}
	return bw.Flush()
}
