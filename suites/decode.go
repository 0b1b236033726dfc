package suites

import (
	"encoding"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a suite, at a line of its file.
type Problem struct {
	File string
	Line int // 0 when the problem has no single place
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Problems is every problem found in a suite; it is the error Load returns
// for an invalid suite.
type Problems []Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "\n")
}

// decoder assigns a parsed TOML tree onto Go values by reflection and
// collects every problem instead of stopping at the first, so validate can
// report them all at once.
type decoder struct {
	file  string
	dir   string // relative dataset paths resolve against it
	pos   *positions
	probs Problems
	bad   map[string]bool  // key paths that already have a problem
	seen  map[Problem]bool // problems recorded, so the cases of a sweep do not repeat one

	skipFiles bool // do not check that dataset files exist (Suite.Cases)
}

func (d *decoder) problem(path []string, format string, args ...any) {
	if d.bad == nil {
		d.bad, d.seen = map[string]bool{}, map[Problem]bool{}
	}
	d.bad[strings.Join(path, ".")] = true
	p := Problem{File: d.file, Line: d.pos.line(path), Msg: fmt.Sprintf(format, args...)}
	if d.seen[p] {
		return
	}
	d.seen[p] = true
	d.probs = append(d.probs, p)
}

// hadProblem reports whether the key at path already has a problem, so
// follow-on problems ("kind is required" after a bad kind) are not piled on.
func (d *decoder) hadProblem(path ...string) bool { return d.bad[strings.Join(path, ".")] }

func child(path []string, k string) []string {
	return append(append(make([]string, 0, len(path)+1), path...), k)
}

// tomlName returns the key a struct field is written as.
func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// fieldsByKey lists the settable fields of a struct type by TOML key.
func fieldsByKey(t reflect.Type) (map[string]int, []string) {
	idx := map[string]int{}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("toml") == "-" {
			continue
		}
		k := tomlName(f)
		idx[k] = i
		keys = append(keys, k)
	}
	return idx, keys
}

func (d *decoder) decodeStruct(path []string, m map[string]any, rv reflect.Value) {
	t := rv.Type()
	idx, known := fieldsByKey(t)
	// In file order, and by name on one line, so problems come out the same
	// every time.
	keys := slices.Sorted(maps.Keys(m))
	sort.SliceStable(keys, func(i, j int) bool { return d.pos.line(child(path, keys[i])) < d.pos.line(child(path, keys[j])) })
	for _, k := range keys {
		i, ok := idx[k]
		if !ok {
			d.problem(child(path, k), "unknown key %q in %s%s", k, where(path), suggest(k, known))
			continue
		}
		f := t.Field(i)
		d.assign(child(path, k), m[k], rv.Field(i), f.Tag.Get("enum"))
	}
}

func where(path []string) string {
	if len(path) == 0 {
		return "the top level"
	}
	var parts []string
	for _, p := range path {
		if _, err := strconv.Atoi(p); err == nil {
			parts[len(parts)-1] += "[" + p + "]"
			continue
		}
		parts = append(parts, p)
	}
	return "[" + strings.Join(parts, ".") + "]"
}

// suggest names the closest known key, for typos.
func suggest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if d := editDistance(k, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return fmt.Sprintf(" (known keys: %s)", strings.Join(known, ", "))
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

// assign stores the TOML value v into rv, reporting a problem at path
// when the types do not fit.
func (d *decoder) assign(path []string, v any, rv reflect.Value, enum string) {
	t := rv.Type()
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		var text string
		switch x := v.(type) {
		case string:
			text = x
		case int64:
			text = strconv.FormatInt(x, 10)
		case float64:
			text = strconv.FormatFloat(x, 'g', -1, 64)
		default:
			d.problem(path, "%s: want a string, got %s", keyName(path), tomlType(v))
			return
		}
		if err := rv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text)); err != nil {
			d.problem(path, "%s: %v", keyName(path), err)
			return
		}
		d.checkBound(path, v, rv)
		return
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			d.problem(path, "%s: want a string, got %s", keyName(path), tomlType(v))
			return
		}
		if enum != "" && !inEnum(s, enum) {
			d.problem(path, "%s: %q is not one of %s", keyName(path), s, strings.ReplaceAll(enum, "|", ", "))
			return
		}
		rv.SetString(s)
	case reflect.Int, reflect.Int64:
		n, ok := v.(int64)
		if !ok {
			d.problem(path, "%s: want an integer, got %s", keyName(path), tomlType(v))
			return
		}
		if n < 0 {
			d.problem(path, "%s: must not be negative, got %d", keyName(path), n)
			return
		}
		rv.SetInt(n)
		d.checkBound(path, v, rv)
	case reflect.Float64:
		var x float64
		switch n := v.(type) {
		case float64:
			x = n
		case int64:
			x = float64(n)
		default:
			d.problem(path, "%s: want a number, got %s", keyName(path), tomlType(v))
			return
		}
		switch {
		case math.IsNaN(x) || math.IsInf(x, 0):
			d.problem(path, "%s: want a finite number, got %v", keyName(path), x)
			return
		case x < 0:
			d.problem(path, "%s: must not be negative, got %v", keyName(path), x)
			return
		}
		rv.SetFloat(x)
		d.checkBound(path, v, rv)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			d.problem(path, "%s: want true or false, got %s", keyName(path), tomlType(v))
			return
		}
		rv.SetBool(b)
	case reflect.Slice:
		items, ok := asList(v)
		if !ok {
			// A single string where a list of strings is expected is a
			// common shorthand ("command", "thresholds").
			if s, isStr := v.(string); isStr && t.Elem().Kind() == reflect.String {
				rv.Set(reflect.ValueOf([]string{s}).Convert(t))
				return
			}
			d.problem(path, "%s: want an array, got %s", keyName(path), tomlType(v))
			return
		}
		out := reflect.MakeSlice(t, len(items), len(items))
		for i, it := range items {
			d.assign(child(path, strconv.Itoa(i)), it, out.Index(i), enum)
		}
		rv.Set(out)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			d.problem(path, "%s: want a table, got %s", keyName(path), tomlType(v))
			return
		}
		if t.Elem().Kind() == reflect.Interface {
			rv.Set(reflect.ValueOf(m))
			return
		}
		out := reflect.MakeMapWithSize(t, len(m))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			x := m[k]
			ev := reflect.New(t.Elem()).Elem()
			d.assign(child(path, k), x, ev, enum)
			out.SetMapIndex(reflect.ValueOf(k), ev)
		}
		rv.Set(out)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			d.problem(path, "%s: want a table, got %s", keyName(path), tomlType(v))
			return
		}
		d.decodeStruct(path, m, rv)
	case reflect.Pointer:
		nv := reflect.New(t.Elem())
		d.assign(path, v, nv.Elem(), enum)
		rv.Set(nv)
	default:
		d.problem(path, "%s: unsupported field type %s", keyName(path), t)
	}
}

func asList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []map[string]any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = x[i]
		}
		return out, true
	}
	return nil, false
}

func inEnum(s, enum string) bool {
	for _, e := range strings.Split(enum, "|") {
		if s == e {
			return true
		}
	}
	return false
}

// keyName renders a key path for messages: benchmark[1].workload.users.
func keyName(path []string) string {
	var b strings.Builder
	for _, p := range path {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}
