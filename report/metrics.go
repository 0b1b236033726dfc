package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/benchrun/benchrun/analysis"
)

// openMetricsStats are the statistics of a distribution that metrics.txt
// carries; rates carry "value".
var openMetricsStats = []string{"mean", "p50", "p90", "p95", "p99", "p999", "max"}

type omSample struct {
	labels string // rendered {…}
	key    [3]string
	value  float64
}

type omFamily struct {
	name, unit, help string
	samples          []omSample
}

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

// labelValue escapes s for a label value: backslash, double quote and
// newline, after dropping invalid UTF-8.
func labelValue(s string) string {
	s = strings.ToValidUTF8(s, "")
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return r.Replace(s)
}

func omValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == 0:
		return "0"
	}
	if a := math.Abs(v); a >= 1e-9 && a < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// WriteMetrics writes metrics.txt in the OpenMetrics text format for
// GitLab's metrics report: one gauge family per metric, named in base
// units (benchrun_ttft_seconds, benchrun_output_tokens_per_second), with
// labels benchmark, case and stat (p50 … p999, mean, max, or value for
// rates), plus benchrun_case_seconds and benchrun_checks_failed per case.
// Families and samples are sorted; the file ends with "# EOF".
func WriteMetrics(w io.Writer, in *Input) error {
	fams := map[string]*omFamily{}
	seen := map[string]bool{} // family and labels: two metrics whose names sanitise alike keep the first
	add := func(name, unit, help string, c *analysis.Case, stat string, v float64) {
		labels := fmt.Sprintf(`{benchmark="%s",case="%s",stat="%s"}`, labelValue(c.Benchmark), labelValue(c.ID), labelValue(stat))
		if seen[name+labels] {
			return
		}
		seen[name+labels] = true
		f := fams[name]
		if f == nil {
			f = &omFamily{name: name, unit: unit, help: help}
			fams[name] = f
		}
		f.samples = append(f.samples, omSample{labels, [3]string{c.Benchmark, c.ID, stat}, v})
	}
	for i := range in.Summary.Cases {
		c := &in.Summary.Cases[i]
		for _, metric := range sortedKeys(c.Metrics) {
			m := c.Metrics[metric]
			name, unit := familyName(metric, m.Unit)
			help := fmt.Sprintf("benchrun metric %s in %s", metric, m.Unit)
			if m.Kind == analysis.KindRate {
				add(name, unit, help, c, "value", m.Value)
				continue
			}
			if m.Count == 0 {
				continue
			}
			for _, stat := range openMetricsStats {
				v, _ := m.Stat(stat)
				add(name, unit, help, c, stat, v)
			}
		}
		failed := 0
		for _, ch := range c.Checks {
			if checkFailed(ch.Verdict) {
				failed++
			}
		}
		add("benchrun_case_seconds", "seconds", "length of the measured window", c, "value", c.Seconds)
		add("benchrun_checks_failed", "", "failed threshold and regression checks", c, "value", float64(failed))
	}
	var b strings.Builder
	for _, name := range sortedKeys(fams) {
		f := fams[name]
		sort.SliceStable(f.samples, func(i, j int) bool {
			a, b := f.samples[i].key, f.samples[j].key
			for k := range a {
				if a[k] != b[k] {
					return a[k] < b[k]
				}
			}
			return false
		})
		fmt.Fprintf(&b, "# TYPE %s gauge\n", f.name)
		if f.unit != "" {
			fmt.Fprintf(&b, "# UNIT %s %s\n", f.name, f.unit)
		}
		fmt.Fprintf(&b, "# HELP %s %s\n", f.name, labelValue(f.help))
		for _, s := range f.samples {
			fmt.Fprintf(&b, "%s%s %s\n", f.name, s.labels, omValue(s.value))
		}
	}
	b.WriteString("# EOF\n")
	_, err := io.WriteString(w, b.String())
	return err
}
