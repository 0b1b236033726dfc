package parse

import (
	"regexp"
	"strings"
)

// mdtestCheckFailed starts the line in which mdtest says its read check
// (-X) found wrong data: "ERROR: verifying the data on read (N errors)!".
const mdtestCheckFailed = "ERROR: verifying the data"

// mdtestHeaderRE matches the summary headers of every mdtest release:
// rate tables "SUMMARY: (of N iterations)" (1.9), "SUMMARY rate: (of N
// iterations)" (3.x), "SUMMARY rate (in ops/sec): (of N iterations)"
// (4.x), and time tables "SUMMARY time: ..." (3.x), "SUMMARY time (in
// ops/sec): ..." and "SUMMARY time (in ms/op): ..." (4.x). Group 1 is
// the table (empty: 1.9's rate table), group 2 the unit in the header.
var mdtestHeaderRE = regexp.MustCompile(`^SUMMARY(?: (rate|time))?(?: \(in ([^)]*)\))?: \(of \d+ iterations?\)$`)

// The units an mdtest header may state. The time table's values are the
// seconds each phase took, whatever its header says: 4.x labels it "(in
// ops/sec)", later "(in ms/op)", and in every fixture a phase of one
// operation (Tree removal) has rate × time = 1, which holds for seconds
// only (TestMDTestTimeIsSeconds). A unit not listed here is an error.
var mdtestUnits = map[string]map[string]bool{
	"rate": {"": true, "ops/sec": true},
	"time": {"": true, "ops/sec": true, "ms/op": true},
}

// MDTest reads mdtest's summaries, of any release (see mdtestHeaderRE):
// the rate table into OPERATION_max, _min and _mean in ops/s ("File
// creation" → file_creation_max), and the time table, when there is one,
// into OPERATION_time_max, _time_min and _time_mean in seconds.
// Operations that did not run print zeros and are left out; a summary
// where nothing ran, a header with a unit benchrun does not know, a
// table that appears twice, or the line in which mdtest says its read
// check found wrong data ("ERROR: verifying the data on read", printed
// after the tables; mdtest exits 0 all the same) is an error naming the
// line.
func MDTest(file string, data []byte, _ Options) ([]Metric, error) {
	ls := lines(data)
	if err := failedCheck(file, ls, mdtestCheckFailed); err != nil {
		return nil, err
	}
	start := map[string]int{}
	for i, l := range ls {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "SUMMARY") || !strings.Contains(t, "iteration") {
			continue
		}
		m := mdtestHeaderRE.FindStringSubmatch(t)
		if m == nil {
			return nil, errorf(file, i+1, "not an mdtest summary header: %q", clip(t))
		}
		table := m[1]
		if table == "" {
			table = "rate"
		}
		if !mdtestUnits[table][m[2]] {
			return nil, errorf(file, i+1, "mdtest %s summary in unknown unit %q", table, m[2])
		}
		if _, dup := start[table]; dup {
			return nil, errorf(file, i+1, "a second mdtest %s summary", table)
		}
		start[table] = i
	}
	rs, ok := start["rate"]
	if !ok {
		return nil, errorf(file, 0, "not mdtest output: no \"SUMMARY rate\" (or 1.9 \"SUMMARY:\") table")
	}
	out, err := mdtestTable(file, ls, rs, "", UnitOpsPerSec)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errorf(file, rs+1, "mdtest summary where no operation ran (all zero)")
	}
	if ts, ok := start["time"]; ok {
		times, err := mdtestTable(file, ls, ts, "_time", UnitSeconds)
		if err != nil {
			return nil, err
		}
		out = append(out, times...)
	}
	return out, nil
}

// mdtestTable reads the rows of the summary table whose header is line
// start: OPERATION+suffix _max, _min and _mean in unit, rows of zeros
// left out.
func mdtestTable(file string, ls []string, start int, suffix, unit string) ([]Metric, error) {
	var out []Metric
	for i := start + 1; i < len(ls); i++ {
		t := strings.TrimSpace(ls[i])
		if strings.HasPrefix(t, "Operation") || strings.HasPrefix(t, "---") {
			continue
		}
		if t == "" || strings.HasPrefix(t, "-- ") || strings.HasPrefix(t, "SUMMARY") {
			break // a blank line, "-- finished at", or the next summary
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
		better := DefaultBetter(unit)
		out = append(out,
			Metric{Name: op + suffix + "_max", Value: v[0], Unit: unit, Better: better},
			Metric{Name: op + suffix + "_min", Value: v[1], Unit: unit, Better: better},
			Metric{Name: op + suffix + "_mean", Value: v[2], Unit: unit, Better: better})
	}
	return out, nil
}
