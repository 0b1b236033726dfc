package suites

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/benchrun/benchrun/runner/parse"
)

// IO500 modes (io500 --mode=...).
const (
	IO500Standard = "standard"
	IO500Extended = "extended"
)

// What an invalid IO500 run does to its case (IO500Workload.Invalid).
const (
	InvalidWarn = "warn" // a warning in every output; the case can pass
	InvalidFail = "fail" // the case fails (threshold valid.min >= 1)
)

// IO500Workload is the workload of an io500 benchmark case: the io500
// executable, how it is launched, and its configuration, from which
// benchrun writes the .ini it runs with.
type IO500Workload struct {
	Command      []string          `toml:"command" doc:"The io500 executable and any arguments before the .ini file; default [\"io500\"]."`
	Launcher     string            `toml:"launcher" enum:"local|mpirun|srun" doc:"local, mpirun (-np tasks) or srun (a step of the suite's SLURM job); default srun with a [slurm] section, else mpirun."`
	Tasks        int               `toml:"tasks" doc:"MPI processes (mpirun -np, srun --ntasks); default 1."`
	TasksPerNode int               `toml:"tasks_per_node" doc:"srun: --ntasks-per-node."`
	Nodes        int               `toml:"nodes" doc:"srun: --nodes."`
	MPI          string            `toml:"mpi" doc:"srun: the --mpi plugin (pmix, pmi2, ...)."`
	MPIRunArgs   []string          `toml:"mpirun_args" doc:"mpirun: arguments before the command."`
	Image        string            `toml:"image" doc:"Run io500 in this apptainer image."`
	Binds        []string          `toml:"binds" doc:"apptainer --bind values."`
	Env          map[string]string `toml:"env" doc:"Environment variables for io500."`
	Timeout      Duration          `toml:"timeout" doc:"A run that takes longer is killed and the case is an error; default 4h."`
	Mode         string            `toml:"mode" enum:"standard|extended" doc:"io500 --mode: standard or extended; default standard."`
	Invalid      string            `toml:"invalid" enum:"warn|fail" doc:"What an invalid IO500 run (IO500 exits 0 even then) does: warn (default: a warning in every output) or fail (the case fails)."`
	// Config holds the .ini: section → key → value.
	Config map[string]map[string]any `toml:"config" doc:"The io500 .ini, [benchmark.workload.config.SECTION] key = value: every documented section and key (docs/suite-format.md); resultdir is benchrun's."`
}

func defaultIO500Workload() *IO500Workload {
	return &IO500Workload{Command: []string{"io500"}, Tasks: 1, Timeout: Duration(4 * time.Hour), Mode: IO500Standard, Invalid: InvalidWarn}
}

// Launch returns w's launch settings.
func (w *IO500Workload) Launch() Launch {
	return Launch{Command: w.Command, Launcher: w.Launcher, Tasks: w.Tasks, TasksPerNode: w.TasksPerNode, Nodes: w.Nodes,
		MPI: w.MPI, MPIRunArgs: w.MPIRunArgs, Image: w.Image, Binds: w.Binds, Env: w.Env, Timeout: w.Timeout.D()}
}

// iniKind is the type of an .ini value.
type iniKind int

const (
	iniString iniKind = iota
	iniBool           // TRUE / FALSE
	iniInt
	iniFloat
	iniSize // a number with an optional k/m/g suffix ("2m"), or bytes
)

type iniKey struct {
	name string
	kind iniKind
	enum []string
}

type iniSection struct {
	name string
	keys []iniKey
}

// Key sets shared by several sections.
var (
	phaseKeys = []iniKey{{"API", iniString, nil}, {"run", iniBool, nil}}
	findKeys  = []iniKey{{"external-script", iniString, nil}, {"external-mpi-args", iniString, nil}, {"external-extra-args", iniString, nil},
		{"nproc", iniInt, nil}, {"run", iniBool, nil}, {"pfind-queue-length", iniInt, nil}, {"pfind-steal-next", iniBool, nil},
		{"pfind-parallelize-single-dir-access-using-hashing", iniBool, nil}}
	rndKeys = []iniKey{{"API", iniString, nil}, {"blockSize", iniInt, nil}, {"run", iniBool, nil}, {"verbosity", iniInt, nil}, {"randomPrefill", iniInt, nil}}
)

// io500Sections are the documented sections and keys of the io500 .ini, in
// the order io500 itself writes them (config-all.ini of io500-isc24, plus
// ior-rnd4K-easy-read of later releases).
var io500Sections = []iniSection{
	{"global", []iniKey{{"datadir", iniString, nil}, {"timestamp-datadir", iniBool, nil}, {"resultdir", iniString, nil},
		{"timestamp-resultdir", iniBool, nil}, {"api", iniString, nil}, {"drop-caches", iniBool, nil}, {"drop-caches-cmd", iniString, nil},
		{"io-buffers-on-gpu", iniBool, nil}, {"verbosity", iniInt, nil}, {"scc", iniBool, nil},
		{"dataPacketType", iniString, []string{"timestamp", "offset", "incompressible", "random"}}}},
	{"debug", []iniKey{{"stonewall-time", iniInt, nil}, {"pause-dir", iniString, nil}}},
	{"ior-easy", []iniKey{{"API", iniString, nil}, {"transferSize", iniSize, nil}, {"blockSize", iniSize, nil}, {"filePerProc", iniBool, nil},
		{"uniqueDir", iniBool, nil}, {"run", iniBool, nil}, {"verbosity", iniInt, nil}}},
	{"ior-easy-write", phaseKeys},
	{"ior-rnd4K", rndKeys},
	{"ior-rnd4K-write", phaseKeys},
	{"mdtest-easy", []iniKey{{"API", iniString, nil}, {"n", iniInt, nil}, {"run", iniBool, nil}}},
	{"mdtest-easy-write", phaseKeys},
	{"ior-rnd1MB", rndKeys},
	{"ior-rnd1MB-write", phaseKeys},
	{"mdworkbench", []iniKey{{"API", iniString, nil}, {"waitingTime", iniFloat, nil}, {"precreatePerSet", iniInt, nil},
		{"filesPerProc", iniInt, nil}, {"run", iniBool, nil}, {"verbosity", iniInt, nil}}},
	{"mdworkbench-create", []iniKey{{"run", iniBool, nil}}},
	{"timestamp", nil},
	{"find-easy", findKeys},
	{"ior-hard", []iniKey{{"API", iniString, nil}, {"segmentCount", iniInt, nil}, {"collective", iniBool, nil}, {"run", iniBool, nil}, {"verbosity", iniInt, nil}}},
	{"ior-hard-write", []iniKey{{"API", iniString, nil}, {"collective", iniBool, nil}, {"run", iniBool, nil}}},
	{"mdtest-hard", []iniKey{{"API", iniString, nil}, {"n", iniInt, nil}, {"files-per-dir", iniInt, nil}, {"run", iniBool, nil}}},
	{"mdtest-hard-write", phaseKeys},
	{"find", findKeys},
	{"ior-rnd4K-read", phaseKeys},
	{"ior-rnd1MB-read", phaseKeys},
	{"find-hard", findKeys},
	{"mdworkbench-bench", []iniKey{{"run", iniBool, nil}}},
	{"ior-easy-read", phaseKeys},
	{"mdtest-easy-stat", phaseKeys},
	{"ior-hard-read", []iniKey{{"API", iniString, nil}, {"collective", iniBool, nil}, {"run", iniBool, nil}}},
	{"mdtest-hard-stat", phaseKeys},
	{"mdworkbench-delete", []iniKey{{"run", iniBool, nil}}},
	{"mdtest-easy-delete", phaseKeys},
	{"mdtest-hard-read", phaseKeys},
	{"mdtest-hard-delete", phaseKeys},
	{"ior-rnd4K-easy-read", phaseKeys},
}

// ValidThreshold is the threshold invalid = "fail" adds: every repetition
// must be a valid IO500 run.
const ValidThreshold = "valid.min >= 1"

// Stonewall times of a valid run: the rules' 300 s, 30 s with scc = true.
const (
	ValidStonewall    = 300
	ValidStonewallSCC = 30
)

func findSection(name string) (iniSection, bool) {
	for _, s := range io500Sections {
		if s.name == name {
			return s, true
		}
	}
	return iniSection{}, false
}

func sectionNames() []string {
	var out []string
	for _, s := range io500Sections {
		out = append(out, s.name)
	}
	return out
}

func keyNames(s iniSection) []string {
	var out []string
	for _, k := range s.keys {
		out = append(out, k.name)
	}
	return out
}

// checkIO500 validates an io500 case: its launch, its mode and every
// section, key and value of its configuration, and the validity rules
// that can be known before the run (InvalidReasons).
func (d *decoder) checkIO500(s *Suite, p []string, b *Benchmark, c *Case, w *IO500Workload) {
	l := w.Launch()
	if w.Launcher == "" && s.Slurm == nil {
		l.Launcher = LauncherMPIRun
	}
	d.checkLaunch(s, p, b, c, &l)
	w.Launcher = l.Launcher
	if w.Mode != IO500Standard && w.Mode != IO500Extended {
		d.problem(c.key(p, "workload", "mode"), "benchmark %q: io500 mode %q: standard or extended", b.Name, w.Mode)
	}
	cfg := c.key(p, "workload", "config")
	for _, sec := range slices.Sorted(maps.Keys(w.Config)) {
		spec, ok := findSection(sec)
		if !ok {
			d.problem(child(cfg, sec), "benchmark %q: io500 has no section [%s]%s", b.Name, sec, suggest(sec, sectionNames()))
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(w.Config[sec])) {
			d.checkIniValue(child(child(cfg, sec), k), b, spec, k, w.Config[sec][k])
		}
	}
	if _, ok := w.Config["global"]["datadir"]; !ok {
		d.problem(cfg, "benchmark %q: config.global.datadir is required: the directory on the file system under test", b.Name)
	}
	if _, ok := w.Config["global"]["resultdir"]; ok {
		d.problem(child(child(cfg, "global"), "resultdir"), "benchmark %q: config.global.resultdir is benchrun's: the io500 results go into the benchrun results directory", b.Name)
	}
	if w.Invalid == InvalidFail {
		for _, why := range w.InvalidReasons() {
			d.problem(c.key(p, "workload", "invalid"), "benchmark %q: invalid = \"fail\", but the run cannot be valid: %s", b.Name, why)
		}
		if !slices.Contains(b.Thresholds, ValidThreshold) {
			b.Thresholds = append(b.Thresholds, ValidThreshold)
		}
	}
	d.checkBatchRegression(p, b, IO500MetricNames(), io500Metrics)
}

func (d *decoder) checkIniValue(path []string, b *Benchmark, sec iniSection, key string, v any) {
	var spec *iniKey
	for i := range sec.keys {
		if sec.keys[i].name == key {
			spec = &sec.keys[i]
		}
	}
	if spec == nil {
		d.problem(path, "benchmark %q: io500 section [%s] has no key %q%s", b.Name, sec.name, key, suggest(key, keyNames(sec)))
		return
	}
	if _, err := iniValue(*spec, v); err != nil {
		d.problem(path, "benchmark %q: io500 [%s] %s: %v", b.Name, sec.name, key, err)
	}
}

// iniValue formats a TOML value as io500 reads it, checking its type.
func iniValue(k iniKey, v any) (string, error) {
	switch k.kind {
	case iniBool:
		if b, ok := v.(bool); ok {
			return strings.ToUpper(strconv.FormatBool(b)), nil
		}
		return "", fmt.Errorf("want true or false, got %s", tomlType(v))
	case iniInt:
		if n, ok := v.(int64); ok && n >= 0 {
			return strconv.FormatInt(n, 10), nil
		}
		return "", fmt.Errorf("want a non-negative integer, got %v", v)
	case iniFloat:
		switch n := v.(type) {
		case int64:
			if n >= 0 {
				return strconv.FormatInt(n, 10), nil
			}
		case float64:
			if n >= 0 && !math.IsInf(n, 0) && !math.IsNaN(n) {
				return strconv.FormatFloat(n, 'g', -1, 64), nil
			}
		}
		return "", fmt.Errorf("want a non-negative number, got %v", v)
	case iniSize:
		switch x := v.(type) {
		case int64:
			if x > 0 {
				return strconv.FormatInt(x, 10), nil
			}
		case string:
			if sizeRE(x) {
				return x, nil
			}
		}
		return "", fmt.Errorf("want a size such as \"2m\", \"9920000m\" or bytes, got %v", v)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want a string, got %s", tomlType(v))
	}
	if strings.ContainsAny(s, "\n\r") {
		return "", fmt.Errorf("a value cannot span lines")
	}
	if k.enum != nil && !slices.Contains(k.enum, s) {
		return "", fmt.Errorf("%q is not one of %s", s, strings.Join(k.enum, ", "))
	}
	return s, nil
}

func sizeRE(s string) bool {
	if s == "" {
		return false
	}
	n := strings.TrimRight(s, "kKmMgGtT")
	if len(s)-len(n) > 1 {
		return false
	}
	v, err := strconv.ParseUint(n, 10, 64)
	return err == nil && v > 0
}

// InvalidReasons lists what in w's configuration makes every run invalid
// by IO500's rules: a [debug] stonewall-time other than 300 s (30 s with
// [global] scc = true), a pause-dir, or [mdtest-hard] files-per-dir (both
// "INVALIDATES RUN; FOR DEBUGGING" in io500's own documentation).
func (w *IO500Workload) InvalidReasons() []string {
	var out []string
	want := int64(ValidStonewall)
	if scc, _ := w.Config["global"]["scc"].(bool); scc {
		want = ValidStonewallSCC
	}
	if st, ok := w.Config["debug"]["stonewall-time"].(int64); ok && st != want {
		out = append(out, fmt.Sprintf("[debug] stonewall-time = %d, a valid run needs %d", st, want))
	}
	if pd, ok := w.Config["debug"]["pause-dir"].(string); ok && pd != "" {
		out = append(out, "[debug] pause-dir is set")
	}
	if _, ok := w.Config["mdtest-hard"]["files-per-dir"]; ok {
		out = append(out, "[mdtest-hard] files-per-dir is set")
	}
	return out
}

// INI returns the io500 .ini of w with resultdir set (and its timestamp
// suffix off, so benchrun knows where the results go): the sections in
// io500's order, the keys in its documented order, only those given.
func (w *IO500Workload) INI(resultdir string) string {
	cfg := map[string]map[string]any{}
	for s, kv := range w.Config {
		cfg[s] = maps.Clone(kv)
	}
	if cfg["global"] == nil {
		cfg["global"] = map[string]any{}
	}
	cfg["global"]["resultdir"] = resultdir
	cfg["global"]["timestamp-resultdir"] = false
	var b strings.Builder
	b.WriteString("# written by benchrun for this run; see the suite's io500 benchmark\n")
	for _, sec := range io500Sections {
		kv, ok := cfg[sec.name]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "[%s]\n", sec.name)
		for _, k := range sec.keys {
			if v, ok := kv[k.name]; ok {
				s, _ := iniValue(k, v) // validated
				fmt.Fprintf(&b, "%s = %s\n", k.name, s)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Argv returns the io500 command for the .ini at path: the command, the
// file, and --mode=extended in extended mode.
func (w *IO500Workload) Argv(ini string) []string {
	argv := append(slices.Clone(w.Command), ini)
	if w.Mode == IO500Extended {
		argv = append(argv, "--mode="+IO500Extended)
	}
	return argv
}

// io500Metrics are the metrics an io500 case compares by default: the
// scores.
var io500Metrics = []string{parse.MetricScoreTotal, parse.MetricScoreBandwidth, parse.MetricScoreMetadata}

// IO500MetricNames returns every metric an io500 run can have: per phase
// (each phase section of the .ini) its rate, _time and _valid, the
// standard and extended scores, valid and procs.
func IO500MetricNames() []string {
	out := []string{parse.MetricScoreBandwidth, parse.MetricScoreMetadata, parse.MetricScoreTotal,
		parse.MetricScoreXBandwidth, parse.MetricScoreXMetadata, parse.MetricScoreXTotal, parse.MetricValid, parse.MetricProcs}
	for _, s := range io500Sections {
		if len(s.keys) == 0 || !slices.ContainsFunc(s.keys, func(k iniKey) bool { return k.name == "run" }) || isGroupSection(s.name) {
			continue
		}
		m := parse.PhaseMetric(s.name)
		out = append(out, m, m+"_time", m+"_valid")
	}
	slices.Sort(out)
	return out
}

// isGroupSection reports whether an .ini section configures a group of
// phases (ior-easy → ior-easy-write and ior-easy-read) rather than one.
func isGroupSection(name string) bool {
	switch name {
	case "ior-easy", "ior-hard", "ior-rnd4K", "ior-rnd1MB", "mdtest-easy", "mdtest-hard", "mdworkbench":
		return true
	}
	return false
}

// checkBatchRegression checks a batch benchmark's regression.metrics
// against the metrics its parser produces (known; nil when they depend on
// the output) and fills in the default, def, when none are given; without
// a default the metrics must be named, so that nothing goes uncompared
// silently. invalid = "fail" adds the threshold valid.min >= 1.
func (d *decoder) checkBatchRegression(p []string, b *Benchmark, known, def []string) {
	r := &b.Regression
	for j, spec := range r.Metrics {
		name, _, _ := strings.Cut(spec, ".")
		if known != nil && !slices.Contains(known, name) {
			d.problem(child(child(child(p, "regression"), "metrics"), fmt.Sprint(j)), "benchmark %q: regression.metrics: %q is not a metric of this benchmark (it has %s)", b.Name, name, strings.Join(known, ", "))
		}
	}
	if len(r.Metrics) > 0 || r.Disable {
		return
	}
	if len(def) == 0 {
		d.problem(child(p, "regression"), "benchmark %q: name the metrics to compare with the baseline in regression.metrics (this parser's metrics depend on its output), or set regression.disable", b.Name)
		return
	}
	r.Metrics = slices.Clone(def)
}
