package suites

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/parse"
)

// The tables of the batch benchmark kinds, exec (this file) and io500
// (io500.go): a command that runs to completion, locally, under mpirun or
// as an srun step, whose output a named parser turns into metrics. They
// drive no service. Package ci runs them (ci/batch.go).

// Launchers of a batch benchmark's command.
const (
	LauncherLocal  = "local"  // the command itself, here
	LauncherMPIRun = "mpirun" // mpirun -np TASKS [mpirun_args] COMMAND
	LauncherSrun   = "srun"   // an srun step of the suite's SLURM job, with the MPI settings
)

// Outputs of an exec benchmark's command.
const (
	OutputStdout = "stdout"
	OutputStderr = "stderr"
)

// ExecWorkload is the workload of an exec benchmark case: the command,
// how it is launched, and how its output becomes metrics.
type ExecWorkload struct {
	Command      []string          `toml:"command" doc:"The command (argv) that runs the benchmark once; a string is one argument."`
	Launcher     string            `toml:"launcher" enum:"local|mpirun|srun" doc:"local: run the command here; mpirun: mpirun -np tasks; srun: an srun step of the suite's SLURM job with tasks, tasks_per_node, nodes and mpi. Default srun with a [slurm] section, else local."`
	Tasks        int               `toml:"tasks" doc:"MPI processes (mpirun -np, srun --ntasks); default 1."`
	TasksPerNode int               `toml:"tasks_per_node" doc:"srun: --ntasks-per-node."`
	Nodes        int               `toml:"nodes" doc:"srun: --nodes; default SLURM's choice."`
	MPI          string            `toml:"mpi" doc:"srun: the --mpi plugin (pmix, pmi2, none, ...); default SLURM's."`
	MPIRunArgs   []string          `toml:"mpirun_args" doc:"mpirun: arguments before the command (\"--oversubscribe\", ...)."`
	Image        string            `toml:"image" doc:"Run the command in this apptainer image (apptainer exec IMAGE COMMAND)."`
	Binds        []string          `toml:"binds" doc:"apptainer --bind values (SRC[:DST[:OPTS]])."`
	Env          map[string]string `toml:"env" doc:"Environment variables for the command."`
	Dir          string            `toml:"dir" doc:"Working directory, relative to the suite file; default the case's directory in the results (batch/<case>/rep<N>)."`
	Timeout      Duration          `toml:"timeout" doc:"A run that takes longer is killed and the case is an error; default 1h."`
	Output       string            `toml:"output" doc:"What the parser reads: stdout (default), stderr, or a file the command writes (relative to its working directory)."`
	Parser       string            `toml:"parser" enum:"io500|ior|mdtest|json|regex" doc:"The parser of the output (docs/suite-format.md)."`
	Patterns     []string          `toml:"patterns" doc:"regex: regular expressions (RE2); each named group (?P<metric>...) is a metric."`
	// Metrics declares the json and regex parsers' metrics (json: where).
	Metrics map[string]ExecMetric `toml:"metrics" doc:"json: the metrics and their paths; regex: units and directions of the named groups. [benchmark.workload.metrics.NAME]"`
}

// ExecMetric is one declared metric of an exec benchmark.
type ExecMetric struct {
	Path   string  `toml:"path" doc:"json: dotted path to the number (\"summary.0.bwMaxMIB\")."`
	Unit   string  `toml:"unit" enum:"s|bytes|bytes/s|ops/s|ratio|none" doc:"Unit of the value after scale: s, bytes, bytes/s, ops/s, ratio or none; default none."`
	Better string  `toml:"better" enum:"higher|lower" doc:"Which way is better; default lower for s, else higher."`
	Scale  float64 `toml:"scale" doc:"Multiplies the value read into the unit (MiB/s → bytes/s: 1048576); default 1."`
}

// NoDataset is the dataset of the batch kinds: they have none, so a
// [benchmark.dataset] table is an error.
type NoDataset struct{}

func defaultExecWorkload() *ExecWorkload {
	return &ExecWorkload{Tasks: 1, Timeout: Duration(time.Hour), Output: OutputStdout}
}

var metricNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Spec returns the parser options of w.
func (w *ExecWorkload) Spec() parse.Options {
	o := parse.Options{Patterns: w.Patterns, Metrics: map[string]parse.Spec{}}
	for name, m := range w.Metrics {
		unit := m.Unit
		if unit == "none" {
			unit = parse.UnitNone
		}
		o.Metrics[name] = parse.Spec{Path: m.Path, Unit: unit, Better: m.Better, Scale: m.Scale}
	}
	return o
}

// checkLaunch validates the launch settings common to exec and io500.
func (d *decoder) checkLaunch(s *Suite, p []string, b *Benchmark, c *Case, l *Launch) {
	if len(l.Command) == 0 || l.Command[0] == "" {
		d.problem(c.key(p, "workload", "command"), "benchmark %q: command is required", b.Name)
	}
	if l.Launcher == "" {
		l.Launcher = LauncherLocal
		if s.Slurm != nil {
			l.Launcher = LauncherSrun
		}
	}
	if l.Tasks < 1 {
		d.problem(c.key(p, "workload", "tasks"), "benchmark %q case %s: tasks must be at least 1", b.Name, c.ID)
	}
	switch l.Launcher {
	case LauncherSrun:
		if s.Slurm == nil {
			d.problem(c.key(p, "workload", "launcher"), "benchmark %q: launcher \"srun\" needs a [slurm] section (the suite runs as one SLURM job)", b.Name)
		}
		if l.TasksPerNode > 0 && l.Nodes > 0 && l.TasksPerNode*l.Nodes < l.Tasks {
			d.problem(c.key(p, "workload", "tasks"), "benchmark %q case %s: tasks = %d do not fit nodes × tasks_per_node = %d", b.Name, c.ID, l.Tasks, l.Nodes*l.TasksPerNode)
		}
		if s.Slurm != nil && s.Slurm.Nodes > 0 && l.Nodes > s.Slurm.Nodes {
			d.problem(c.key(p, "workload", "nodes"), "benchmark %q: nodes = %d, but [slurm] nodes = %d", b.Name, l.Nodes, s.Slurm.Nodes)
		}
	case LauncherLocal:
		if l.Tasks > 1 {
			d.problem(c.key(p, "workload", "tasks"), "benchmark %q case %s: tasks = %d needs launcher \"mpirun\" or \"srun\"", b.Name, c.ID, l.Tasks)
		}
	}
	if l.Launcher != LauncherSrun && (l.TasksPerNode > 0 || l.Nodes > 0 || l.MPI != "") {
		d.problem(c.key(p, "workload", "launcher"), "benchmark %q: tasks_per_node, nodes and mpi are srun settings (launcher = \"srun\")", b.Name)
	}
	if l.Launcher != LauncherMPIRun && len(l.MPIRunArgs) > 0 {
		d.problem(c.key(p, "workload", "mpirun_args"), "benchmark %q: mpirun_args need launcher = \"mpirun\"", b.Name)
	}
	if len(l.Binds) > 0 && l.Image == "" {
		d.problem(c.key(p, "workload", "binds"), "benchmark %q: binds need an image", b.Name)
	}
	for _, k := range slices.Sorted(maps.Keys(l.Env)) {
		if !envNameRE.MatchString(k) {
			d.problem(c.key(p, "workload", "env"), "benchmark %q: %q is not a valid environment variable name", b.Name, k)
		}
	}
	if l.Timeout <= 0 {
		d.problem(c.key(p, "workload", "timeout"), "benchmark %q: timeout must be positive", b.Name)
	}
}

// Launch is how a batch benchmark's command runs, the part exec and io500
// share.
type Launch struct {
	Command      []string
	Launcher     string
	Tasks        int
	TasksPerNode int
	Nodes        int
	MPI          string
	MPIRunArgs   []string
	Image        string
	Binds        []string
	Env          map[string]string
	Timeout      time.Duration
}

// Launch returns w's launch settings.
func (w *ExecWorkload) Launch() Launch {
	return Launch{Command: w.Command, Launcher: w.Launcher, Tasks: w.Tasks, TasksPerNode: w.TasksPerNode, Nodes: w.Nodes,
		MPI: w.MPI, MPIRunArgs: w.MPIRunArgs, Image: w.Image, Binds: w.Binds, Env: w.Env, Timeout: w.Timeout.D()}
}

// checkExec validates an exec case.
func (d *decoder) checkExec(s *Suite, p []string, b *Benchmark, c *Case, w *ExecWorkload) {
	l := w.Launch()
	d.checkLaunch(s, p, b, c, &l)
	w.Launcher = l.Launcher
	if w.Parser == "" {
		d.problem(c.key(p, "workload", "parser"), "benchmark %q: parser is required (%s)", b.Name, strings.Join(parse.Names(), ", "))
		return
	}
	if w.Output == "" {
		d.problem(c.key(p, "workload", "output"), "benchmark %q: output must be stdout, stderr or a file", b.Name)
	}
	for _, name := range slices.Sorted(maps.Keys(w.Metrics)) {
		m := w.Metrics[name]
		at := child(c.key(p, "workload", "metrics"), name)
		switch {
		case !metricNameRE.MatchString(name):
			d.problem(at, "benchmark %q: metric name %q: use lower-case letters, digits and _", b.Name, name)
		case slices.Contains(analysis.MetricNames(), name):
			d.problem(at, "benchmark %q: metric %q is one benchrun computes itself; choose another name", b.Name, name)
		}
		if w.Parser == "json" && m.Path == "" {
			d.problem(at, "benchmark %q: json metric %q needs a path", b.Name, name)
		}
		if w.Parser != "json" && m.Path != "" {
			d.problem(child(at, "path"), "benchmark %q: path is for the json parser", b.Name)
		}
	}
	known := w.BatchMetrics()
	if w.Parser == "io500" {
		known = IO500MetricNames()
	}
	d.checkBatchRegression(p, b, known, w.BatchMetrics())
	switch w.Parser {
	case "json":
		if len(w.Metrics) == 0 {
			d.problem(c.key(p, "workload", "metrics"), "benchmark %q: the json parser needs [benchmark.workload.metrics.NAME] tables with a path", b.Name)
		}
	case "regex":
		d.checkPatterns(p, b, c, w)
	default:
		if len(w.Patterns) > 0 {
			d.problem(c.key(p, "workload", "patterns"), "benchmark %q: patterns are for the regex parser", b.Name)
		}
	}
}

func (d *decoder) checkPatterns(p []string, b *Benchmark, c *Case, w *ExecWorkload) {
	if len(w.Patterns) == 0 {
		d.problem(c.key(p, "workload", "patterns"), "benchmark %q: the regex parser needs patterns", b.Name)
	}
	groups := map[string]bool{}
	for i, pat := range w.Patterns {
		at := child(c.key(p, "workload", "patterns"), fmt.Sprint(i))
		re, err := regexp.Compile(pat)
		if err != nil {
			d.problem(at, "benchmark %q: pattern %q: %v", b.Name, pat, err)
			continue
		}
		names := parse.NamedGroups(re)
		if len(names) == 0 {
			d.problem(at, "benchmark %q: pattern %q has no named group (?P<metric>...)", b.Name, pat)
		}
		for _, n := range names {
			if !metricNameRE.MatchString(n) {
				d.problem(at, "benchmark %q: group %q: metric names use lower-case letters, digits and _", b.Name, n)
			}
			if groups[n] {
				d.problem(at, "benchmark %q: metric %q is captured twice", b.Name, n)
			}
			groups[n] = true
		}
	}
	for name := range w.Metrics {
		if !groups[name] {
			d.problem(child(c.key(p, "workload", "metrics"), name), "benchmark %q: metric %q is captured by no pattern", b.Name, name)
		}
	}
}

// BatchMetrics returns the metric names an exec case can produce, for
// regression.metrics and the default comparison: the declared ones (json,
// regex) or the parser's fixed names; nil when the parser's names depend
// on the output (ior, mdtest: any name is accepted there).
func (w *ExecWorkload) BatchMetrics() []string {
	switch w.Parser {
	case "json", "regex":
		if w.Parser == "regex" {
			var out []string
			for _, pat := range w.Patterns {
				if re, err := regexp.Compile(pat); err == nil {
					out = append(out, parse.NamedGroups(re)...)
				}
			}
			slices.Sort(out)
			return out
		}
		return slices.Sorted(maps.Keys(w.Metrics))
	case "io500":
		return []string{parse.MetricScoreTotal, parse.MetricScoreBandwidth, parse.MetricScoreMetadata}
	}
	return nil
}
