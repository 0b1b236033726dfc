package parse

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Units of Metric.Unit: the base units analysis knows (seconds, bytes/s,
// ops/s, ratio 0–1), or "" for a plain number such as a score.
const (
	UnitSeconds     = "s"
	UnitBytesPerSec = "bytes/s"
	UnitOpsPerSec   = "ops/s"
	UnitRatio       = "ratio"
	UnitNone        = ""
)

// Directions of Metric.Better.
const (
	Higher = "higher"
	Lower  = "lower"
)

// Metric is one figure a parser read, in its base unit.
type Metric struct {
	Name   string  // lower snake case: letters, digits, '_'
	Value  float64 // in Unit
	Unit   string  // one of the Unit constants
	Better string  // Higher or Lower
}

// Options configure the parsers that need to be told what to read.
type Options struct {
	// Metrics are the json and regex parsers' metrics: for json, the path
	// of each value; for regex, its unit, direction and scale (the named
	// groups of Patterns are the metrics).
	Metrics map[string]Spec
	// Patterns are the regex parser's regular expressions (RE2 syntax);
	// each named group is a metric.
	Patterns []string
}

// Spec says where a json or regex metric is and what it means.
type Spec struct {
	Path   string  // json: dotted path, array elements by index ("summary.0.bwMaxMIB")
	Unit   string  // a Unit constant
	Better string  // Higher or Lower; default Higher, Lower for unit s
	Scale  float64 // multiplies the value read into the base unit (MiB/s → bytes/s: 1048576); 0 means 1
}

// Func parses the output data read from file (named in errors).
type Func func(file string, data []byte, o Options) ([]Metric, error)

// parsers is the one registry of output parsers, by the name a suite gives.
var parsers = map[string]Func{
	"io500":  io500Metrics,
	"ior":    IOR,
	"mdtest": MDTest,
	"json":   JSON,
	"regex":  Regex,
}

// Names returns the parser names, sorted.
func Names() []string { return slices.Sorted(maps.Keys(parsers)) }

// Parse runs the parser called name on data read from file.
func Parse(name, file string, data []byte, o Options) ([]Metric, error) {
	f, ok := parsers[name]
	if !ok {
		return nil, fmt.Errorf("unknown parser %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return f(file, data, o)
}

// Error is a parse error at a line of a file (Line 0: the file as a whole).
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

func errorf(file string, line int, format string, a ...any) error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, a...)}
}

// lines splits data into lines without their line ends.
func lines(data []byte) []string {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// metricName turns an operation label ("File creation", "ior-easy-write")
// into a metric name part ("file_creation", "ior_easy_write").
func metricName(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		switch {
		case ok:
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
		default:
			under = true
		}
	}
	return b.String()
}

// DefaultBetter is the direction of a metric in unit when none is given:
// lower for durations, higher for everything else.
func DefaultBetter(unit string) string {
	if unit == UnitSeconds {
		return Lower
	}
	return Higher
}

// failedCheck returns an error at the first line of ls that holds marker:
// the line in which a benchmark says its own check of the data failed
// (IOR "Incorrect data on read", mdtest "ERROR: verifying the data").
// Such a run measured a storage that returned wrong data, and those
// programs may still exit 0 (mdtest always; IOR with its error count,
// 0 modulo 256), so its figures must not read as a clean run.
func failedCheck(file string, ls []string, marker string) error {
	for i, l := range ls {
		if strings.Contains(l, marker) {
			return errorf(file, i+1, "the benchmark found wrong data, its figures are not a valid run: %q", clip(strings.TrimSpace(l)))
		}
	}
	return nil
}
