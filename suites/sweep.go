package suites

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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
	// batch kinds run a command to completion and drive no service.
	batch bool
	// metrics are the sample Values its drivers record (besides the
	// metrics analysis computes itself), for regression.metrics;
	// metricPrefixes are families of them ("recall_at_" + k).
	metrics, metricPrefixes []string
}

// kinds lists every benchmark kind. It is the one registry: validation,
// the JSON schema and execution all read it.
var kinds = map[string]benchmarkKind{
	"openai": {workload: func() any { return defaultLLMWorkload() }, dataset: func() any { return defaultLLMDataset() }, services: []string{"vllm", "emulator", "command"}},
	"ollama": {workload: func() any { return defaultLLMWorkload() }, dataset: func() any { return defaultLLMDataset() }, services: []string{"ollama", "emulator", "command"}},
	"chroma": {workload: func() any { return defaultChromaWorkload() }, dataset: func() any { return defaultChromaDataset() }, services: []string{"chroma", "command"},
		metrics: chromaMetrics, metricPrefixes: []string{"recall_at_"}},
	"exec":  {workload: func() any { return defaultExecWorkload() }, dataset: func() any { return &NoDataset{} }, batch: true},
	"io500": {workload: func() any { return defaultIO500Workload() }, dataset: func() any { return &NoDataset{} }, batch: true},
}

// Batch reports whether b is of a batch kind (exec, io500): each sample
// of its cases is one run of a command.
func (b *Benchmark) Batch() bool { return kinds[b.Kind].batch }

// Case is one point of a benchmark's sweep: what runs, with which values.
type Case struct {
	ID        string            // stable: "<benchmark>" or "<benchmark>/<k>=<v>,..." over swept keys
	Benchmark *Benchmark        // the benchmark it belongs to
	Params    map[string]string // swept keys and their values for this case
	Keys      []string          // swept keys in id order
	Workload  any               // *LLMWorkload for openai/ollama
	Dataset   any               // *LLMDataset for openai/ollama

	// origin is the key path of each value given in the suite
	// ("workload.users" → benchmark.0.workload.users.1 for the second
	// element of a sweep), so a problem of the case points at its line.
	origin map[string][]string
}

// key returns the key path of the value the case took for table.key, else
// the path of that key as written.
func (c *Case) key(p []string, table, key string) []string {
	if o, ok := c.origin[table+"."+key]; ok {
		return o
	}
	return child(child(p, table), key)
}

// at returns the key path of the value the case took for table.key, else
// the path of the table.
func (c *Case) at(p []string, table, key string) []string {
	if o, ok := c.origin[table+"."+key]; ok {
		return o
	}
	return child(p, table)
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
	d := &decoder{file: s.File, dir: s.dir, pos: s.pos, skipFiles: true} // Parse has checked them
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
		for _, key := range slices.Sorted(maps.Keys(raw)) { // problems in a stable order
			v := raw[key]
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
	if !d.skipFiles {
		d.checkFiles(p, b)
	}
	for j := n; j < len(axes); j++ {
		axes[j].order += 1000
	}
	if len(d.probs) > before {
		return nil, fmt.Errorf("invalid")
	}
	sort.Slice(axes, func(a, c int) bool { return axes[a].order < axes[c].order })
	if countCases(axes) > maxCases {
		var sizes []string
		for _, ax := range axes {
			if len(ax.vals) > 1 {
				sizes = append(sizes, fmt.Sprintf("%s (%d)", ax.key, len(ax.vals)))
			}
		}
		d.problem(p, "benchmark %q: its sweeps make more than %d cases: %s", b.Name, maxCases, strings.Join(sizes, " × "))
		return nil, fmt.Errorf("invalid")
	}

	var cases []Case
	idx := make([]int, len(axes))
	for {
		c := Case{Benchmark: b, Params: map[string]string{}, Workload: k.workload(), Dataset: k.dataset(), origin: map[string][]string{}}
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
			path := child(child(p, ax.table), ax.key)
			d.assign(path, v, rv.Field(fi[ax.key]), f.Tag.Get("enum"))
			if len(ax.vals) > 1 {
				path = child(path, strconv.Itoa(idx[a]))
			}
			c.origin[ax.table+"."+ax.key] = path
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
		d.checkCase(s, p, b, &c)
		c.origin = nil
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

// countCases returns the number of cases axes make, or maxCases+1 when
// they make more (without overflowing on many long sweeps).
func countCases(axes []sweepAxis) int {
	n := 1
	for _, ax := range axes {
		n *= len(ax.vals)
		if n > maxCases {
			return maxCases + 1
		}
	}
	return n
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

// checkCase validates the combination of values one case ends up with,
// and that its dataset file exists: everything NewDataset and the load
// generator would otherwise refuse only once the run has started.
func (d *decoder) checkCase(s *Suite, p []string, b *Benchmark, c *Case) {
	switch w := c.Workload.(type) {
	case *ChromaWorkload:
		d.checkChromaCase(p, b, c)
		return
	case *ExecWorkload:
		d.checkExec(s, p, b, c, w)
		return
	case *IO500Workload:
		d.checkIO500(s, p, b, c, w)
		return
	}
	w, ok := c.Workload.(*LLMWorkload)
	if !ok {
		return
	}
	ds := c.Dataset.(*LLMDataset)
	d.checkTrace(s, p, b, c, w, ds)
	if w.Mode == "open" && w.Rate <= 0 && w.Arrival != "trace" {
		d.problem(c.at(p, "workload", "rate"), "benchmark %q case %s: open loop needs rate > 0", b.Name, c.ID)
	}
	if w.Mode == "closed" && w.Users < 1 {
		d.problem(c.at(p, "workload", "users"), "benchmark %q case %s: closed loop needs users ≥ 1", b.Name, c.ID)
	}
	if w.Duration == 0 && w.Requests == 0 {
		w.Duration = Duration(30e9)
	}
	if w.MaxTokens == 0 {
		w.MaxTokens = ds.OutputTokens
	}
	if _, err := KeepAliveJSON(w.KeepAlive); err != nil {
		d.problem(c.at(p, "workload", "keep_alive"), "benchmark %q: %v", b.Name, err)
	}
	if b.Kind == "ollama" && w.API == "completions" {
		d.problem(c.at(p, "workload", "api"), "benchmark %q: ollama speaks chat or generate, not completions", b.Name)
	}
	if b.Kind == "openai" && w.API == "generate" {
		d.problem(c.at(p, "workload", "api"), "benchmark %q: the OpenAI API has chat or completions, not generate", b.Name)
	}
	dp := child(p, "dataset")
	if (ds.Kind == "jsonl" || ds.Kind == "sharegpt" || ds.Kind == "trace") && ds.Path == "" {
		d.problem(dp, "benchmark %q: a %s dataset needs path", b.Name, ds.Kind)
	}
	if ds.PromptDist == "uniform" && ds.PromptMax < ds.PromptMin {
		d.problem(c.at(p, "dataset", "prompt_max"), "benchmark %q: prompt_max %d < prompt_min %d", b.Name, ds.PromptMax, ds.PromptMin)
	}
	if ds.OutputDist == "uniform" && ds.OutputMax < ds.OutputMin {
		d.problem(c.at(p, "dataset", "output_max"), "benchmark %q: output_max %d < output_min %d", b.Name, ds.OutputMax, ds.OutputMin)
	}
	if ds.Kind == "synthetic" {
		d.checkLengths(p, b, c, "prompt", ds.PromptDist, ds.PromptTokens, ds.PromptMin, ds.PromptMax)
	}
	if ds.OutputTokens > 0 || ds.OutputDist != "fixed" {
		d.checkLengths(p, b, c, "output", ds.OutputDist, ds.OutputTokens, ds.OutputMin, ds.OutputMax)
	}
}

// checkLengths checks what a length distribution needs beyond the bounds
// of its keys (what newLengthDist refuses).
func (d *decoder) checkLengths(p []string, b *Benchmark, c *Case, what, dist string, mean, lo, hi int) {
	switch dist {
	case "fixed", "normal":
		if mean < 1 {
			d.problem(c.at(p, "dataset", what+"_tokens"), "benchmark %q: a %s %s length needs %s_tokens ≥ 1", b.Name, dist, what, what)
		}
		if dist == "normal" && hi != 0 && hi < max(lo, 1) {
			d.problem(c.at(p, "dataset", what+"_max"), "benchmark %q: %s_max %d < %s_min %d", b.Name, what, hi, what, max(lo, 1))
		}
	case "uniform":
		if lo < 1 {
			d.problem(c.at(p, "dataset", what+"_min"), "benchmark %q: a uniform %s length needs %s_min ≥ 1", b.Name, what, what)
		}
	}
}

// checkFiles reports the dataset files of benchmark b that cannot be
// opened, each at its own line. It reads the raw dataset table, so the
// files are checked even when other values of the benchmark are wrong.
func (d *decoder) checkFiles(p []string, b *Benchmark) {
	fromFile := func(k any) bool { return k == "jsonl" || k == "sharegpt" || k == "trace" }
	kinds, _ := asList(b.Dataset["kind"])
	if !fromFile(b.Dataset["kind"]) && !slices.ContainsFunc(kinds, fromFile) {
		return
	}
	path := child(child(p, "dataset"), "path")
	if name, ok := b.Dataset["path"].(string); ok && name != "" {
		d.checkFile(path, b, name)
		return
	}
	paths, _ := asList(b.Dataset["path"])
	for j, v := range paths {
		ep := path
		if len(paths) > 1 {
			ep = child(path, strconv.Itoa(j))
		}
		if name, ok := v.(string); ok && name != "" {
			d.checkFile(ep, b, name)
		}
	}
}

// checkFile reports a dataset file that cannot be opened, resolved
// relative to the suite file as the run resolves it.
func (d *decoder) checkFile(path []string, b *Benchmark, name string) {
	full := name
	if !filepath.IsAbs(name) {
		full = filepath.Join(d.dir, name)
	}
	f, err := os.Open(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			d.problem(path, "benchmark %q: dataset file %q does not exist (looked for %s; paths are relative to the suite file)", b.Name, name, full)
		} else {
			d.problem(path, "benchmark %q: dataset file %q: %v", b.Name, name, err)
		}
		return
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		d.problem(path, "benchmark %q: dataset file %q is a directory", b.Name, name)
	}
}
