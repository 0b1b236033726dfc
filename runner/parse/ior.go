package parse

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

const mib = 1 << 20

// IOR reads the output of IOR (3.x and 4.x), standalone or as IO500 runs
// it, in the first of these forms it finds:
//
//   - JSON (-O summaryFormat=JSON): summary[].bwMaxMIB, bwMinMIB,
//     bwMeanMIB, OPsMax, OPsMean, MeanTime;
//   - the text "Summary of all tests:" table (Max(MiB), Min(MiB),
//     Mean(MiB), Max(OPs), Mean(OPs), Mean(s) columns, found by header);
//   - the "Results:" table of each iteration (bw(MiB/s), IOPS, total(s)),
//     which IO500's own IOR runs print without a summary;
//   - only "Max Write:"/"Max Read:" lines (-v).
//
// Metrics, per operation (write, read): OP_bw_max, OP_bw_min, OP_bw_mean
// (bytes/s), OP_ops_max, OP_ops_mean (ops/s), OP_time_mean (s); from Max
// lines alone only OP_bw_max. A test other than the first (Test# > 0)
// prefixes its names with "testN_". With -v, the Max lines must agree
// with the summary's maxima. Output in which IOR's data check failed
// ("WARNING: Incorrect data on read (N errors found)") is an error.
func IOR(file string, data []byte, _ Options) ([]Metric, error) {
	ls := lines(data)
	if err := failedCheck(file, ls, "Incorrect data on"); err != nil {
		return nil, err
	}
	if t := strings.TrimSpace(string(data)); strings.HasPrefix(t, "{") {
		return iorJSON(file, data)
	}
	maxes, err := iorMaxLines(file, ls)
	if err != nil {
		return nil, err
	}
	ms, err := iorSummary(file, ls)
	if err == nil && ms == nil {
		ms, err = iorResults(file, ls)
	}
	if err != nil {
		return nil, err
	}
	if ms == nil {
		for _, op := range []string{"write", "read"} {
			if v, ok := maxes[op]; ok {
				ms = append(ms, Metric{Name: op + "_bw_max", Value: v.value * mib, Unit: UnitBytesPerSec, Better: Higher})
			}
		}
	}
	if len(ms) == 0 {
		return nil, errorf(file, 0, "not IOR output: no JSON summary, \"Summary of all tests\" table, \"Results:\" table or \"Max Write/Read\" line")
	}
	for op, v := range maxes {
		if m, ok := find(ms, op+"_bw_max"); ok && math.Abs(m.Value/mib-v.value) > 0.01+1e-4*v.value {
			return nil, errorf(file, v.line, "Max %s %.2f MiB/s disagrees with the summary's maximum %.2f MiB/s", op, v.value, m.Value/mib)
		}
	}
	return ms, nil
}

func find(ms []Metric, name string) (Metric, bool) {
	for _, m := range ms {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

type lineValue struct {
	value float64
	line  int
}

var maxLineRE = regexp.MustCompile(`^Max (Write|Read):\s+(\S+) MiB/sec`)

func iorMaxLines(file string, ls []string) (map[string]lineValue, error) {
	out := map[string]lineValue{}
	for i, l := range ls {
		if !strings.HasPrefix(l, "Max Write:") && !strings.HasPrefix(l, "Max Read:") {
			continue
		}
		m := maxLineRE.FindStringSubmatch(l)
		if m == nil {
			return nil, errorf(file, i+1, "not an IOR Max line: %q", clip(l))
		}
		v, err := number(m[2])
		if err != nil {
			return nil, errorf(file, i+1, "%v", err)
		}
		out[strings.ToLower(m[1])] = lineValue{v, i + 1}
	}
	return out, nil
}

// columns maps the names of a table header to their field index.
func columns(header string) map[string]int {
	idx := map[string]int{}
	for i, f := range strings.Fields(header) {
		if _, dup := idx[f]; !dup {
			idx[f] = i
		}
	}
	return idx
}

func iorSummary(file string, ls []string) ([]Metric, error) {
	start := -1
	for i, l := range ls {
		if strings.HasPrefix(strings.TrimSpace(l), "Summary of all tests:") {
			start = i
		}
	}
	if start < 0 {
		return nil, nil
	}
	if start+1 >= len(ls) {
		return nil, errorf(file, start+1, "IOR summary without its header")
	}
	col := columns(ls[start+1])
	need := []string{"Operation", "Max(MiB)", "Min(MiB)", "Mean(MiB)", "Max(OPs)", "Mean(OPs)", "Mean(s)"}
	for _, c := range need {
		if _, ok := col[c]; !ok {
			return nil, errorf(file, start+2, "IOR summary header has no %s column", c)
		}
	}
	var out []Metric
	for i := start + 2; i < len(ls); i++ {
		f := strings.Fields(ls[i])
		if len(f) == 0 || f[0] == "Finished" || strings.HasPrefix(ls[i], "Finished") {
			break
		}
		if len(f) < len(col)-2 || (f[0] != "write" && f[0] != "read") {
			return nil, errorf(file, i+1, "not an IOR summary row: %q", clip(ls[i]))
		}
		get := func(c string) (float64, error) {
			j := col[c]
			if j >= len(f) {
				return 0, fmt.Errorf("no %s value", c)
			}
			return number(f[j])
		}
		prefix := f[0]
		if j, ok := col["Test#"]; ok && j < len(f) && f[j] != "0" {
			prefix = "test" + f[j] + "_" + f[0]
		}
		row := []struct {
			name, col, unit string
			scale           float64
		}{
			{"_bw_max", "Max(MiB)", UnitBytesPerSec, mib}, {"_bw_min", "Min(MiB)", UnitBytesPerSec, mib},
			{"_bw_mean", "Mean(MiB)", UnitBytesPerSec, mib}, {"_ops_max", "Max(OPs)", UnitOpsPerSec, 1},
			{"_ops_mean", "Mean(OPs)", UnitOpsPerSec, 1}, {"_time_mean", "Mean(s)", UnitSeconds, 1},
		}
		for _, r := range row {
			v, err := get(r.col)
			if err != nil {
				return nil, errorf(file, i+1, "%s: %v", r.col, err)
			}
			out = append(out, Metric{Name: prefix + r.name, Value: v * r.scale, Unit: r.unit, Better: DefaultBetter(r.unit)})
		}
	}
	if len(out) == 0 {
		return nil, errorf(file, start+1, "IOR summary without a write or read row")
	}
	return out, nil
}

// iorResults summarises the per-iteration "Results:" table.
func iorResults(file string, ls []string) ([]Metric, error) {
	var col map[string]int
	width := 0 // the header's fields: a name may repeat, so len(col) can be fewer
	type acc struct {
		bw, ops, t []float64
		line       int
	}
	byOp := map[string]*acc{}
	var order []string
	for i, l := range ls {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if f[0] == "access" && strings.Contains(l, "bw(MiB/s)") {
			col, width = columns(l), len(f)
			continue
		}
		if col == nil || (f[0] != "write" && f[0] != "read") || len(f) < width {
			continue
		}
		a := byOp[f[0]]
		if a == nil {
			a = &acc{line: i + 1}
			byOp[f[0]] = a
			order = append(order, f[0])
		}
		bw, err := number(f[col["bw(MiB/s)"]])
		if err != nil {
			return nil, errorf(file, i+1, "bw(MiB/s): %v", err)
		}
		a.bw = append(a.bw, bw*mib)
		if j, ok := col["IOPS"]; ok {
			v, err := number(f[j])
			if err != nil {
				return nil, errorf(file, i+1, "IOPS: %v", err)
			}
			a.ops = append(a.ops, v)
		}
		if j, ok := col["total(s)"]; ok {
			v, err := number(f[j])
			if err != nil {
				return nil, errorf(file, i+1, "total(s): %v", err)
			}
			a.t = append(a.t, v)
		}
	}
	var out []Metric
	for _, op := range order {
		a := byOp[op]
		out = append(out,
			Metric{Name: op + "_bw_max", Value: maxOf(a.bw), Unit: UnitBytesPerSec, Better: Higher},
			Metric{Name: op + "_bw_min", Value: minOf(a.bw), Unit: UnitBytesPerSec, Better: Higher},
			Metric{Name: op + "_bw_mean", Value: meanOf(a.bw), Unit: UnitBytesPerSec, Better: Higher})
		if len(a.ops) > 0 {
			out = append(out, Metric{Name: op + "_ops_max", Value: maxOf(a.ops), Unit: UnitOpsPerSec, Better: Higher},
				Metric{Name: op + "_ops_mean", Value: meanOf(a.ops), Unit: UnitOpsPerSec, Better: Higher})
		}
		if len(a.t) > 0 {
			out = append(out, Metric{Name: op + "_time_mean", Value: meanOf(a.t), Unit: UnitSeconds, Better: Lower})
		}
	}
	return out, nil
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}

func minOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = math.Min(m, x)
	}
	return m
}

func meanOf(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

type iorJSONDoc struct {
	Summary []struct {
		Operation string   `json:"operation"`
		TestID    int      `json:"TestID"`
		BwMax     *float64 `json:"bwMaxMIB"`
		BwMin     *float64 `json:"bwMinMIB"`
		BwMean    *float64 `json:"bwMeanMIB"`
		OPsMax    *float64 `json:"OPsMax"`
		OPsMean   *float64 `json:"OPsMean"`
		MeanTime  *float64 `json:"MeanTime"`
	} `json:"summary"`
}

func iorJSON(file string, data []byte) ([]Metric, error) {
	var d iorJSONDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, jsonError(file, data, err)
	}
	if len(d.Summary) == 0 {
		return nil, errorf(file, 0, "IOR JSON without a summary (run IOR with -O summaryFormat=JSON)")
	}
	var out []Metric
	for i, s := range d.Summary {
		if s.Operation != "write" && s.Operation != "read" {
			return nil, errorf(file, 0, "summary[%d]: operation %q is neither write nor read", i, s.Operation)
		}
		prefix := s.Operation
		if s.TestID > 0 {
			prefix = "test" + strconv.Itoa(s.TestID) + "_" + s.Operation
		}
		for _, f := range []struct {
			name, key string
			v         *float64
			unit      string
			scale     float64
		}{
			{"_bw_max", "bwMaxMIB", s.BwMax, UnitBytesPerSec, mib}, {"_bw_min", "bwMinMIB", s.BwMin, UnitBytesPerSec, mib},
			{"_bw_mean", "bwMeanMIB", s.BwMean, UnitBytesPerSec, mib}, {"_ops_max", "OPsMax", s.OPsMax, UnitOpsPerSec, 1},
			{"_ops_mean", "OPsMean", s.OPsMean, UnitOpsPerSec, 1}, {"_time_mean", "MeanTime", s.MeanTime, UnitSeconds, 1},
		} {
			if f.v == nil || *f.v < 0 || math.IsNaN(*f.v) {
				return nil, errorf(file, 0, "summary[%d] (%s): no valid %s", i, s.Operation, f.key)
			}
			out = append(out, Metric{Name: prefix + f.name, Value: *f.v * f.scale, Unit: f.unit, Better: DefaultBetter(f.unit)})
		}
	}
	return out, nil
}

// jsonError gives a JSON syntax error its line.
func jsonError(file string, data []byte, err error) error {
	if se, ok := err.(*json.SyntaxError); ok {
		line := 1 + strings.Count(string(data[:min(int(se.Offset), len(data))]), "\n")
		return errorf(file, line, "JSON: %v", err)
	}
	return errorf(file, 0, "JSON: %v", err)
}
