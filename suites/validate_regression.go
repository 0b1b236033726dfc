package suites

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/benchrun/benchrun/analysis"
)

// validateRegression checks the metric names and statistics of a
// benchmark's regression.metrics and the keys of regression.tolerances:
// the comparison skips a statistic that neither the run nor the baseline
// has, so a misspelt one would silently go unchecked. A statistic spelt as
// thresholds allow ("ttft.median", "ttft.p99.9") is rewritten to the name
// the comparison uses ("ttft.p50", "ttft.p999").
//
// A metric must be one analysis computes itself (analysis.MetricNames) or
// a server_<key> of the server's own timings; the openai and ollama drivers
// record no sample Values, so other names cannot be measured.
func (d *decoder) validateRegression(p []string, b *Benchmark) {
	p = child(p, "regression")
	for j, spec := range b.Regression.Metrics {
		canon, err := regressionSpec(spec, b)
		if err != nil {
			d.problem(child(child(p, "metrics"), fmt.Sprint(j)), "benchmark %q: regression.metrics: %v", b.Name, err)
			continue
		}
		b.Regression.Metrics[j] = canon
	}
	if len(b.Regression.Tolerances) == 0 {
		return
	}
	tols := make(map[string]Ratio, len(b.Regression.Tolerances))
	given := map[string]string{} // canonical key → key as written
	for _, k := range slices.Sorted(maps.Keys(b.Regression.Tolerances)) {
		canon, err := k, error(nil)
		if k != "*" {
			canon, err = regressionSpec(k, b)
		}
		path := child(child(p, "tolerances"), k)
		switch {
		case err != nil:
			d.problem(path, "benchmark %q: regression.tolerances: %v", b.Name, err)
			continue
		case given[canon] != "":
			d.problem(path, "benchmark %q: regression.tolerances: %q and %q are the same statistic", b.Name, given[canon], k)
			continue
		}
		if name, _, _ := strings.Cut(canon, "."); analysis.UnitOf(name) == analysis.UnitRatio && b.Regression.Tolerances[k] >= 1 {
			// A ratio's tolerance is absolute: 100 percentage points or more
			// allow any change of a share of 0–1, so the check could never
			// fail ("5" meant as 5% is 500%).
			d.problem(path, "benchmark %q: regression.tolerances: %q: %s is a ratio and its tolerance absolute (percentage points): %g%% allows any change, so the check could never fail (write e.g. \"2%%\")",
				b.Name, k, name, float64(b.Regression.Tolerances[k])*100)
			continue
		}
		given[canon] = k
		tols[canon] = b.Regression.Tolerances[k]
	}
	b.Regression.Tolerances = tols
}

// regressionSpec checks "metric" or "metric.stat" and returns it with the
// statistic's canonical name.
func regressionSpec(spec string, b *Benchmark) (string, error) {
	name, stat, hasStat := strings.Cut(spec, ".")
	in := ""
	if hasStat {
		in = fmt.Sprintf(" in %q", spec)
	}
	known := analysis.MetricNames()
	k := kinds[b.Kind]
	known = append(known, k.metrics...)
	switch {
	case slices.Contains(known, name):
	case slices.ContainsFunc(k.metricPrefixes, func(p string) bool { return strings.HasPrefix(name, p) && len(name) > len(p) }):
	case strings.HasPrefix(name, analysis.ServerPrefix) && len(name) > len(analysis.ServerPrefix):
	case kinds[b.Kind].batch && metricNameRE.MatchString(name):
		// a batch benchmark's own metric: checked against what its parser
		// produces once the workload is decoded (checkBatchRegression)
	default:
		if hint := closest(name, known); hint != "" {
			return "", fmt.Errorf("unknown metric %q%s (did you mean %q?)", name, in, hint)
		}
		return "", fmt.Errorf("unknown metric %q%s (known metrics: %s, and server_<key>)", name, in, strings.Join(known, ", "))
	}
	if name == analysis.MetricGoodput && b.SLO == (SLO{}) {
		return "", fmt.Errorf("%q: goodput is only measured with a [benchmark.slo] table", spec)
	}
	if err := recallMeasured(name, spec, b); err != nil {
		return "", err
	}
	if !hasStat {
		return spec, nil
	}
	kind := analysis.KindOf(name)
	stats := analysis.StatNames(kind)
	canon, ok := analysis.NormalizeStat(stat)
	switch {
	case !ok:
		if hint := closest(stat, stats); hint != "" {
			return "", fmt.Errorf("unknown stat %q in %q (did you mean %q?)", stat, spec, name+"."+hint)
		}
		return "", fmt.Errorf("unknown stat %q in %q (%s has %s)", stat, spec, name, strings.Join(stats, ", "))
	case !slices.Contains(stats, canon):
		return "", fmt.Errorf("%q: %s is a %s and has no %s (it has %s)", spec, name, kind, stat, strings.Join(stats, ", "))
	}
	return name + "." + canon, nil
}

// closest returns the name of known nearest to s when it is near enough to
// be a typo of it (two edits, or a quarter of s for longer names, as in
// "output_tokens_per_sec"), else "".
func closest(s string, known []string) string {
	best, bestD := "", max(2, len(s)/4)+1
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// recallMeasured checks that a chroma benchmark measures recall_at_<n>:
// n must be the workload's k (one of a sweep's), else no case has it and
// the comparison would skip it silently.
func recallMeasured(name, spec string, b *Benchmark) error {
	n, ok := strings.CutPrefix(name, "recall_at_")
	if b.Kind != "chroma" || !ok {
		return nil
	}
	ks := chromaKs(b)
	for _, k := range ks {
		if recallMetric(k) == name {
			return nil
		}
	}
	var list []string
	for _, k := range ks {
		list = append(list, strconv.FormatInt(k, 10))
	}
	return fmt.Errorf("%q: recall_at_%s is not measured: the benchmark's k is %s (recall_at_<k>)", spec, n, strings.Join(list, ", "))
}
