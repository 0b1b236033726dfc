package ci

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/benchrun/benchrun/runner/batch"
	"github.com/benchrun/benchrun/runner/parse"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm"
	"github.com/benchrun/benchrun/suites"
)

// The executor path of the batch benchmark kinds (exec, io500): each
// repetition runs the command once (here, under mpirun, or as an srun
// step of the suite's job), its output is parsed into metrics, and the
// run becomes one sample whose Values hold them. A command that fails,
// times out, or whose output the parser cannot read makes the case an
// error (exit 2); no sample is written for that repetition.

// BatchDir is the directory of the batch cases' runs inside a results
// directory: batch/<case>/rep<N>/ holds stdout.txt, stderr.txt and, for
// io500, config.ini and io500's own results directory (io500-results/).
const BatchDir = "batch"

// isBatch reports whether cs is a batch benchmark case.
func isBatch(cs suites.Case) bool {
	switch cs.Workload.(type) {
	case *suites.ExecWorkload, *suites.IO500Workload:
		return true
	}
	return false
}

// batchCounts counts the runs of a batch case so far (the samples in its
// samples file, or in the files of its samples directory), for the
// progress line.
func batchCounts(dir string, info *results.CaseInfo) func() (int64, int64) {
	return func() (int64, int64) {
		path := filepath.Join(dir, info.Samples)
		if strings.HasSuffix(path, ".jsonl") {
			return countSampleFile(path)
		}
		return countSamples(path)
	}
}

// batchRun is what one repetition of a batch case produced.
type batchRun struct {
	metrics  []parse.Metric
	warnings []string
	settings map[string]string
}

// runBatchCase runs every repetition of the batch case cs, writing one
// sample per run to the case's samples file (or, inside an allocation,
// to batch.jsonl in its samples directory).
func runBatchCase(ctx context.Context, e *env, s *suites.Suite, cs suites.Case, dir string, info *results.CaseInfo) error {
	path := filepath.Join(dir, info.Samples)
	if !strings.HasSuffix(path, ".jsonl") {
		if err := os.MkdirAll(path, 0o755); err != nil {
			return err
		}
		path = filepath.Join(path, "batch.jsonl")
	}
	w, err := results.CreateSampleFile(path)
	if err != nil {
		return fmt.Errorf("case %s: %w", cs.ID, err)
	}
	defer recordSamples(e, info, path, w)
	info.Settings = map[string]string{results.SettingSamples: results.SamplesRuns}
	start := time.Now()
	info.Start = start.UTC()
	host, _ := os.Hostname()
	for rep := 0; rep < cs.Benchmark.Repetitions; rep++ {
		if ctx.Err() != nil {
			return nil // the run was stopped: its samples so far count
		}
		repDir := filepath.Join(dir, BatchDir, results.CaseFileName(cs.ID), fmt.Sprintf("rep%d", rep))
		began := time.Now()
		run, err := runBatchOnce(ctx, s, cs, repDir)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("case %s, repetition %d: %w", cs.ID, rep+1, err)
		}
		ended := time.Now()
		sm := results.Sample{Seq: int64(rep), Rep: rep, Worker: host, Scheduled: began.Sub(start), Sent: began.Sub(start),
			Done: ended.Sub(start), Values: map[string]float64{}}
		declareBatchMetrics(info, run, sm.Values)
		for _, why := range run.warnings {
			info.Warnings = append(info.Warnings, fmt.Sprintf("repetition %d: %s", rep+1, why))
		}
		if err := w.Write(&sm); err != nil {
			return fmt.Errorf("case %s: %w", cs.ID, err)
		}
		e.log.Info("batch run finished", "case", cs.ID, "rep", rep+1, "seconds", ended.Sub(began).Seconds(), "metrics", len(run.metrics))
	}
	return nil
}

// declareBatchMetrics puts a run's metrics into a sample's values and
// declares their units and directions in the case's manifest entry.
func declareBatchMetrics(info *results.CaseInfo, run *batchRun, values map[string]float64) {
	if info.Metrics == nil {
		info.Metrics = map[string]results.MetricSpec{}
	}
	for _, m := range run.metrics {
		values[m.Name] = m.Value
		unit := m.Unit
		info.Metrics[m.Name] = results.MetricSpec{Unit: unit, Better: m.Better}
	}
	for k, v := range run.settings {
		info.Settings[k] = v
	}
}

// runBatchOnce runs one repetition in repDir and parses its output.
func runBatchOnce(ctx context.Context, s *suites.Suite, cs suites.Case, repDir string) (*batchRun, error) {
	switch w := cs.Workload.(type) {
	case *suites.ExecWorkload:
		return runExecOnce(ctx, s, cs, w, repDir)
	case *suites.IO500Workload:
		return runIO500Once(ctx, s, cs, w, repDir)
	}
	return nil, fmt.Errorf("benchmark %q: kind %q is not a batch kind", cs.Benchmark.Name, cs.Benchmark.Kind)
}

// launchArgv wraps argv in the case's launcher: apptainer for an image,
// then mpirun -np or an srun step.
func launchArgv(s *suites.Suite, name string, l suites.Launch, argv []string) []string {
	if l.Launcher == suites.LauncherSrun {
		return slurm.MPIStepCommand(argv, slurm.MPIOptions{Name: name, Tasks: l.Tasks, TasksPerNode: l.TasksPerNode,
			Nodes: l.Nodes, MPI: l.MPI, Container: slurm.ContainerApptainer, Image: l.Image, Binds: l.Binds, HetGroup: batchHetGroup(s)})
	}
	if l.Image != "" {
		inner := []string{"apptainer", "exec"}
		for _, b := range l.Binds {
			inner = append(inner, "--bind", b)
		}
		argv = append(append(inner, l.Image), argv...)
	}
	if l.Launcher == suites.LauncherMPIRun {
		argv = append(append([]string{"mpirun", "-np", fmt.Sprint(l.Tasks)}, l.MPIRunArgs...), argv...)
	}
	return argv
}

func envList(env map[string]string) []string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

func runExecOnce(ctx context.Context, s *suites.Suite, cs suites.Case, w *suites.ExecWorkload, repDir string) (*batchRun, error) {
	workDir := repDir
	if w.Dir != "" {
		workDir = s.Path(w.Dir)
	}
	c := batch.Command{Argv: launchArgv(s, cs.Benchmark.Name, w.Launch(), w.Command), Dir: workDir, Env: envList(w.Env),
		Timeout: w.Timeout.D(), Stdout: filepath.Join(repDir, "stdout.txt"), Stderr: filepath.Join(repDir, "stderr.txt")}
	if err := os.MkdirAll(repDir, 0o755); err != nil {
		return nil, err
	}
	out := c.Stdout
	switch w.Output {
	case suites.OutputStdout:
	case suites.OutputStderr:
		out = c.Stderr
	default:
		out = w.Output
		if !filepath.IsAbs(out) {
			out = filepath.Join(workDir, out)
		}
	}
	before, _ := os.Stat(out) // nil when absent: a file of an earlier run otherwise
	started := time.Now()
	if _, err := batch.Run(ctx, c); err != nil {
		return nil, err
	}
	if err := notRewritten(out, before, started); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("the command's output: %w", err)
	}
	ms, err := parse.Parse(w.Parser, out, data, w.Spec())
	if err != nil {
		return nil, fmt.Errorf("parser %s: %w", w.Parser, err)
	}
	return &batchRun{metrics: ms}, nil
}

// staleMargin is how long before a run its output file must have been
// last written to be found stale when the run left it as it was: longer
// than any file system's timestamp granularity, so a rewrite during the
// run changes the modification time.
const staleMargin = 2 * time.Second

// notRewritten is the error for an output file that the run left as it
// found it (same file, size and modification time, last written before
// the run started): a command that exits 0 without writing its output
// must not have the output of an earlier run read as its own.
func notRewritten(out string, before os.FileInfo, started time.Time) error {
	if before == nil {
		return nil
	}
	after, err := os.Stat(out)
	if err != nil || !os.SameFile(before, after) || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return nil
	}
	if !before.ModTime().Before(started.Add(-staleMargin)) {
		return nil
	}
	return fmt.Errorf("the command's output %s was not written by this run: it is unchanged since %s, before the run started",
		out, before.ModTime().UTC().Format(time.RFC3339))
}

// io500ResultDir is io500's results directory inside a repetition's.
const io500ResultDir = "io500-results"

// runIO500Once writes the .ini, runs io500 and reads its results
// directory (result_summary.txt, result.txt) and its stdout, which must
// agree. The process count io500 saw must be the one the suite asked for:
// a launcher that starts every rank as its own one-process io500 (a
// wrong --mpi) would otherwise look like a fine, smaller run.
func runIO500Once(ctx context.Context, s *suites.Suite, cs suites.Case, w *suites.IO500Workload, repDir string) (*batchRun, error) {
	resDir := filepath.Join(repDir, io500ResultDir)
	if err := os.MkdirAll(resDir, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(resDir)
	if err != nil {
		return nil, err
	}
	ini := filepath.Join(repDir, "config.ini")
	if err := os.WriteFile(ini, []byte(w.INI(abs)), 0o644); err != nil {
		return nil, err
	}
	absIni, _ := filepath.Abs(ini)
	c := batch.Command{Argv: launchArgv(s, cs.Benchmark.Name, w.Launch(), w.Argv(absIni)), Dir: repDir, Env: envList(w.Env),
		Timeout: w.Timeout.D(), Stdout: filepath.Join(repDir, "stdout.txt"), Stderr: filepath.Join(repDir, "stderr.txt")}
	if _, err := batch.Run(ctx, c); err != nil {
		return nil, err
	}
	r, err := readIO500Run(abs, c.Stdout)
	if err != nil {
		return nil, err
	}
	if r.Procs > 0 && r.Procs != w.Tasks {
		return nil, fmt.Errorf("io500 ran with %d processes, the suite asked for tasks = %d: check the launcher and its MPI settings", r.Procs, w.Tasks)
	}
	if r.Mode != "" && r.Mode != w.Mode {
		return nil, fmt.Errorf("io500 ran in %s mode, the suite asked for %s", r.Mode, w.Mode)
	}
	return io500Run(r), nil
}

// readIO500Run reads an io500 run from its results directory and checks
// its stdout (when there is one) against it.
func readIO500Run(resDir, stdout string) (*parse.IO500, error) {
	r, _, err := parse.ReadIO500Dir(resDir)
	if err != nil {
		return nil, err
	}
	if stdout == "" {
		return r, nil
	}
	b, err := os.ReadFile(stdout)
	if err != nil {
		return nil, err
	}
	out, err := parse.ParseIO500Summary(stdout, b)
	if err != nil {
		return nil, err
	}
	if out.Score.Total != r.Score.Total {
		return nil, fmt.Errorf("io500's stdout (total %g) and its results directory (total %g) disagree", out.Score.Total, r.Score.Total)
	}
	for _, why := range out.Invalid {
		r.Invalid = appendNew(r.Invalid, why)
	}
	return r, nil
}

func appendNew(xs []string, x string) []string {
	if slices.Contains(xs, x) {
		return xs
	}
	return append(xs, x)
}

// io500Run turns a parsed io500 run into a batch run: its metrics, a
// warning when it is invalid, and its version and mode as settings.
func io500Run(r *parse.IO500) *batchRun {
	run := &batchRun{metrics: r.Metrics(), settings: map[string]string{}}
	if r.Version != "" {
		run.settings["io500_version"] = r.Version
	}
	if r.Mode != "" {
		run.settings["io500_mode"] = r.Mode
	}
	// For the reports' phase table: the phases in run order, and those in
	// the standard score.
	var phases, scored []string
	bw, md := parse.StandardPhases(r.Version)
	for _, p := range r.Phases {
		if p.Name == "timestamp" {
			continue
		}
		phases = append(phases, p.Name)
		if slices.Contains(bw, p.Name) || slices.Contains(md, p.Name) {
			scored = append(scored, p.Name)
		}
	}
	run.settings[results.SettingIO500Phases] = strings.Join(phases, ",")
	run.settings[results.SettingIO500Scored] = strings.Join(scored, ",")
	if !r.Valid() {
		run.warnings = append(run.warnings, "INVALID IO500 run (io500 exited 0): "+strings.Join(r.Invalid, "; "))
	}
	return run
}

// batchTasksPerNode is the most tasks any srun-launched batch case of s
// starts on one node (its tasks_per_node, else its tasks spread over its
// nodes or the job's), for the job's --ntasks-per-node; 0 when none.
func batchTasksPerNode(s *suites.Suite) int {
	most := 0
	for _, cs := range s.Cases() {
		var l suites.Launch
		switch w := cs.Workload.(type) {
		case *suites.ExecWorkload:
			l = w.Launch()
		case *suites.IO500Workload:
			l = w.Launch()
		default:
			continue
		}
		if l.Launcher != suites.LauncherSrun {
			continue
		}
		per := l.TasksPerNode
		if per == 0 {
			nodes := max(l.Nodes, 1)
			if l.Nodes == 0 && s.Slurm != nil && s.Slurm.Nodes > 0 {
				nodes = s.Slurm.Nodes
			}
			per = (l.Tasks + nodes - 1) / nodes
		}
		most = max(most, per)
	}
	return most
}

// describeBatch is what `benchrun plan` says of a batch case: the command
// as launched and, for io500, what makes its runs invalid; nil for other
// cases.
func describeBatch(s *suites.Suite, cs suites.Case) []string {
	switch w := cs.Workload.(type) {
	case *suites.ExecWorkload:
		return []string{"run: " + shellJoin(launchArgv(s, cs.Benchmark.Name, w.Launch(), w.Command)) + "; output " + w.Output + " read by parser " + w.Parser}
	case *suites.IO500Workload:
		ini := filepath.Join(BatchDir, results.CaseFileName(cs.ID), "rep<N>", "config.ini")
		out := []string{"run: " + shellJoin(launchArgv(s, cs.Benchmark.Name, w.Launch(), w.Argv(ini))) + " (" + w.Mode + " mode; the .ini is written for each run)"}
		for _, why := range w.InvalidReasons() {
			out = append(out, "warning: every run will be INVALID by io500's rules: "+why)
		}
		return out
	}
	return nil
}
