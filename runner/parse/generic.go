package parse

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// JSON reads one metric per Options.Metrics entry from a JSON document,
// at its Path: object keys and array indices separated by dots
// ("summary.0.bwMaxMIB"). A missing path or a value that is not a finite
// number is an error naming the path.
func JSON(file string, data []byte, o Options) ([]Metric, error) {
	if len(o.Metrics) == 0 {
		return nil, errorf(file, 0, "the json parser needs metrics with a path")
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, jsonError(file, data, err)
	}
	var out []Metric
	for _, name := range slices.Sorted(maps.Keys(o.Metrics)) {
		sp := o.Metrics[name]
		v, err := jsonPath(doc, sp.Path)
		if err != nil {
			return nil, errorf(file, 0, "metric %s: path %q: %v", name, sp.Path, err)
		}
		out = append(out, sp.metric(name, v))
	}
	return out, nil
}

func (sp Spec) metric(name string, v float64) Metric {
	scale := sp.Scale
	if scale == 0 {
		scale = 1
	}
	better := sp.Better
	if better == "" {
		better = DefaultBetter(sp.Unit)
	}
	return Metric{Name: name, Value: v * scale, Unit: sp.Unit, Better: better}
}

func jsonPath(doc any, path string) (float64, error) {
	if path == "" {
		return 0, fmt.Errorf("empty path")
	}
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[part]
			if !ok {
				return 0, fmt.Errorf("no key %q", part)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return 0, fmt.Errorf("index %q out of an array of %d", part, len(c))
			}
			cur = c[i]
		default:
			return 0, fmt.Errorf("%q: not inside an object or array", part)
		}
	}
	n, ok := cur.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number (%T)", cur)
	}
	v, err := n.Float64()
	if err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s: not a finite number", n)
	}
	return v, nil
}

// Regex reads metrics with Options.Patterns: every named group of every
// pattern is a metric (its unit, direction and scale from
// Options.Metrics, default a plain number, higher is better). Each
// pattern must match; where it matches more than once the last match
// counts (the final figure of a program that prints progress). A group
// that captured no number is an error at its line.
func Regex(file string, data []byte, o Options) ([]Metric, error) {
	if len(o.Patterns) == 0 {
		return nil, errorf(file, 0, "the regex parser needs patterns")
	}
	text := string(data)
	var out []Metric
	seen := map[string]bool{}
	for _, p := range o.Patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		names := NamedGroups(re)
		if len(names) == 0 {
			return nil, fmt.Errorf("pattern %q has no named group (?P<metric>...)", p)
		}
		all := re.FindAllStringSubmatchIndex(text, -1)
		if all == nil {
			return nil, errorf(file, 0, "pattern %q does not match", p)
		}
		m := all[len(all)-1]
		for gi, name := range re.SubexpNames() {
			if name == "" {
				continue
			}
			if seen[name] {
				return nil, fmt.Errorf("metric %s is captured by two patterns", name)
			}
			seen[name] = true
			if m[2*gi] < 0 {
				return nil, errorf(file, lineAt(text, m[0]), "pattern %q matched without group %s", p, name)
			}
			s := text[m[2*gi]:m[2*gi+1]]
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, errorf(file, lineAt(text, m[2*gi]), "metric %s: %q is not a number", name, clip(s))
			}
			out = append(out, o.Metrics[name].metric(name, v))
		}
	}
	return out, nil
}

// NamedGroups returns the named groups of re: the metrics it captures.
func NamedGroups(re *regexp.Regexp) []string {
	var out []string
	for _, n := range re.SubexpNames() {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

func lineAt(text string, off int) int { return 1 + strings.Count(text[:off], "\n") }
