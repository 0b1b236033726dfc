package parse

import (
	"regexp"
	"strings"
)

// mdtestHeaderRE matches the rate summary headers of every mdtest
// release: "SUMMARY: (of N iterations)" (1.9), "SUMMARY rate: (of N
// iterations)" (3.x), "SUMMARY rate (in ops/sec): (of N iterations)" (4.x).
var mdtestHeaderRE = regexp.MustCompile(`^SUMMARY( rate)?( \(in ops/sec\))?: \(of \d+ iterations?\)\s*$`)

// MDTest reads mdtest's rate summary, of any release (see mdtestHeaderRE),
// into OPERATION_max, _min and _mean in ops/s ("File creation" →
// file_creation_max). The "SUMMARY time" tables are not read: their unit
// changed between releases. Operations that did not run print zeros and
// are left out; a summary where nothing ran is an error.
func MDTest(file string, data []byte, _ Options) ([]Metric, error) {
	ls := lines(data)
	start := -1
	for i, l := range ls {
		if mdtestHeaderRE.MatchString(strings.TrimSpace(l)) {
			if start >= 0 {
				return nil, errorf(file, i+1, "a second mdtest rate summary")
			}
			start = i
		}
	}
	if start < 0 {
		return nil, errorf(file, 0, "not mdtest output: no \"SUMMARY rate\" (or 1.9 \"SUMMARY:\") table")
	}
	var out []Metric
	i := start + 1
	for ; i < len(ls); i++ {
		t := strings.TrimSpace(ls[i])
		if strings.HasPrefix(t, "Operation") || strings.HasPrefix(t, "---") {
			continue
		}
		if t == "" || strings.HasPrefix(t, "-- ") || strings.HasPrefix(t, "SUMMARY") {
			break // a blank line, "-- finished at", or the time summary
		}
		f := strings.Fields(strings.ReplaceAll(t, " : ", " "))
		if len(f) < 5 {
			return nil, errorf(file, i+1, "not an mdtest summary row: %q", clip(t))
		}
		vals := f[len(f)-4:]
		op := metricName(strings.Join(f[:len(f)-4], " "))
		var v [4]float64
		for j := range vals {
			x, err := number(vals[j])
			if err != nil {
				return nil, errorf(file, i+1, "%s: %v", op, err)
			}
			v[j] = x
		}
		if op == "" {
			return nil, errorf(file, i+1, "mdtest summary row without an operation: %q", clip(t))
		}
		if v[0] == 0 && v[1] == 0 && v[2] == 0 {
			continue // did not run
		}
		out = append(out,
			Metric{Name: op + "_max", Value: v[0], Unit: UnitOpsPerSec, Better: Higher},
			Metric{Name: op + "_min", Value: v[1], Unit: UnitOpsPerSec, Better: Higher},
			Metric{Name: op + "_mean", Value: v[2], Unit: UnitOpsPerSec, Better: Higher})
	}
	if len(out) == 0 {
		return nil, errorf(file, start+1, "mdtest summary where no operation ran (all zero)")
	}
	return out, nil
}
