package suites

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// JSONSchema returns a JSON Schema (draft 2020-12) of the suite format,
// derived from the Go types the decoder fills, so the two cannot drift.
// Editors with TOML schema support (Taplo, Even Better TOML) use it to
// validate and complete suites as people type.
func JSONSchema() ([]byte, error) {
	root := typeSchema(reflect.TypeFor[Suite](), "")
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://github.com/benchrun/benchrun/schema/suite-v1.json"
	root["title"] = "benchrun suite"
	root["required"] = []string{"suite", "benchmark"}
	return json.MarshalIndent(root, "", "  ")
}

func typeSchema(t reflect.Type, sweep string) map[string]any {
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		switch t {
		case reflect.TypeFor[Duration]():
			return map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}
		case reflect.TypeFor[Ratio]():
			return map[string]any{"anyOf": []any{map[string]any{"type": "string", "pattern": `^[0-9]+(\.[0-9]+)?%$`}, map[string]any{"type": "number", "minimum": 0}}}
		case reflect.TypeFor[Size]():
			return map[string]any{"anyOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer", "minimum": 0}}}
		}
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return map[string]any{"anyOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}}
		}
		return map[string]any{"type": "array", "items": typeSchema(t.Elem(), "")}
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			if sweep == "" {
				return map[string]any{"type": "object"} // io500's config sections: checked by benchrun
			}
			return sweepSchema(sweep)
		}
		return map[string]any{"type": "object", "additionalProperties": typeSchema(t.Elem(), "")}
	case reflect.Pointer:
		return typeSchema(t.Elem(), sweep)
	case reflect.Struct:
		props := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Tag.Get("toml") == "-" {
				continue
			}
			ps := typeSchema(f.Type, f.Tag.Get("sweep"))
			if doc := f.Tag.Get("doc"); doc != "" {
				ps["description"] = doc
			}
			if enum := f.Tag.Get("enum"); enum != "" {
				ps["enum"] = strings.Split(enum, "|")
			}
			props[tomlName(f)] = ps
		}
		return map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	}
	return map[string]any{}
}

// sweepSchema describes a workload or dataset table: every key of every
// benchmark kind, each as its type or an array of it (a sweep).
func sweepSchema(table string) map[string]any {
	props := map[string]any{}
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		k := kinds[n]
		proto := k.workload()
		if table == "dataset" {
			proto = k.dataset()
		}
		t := reflect.TypeOf(proto).Elem()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := tomlName(f)
			if _, dup := props[name]; dup {
				// Kinds share a key (mode: closed|open, standard|extended):
				// the schema allows the values of each.
				if enum := f.Tag.Get("enum"); enum != "" {
					mergeEnum(props[name].(map[string]any), strings.Split(enum, "|"))
				}
				continue
			}
			one := typeSchema(f.Type, "")
			if enum := f.Tag.Get("enum"); enum != "" {
				one["enum"] = strings.Split(enum, "|")
			}
			ps := map[string]any{"anyOf": []any{one, map[string]any{"type": "array", "items": one, "minItems": 1}}}
			if doc := f.Tag.Get("doc"); doc != "" {
				ps["description"] = doc + " An array sweeps it."
			}
			props[name] = ps
		}
	}
	return map[string]any{"type": "object", "additionalProperties": false, "properties": props}
}

// mergeEnum adds vals to the enum of a sweepable key's schema (its single
// value and its array items share one enum).
func mergeEnum(ps map[string]any, vals []string) {
	one := ps["anyOf"].([]any)[0].(map[string]any)
	old, _ := one["enum"].([]string)
	for _, v := range vals {
		if !slices.Contains(old, v) {
			old = append(old, v)
		}
	}
	one["enum"] = old
}
