package suites

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// benchmarkKind describes one benchmark kind: the Go types its workload and
// dataset decode into (with defaults) and the service kinds it can drive.
type benchmarkKind struct {
	workload func() any
	dataset  func() any
	services []string
}

// kinds lists every benchmark kind. It is the one registry: validation,
// the JSON schema and execution all read it.
var kinds = map[string]benchmarkKind{
	"openai": {workload: func() any { return defaultLLMWorkload() }, dataset: func() any { return defaultLLMDataset() }, services: []string{"vllm", "emulator", "command"}},
	"ollama": {workload: func() any { return defaultLLMWorkload() }, dataset: func() any { return defaultLLMDataset() }, services: []string{"ollama", "emulator", "command"}},
}

// Case is one point of a benchmark's sweep: what runs, with which values.
type Case struct {
	ID        string            // stable: "<benchmark>" or "<benchmark>/<k>=<v>,..." over swept keys
	Benchmark *Benchmark        // the benchmark it belongs to
	Params    map[string]string // swept keys and their values for this case
	Keys      []string          // swept keys in id order
	Workload  any               // *LLMWorkload for openai/ollama
	Dataset   any               // *LLMDataset for openai/ollama
}

// sweepAxis is one swept key: its place and its values.
type sweepAxis struct {
	table string // "workload" or "dataset"
	key   string
	order int
	vals  []any
}

// Cases expands every benchmark into its cases, in suite order.
func (s *Suite) Cases() []Case {
	d := &decoder{file: s.File, pos: s.pos}
	var all []Case
	for i := range s.Benchmarks {
		cs, _ := d.expand(s, i)
		all = append(all, cs...)
	}
	return all
}

// expand validates benchmark i's workload and dataset and returns its
// cases. Problems are recorded on d.
func (d *decoder) expand(s *Suite, i int) ([]Case, error) {
	b := &s.Benchmarks[i]
	k, ok := kinds[b.Kind]
	if !ok {
		// The kind is unknown when the service is missing or bad; check the
		// workload against the LLM kinds anyway so every problem shows.
		if b.Kind != "" {
			return nil, fmt.Errorf("unknown kind %q", b.Kind)
		}
		k = kinds["openai"]
	}
	before := len(d.probs)
	p := []string{"benchmark", strconv.Itoa(i)}
	var axes []sweepAxis
	collect := func(table string, raw map[string]any, proto any) {
		idx, known := fieldsByKey(reflect.TypeOf(proto).Elem())
		for key, v := range raw {
			path := child(child(p, table), key)
			fi, ok := idx[key]
			if !ok {
				d.problem(path, "unknown key %q in benchmark %q %s%s", key, b.Name, table, suggest(key, known))
				continue
			}
			f := reflect.TypeOf(proto).Elem().Field(fi)
			list, isList := asList(v)
			if !isList || f.Type.Kind() == reflect.Slice {
				list = []any{v}
			} else if len(list) == 0 {
				d.problem(path, "%s: an empty array sweeps nothing", keyName(path))
				continue
			}
			// Type-check every value now, so errors show before anything runs.
			for j, x := range list {
				scratch := reflect.New(f.Type).Elem()
				ep := path
				if isList && len(list) > 1 {
					ep = child(path, strconv.Itoa(j))
				}
				d.assign(ep, x, scratch, f.Tag.Get("enum"))
			}
			axes = append(axes, sweepAxis{table: table, key: key, order: fi, vals: list})
		}
	}
	collect("workload", b.Workload, k.workload())
	// Dataset keys come after workload keys in ids.
	n := len(axes)
	collect("dataset", b.Dataset, k.dataset())
	for j := n; j < len(axes); j++ {
		axes[j].order += 1000
	}
	if len(d.probs) > before {
		return nil, fmt.Errorf("invalid")
	}
	sort.Slice(axes, func(a, c int) bool { return axes[a].order < axes[c].order })

	var cases []Case
	idx := make([]int, len(axes))
	for {
		c := Case{Benchmark: b, Params: map[string]string{}, Workload: k.workload(), Dataset: k.dataset()}
		var parts []string
		for a, ax := range axes {
			v := ax.vals[idx[a]]
			target := c.Workload
			if ax.table == "dataset" {
				target = c.Dataset
			}
			rv := reflect.ValueOf(target).Elem()
			fi, _ := fieldsByKey(rv.Type())
			f := rv.Type().Field(fi[ax.key])
			d.assign(child(child(p, ax.table), ax.key), v, rv.Field(fi[ax.key]), f.Tag.Get("enum"))
			if len(ax.vals) > 1 {
				val := formatParam(v)
				c.Params[ax.key] = val
				c.Keys = append(c.Keys, ax.key)
				parts = append(parts, ax.key+"="+val)
			}
		}
		c.ID = b.Name
		if len(parts) > 0 {
			c.ID += "/" + strings.Join(parts, ",")
		}
		d.checkCase(p, b, &c)
		cases = append(cases, c)
		// Advance the odometer, last axis fastest.
		a := len(axes) - 1
		for ; a >= 0; a-- {
			idx[a]++
			if idx[a] < len(axes[a].vals) {
				break
			}
			idx[a] = 0
		}
		if a < 0 {
			break
		}
	}
	return cases, nil
}

func formatParam(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// checkCase validates the combination of values one case ends up with.
func (d *decoder) checkCase(p []string, b *Benchmark, c *Case) {
	w, ok := c.Workload.(*LLMWorkload)
	if !ok {
		return
	}
	ds := c.Dataset.(*LLMDataset)
	wp := child(p, "workload")
	if w.Mode == "open" && w.Rate <= 0 {
		d.problem(wp, "benchmark %q case %s: open loop needs rate > 0", b.Name, c.ID)
	}
	if w.Mode == "closed" && w.Users < 1 {
		d.problem(child(wp, "users"), "benchmark %q case %s: closed loop needs users ≥ 1", b.Name, c.ID)
	}
	if w.Duration == 0 && w.Requests == 0 {
		w.Duration = Duration(30e9)
	}
	if w.MaxTokens == 0 {
		w.MaxTokens = ds.OutputTokens
	}
	if _, err := KeepAliveJSON(w.KeepAlive); err != nil {
		d.problem(child(wp, "keep_alive"), "benchmark %q: %v", b.Name, err)
	}
	if b.Kind == "ollama" && w.API == "completions" {
		d.problem(child(wp, "api"), "benchmark %q: ollama speaks chat or generate, not completions", b.Name)
	}
	if b.Kind == "openai" && w.API == "generate" {
		d.problem(child(wp, "api"), "benchmark %q: the OpenAI API has chat or completions, not generate", b.Name)
	}
	dp := child(p, "dataset")
	if (ds.Kind == "jsonl" || ds.Kind == "sharegpt") && ds.Path == "" {
		d.problem(dp, "benchmark %q: a %s dataset needs path", b.Name, ds.Kind)
	}
	if ds.PromptDist == "uniform" && ds.PromptMax < ds.PromptMin {
		d.problem(dp, "benchmark %q: prompt_max %d < prompt_min %d", b.Name, ds.PromptMax, ds.PromptMin)
	}
	if ds.OutputDist == "uniform" && ds.OutputMax < ds.OutputMin {
		d.problem(dp, "benchmark %q: output_max %d < output_min %d", b.Name, ds.OutputMax, ds.OutputMin)
	}
}
