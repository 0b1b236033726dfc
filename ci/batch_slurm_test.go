package ci

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/slurm/slurmtest"
)

// io500SlurmSuite runs the io500 stand-in as an MPI step of 4 tasks, 2 per
// node, across the two nodes of the job.
func io500SlurmSuite(t *testing.T) string {
	return strings.Replace(io500Suite(t, `thresholds = ["score_total > 1"]`), `launcher = "local"`,
		"launcher = \"srun\"\ntasks = 4\ntasks_per_node = 2\nnodes = 2\nmpi = \"none\"", 1) + `
[slurm]
partition = "bench"
nodes = 2
time = "00:05:00"
`
}

// runSuiteOutside runs `benchrun suite` on the suite file path from
// outside any allocation (SLURM_* removed), with --baselines base.
func runSuiteOutside(t *testing.T, path, dir, base string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, benchrunBinary(t), "--baselines", base, "suite", "-o", dir, path)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLURM_") && !strings.HasPrefix(kv, "BENCHRUN_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("benchrun suite did not end in 5m: %v\n%s", err, out.String())
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// TestClusterIO500 submits a suite with an io500 benchmark to the test
// cluster: io500 (the stand-in, which replays a recorded real run) runs as
// one srun step of 4 MPI tasks, 2 on each of the job's two nodes; every
// rank leaves its host name, rank 0 alone writes the results. The run
// reports the phases and scores; promoted (with --force: the recorded
// run is invalid by IO500's rules), it is the baseline the second run is
// compared with.
func TestClusterIO500(t *testing.T) {
	slurmtest.RequireCluster(t)
	work := t.TempDir()
	suite := filepath.Join(work, "io500.toml")
	writeFile(t, suite, io500SlurmSuite(t))
	base := filepath.Join(work, "baselines")
	os.MkdirAll(base, 0o755)
	r1 := filepath.Join(work, "r1")
	code, out := runSuiteOutside(t, suite, r1, base)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	ranks, _ := filepath.Glob(filepath.Join(r1, BatchDir, "io500", "rep0", io500ResultDir, "standin-rank*"))
	var hosts []string
	for _, f := range ranks {
		b, _ := os.ReadFile(f)
		hosts = append(hosts, strings.TrimSpace(string(b)))
	}
	slices.Sort(hosts)
	if len(hosts) != 4 || hosts[0] != hosts[1] || hosts[2] != hosts[3] || hosts[1] == hosts[2] {
		t.Errorf("ranks ran on %q, want 2 on each of two nodes", hosts)
	}
	var sum batchSummary
	readJSON(t, filepath.Join(r1, "summary.json"), &sum)
	c := sum.Cases[0]
	if c.Metrics["procs"].Mean != 4 || c.Metrics["score_total"].Mean != 7.076875 || c.Metrics["mdtest_hard_delete"].Unit != "ops/s" {
		t.Errorf("metrics: procs %+v score_total %+v", c.Metrics["procs"], c.Metrics["score_total"])
	}
	if !strings.Contains(strings.Join(c.Warnings, " "), "INVALID IO500 run") {
		t.Errorf("warnings %q", c.Warnings)
	}
	md, _ := os.ReadFile(filepath.Join(r1, "report.md"))
	for _, want := range []string{"ior-easy-write", "score"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("report.md has no %q", want)
		}
	}
	// The recorded run is invalid by IO500's rules: no baseline unless
	// forced.
	if r := runBin(t, work, binEnv(), "baseline", "promote", "--baselines", base, r1); r.code != ExitOK || !strings.Contains(r.stdout+r.stderr, "IO500 marked its runs invalid") {
		t.Fatalf("promote of an invalid run: %v", r)
	}
	if r := runBin(t, work, binEnv(), "baseline", "promote", "--force", "--baselines", base, r1); r.code != ExitOK {
		t.Fatalf("promote --force: %v", r)
	}
	code, out = runSuiteOutside(t, suite, filepath.Join(work, "r2"), base)
	if code != ExitOK {
		t.Fatalf("second run: exit %d:\n%s", code, out)
	}
	var again batchSummary
	readJSON(t, filepath.Join(work, "r2", "summary.json"), &again)
	compared := map[string]string{}
	for _, ck := range again.Cases[0].Checks {
		if ck.Kind == "regression" {
			compared[ck.Metric] = ck.Verdict
		}
	}
	for _, m := range []string{"score_total", "score_bandwidth", "score_metadata"} {
		if compared[m] != "pass" {
			t.Errorf("%s against the baseline: %q (checks %v)", m, compared[m], compared)
		}
	}
}

// execSlurmSuite runs a real small program (sh) as an srun step of 4 MPI
// tasks, 2 per node, across the job's two nodes, in apptainer (the
// stand-in): every rank leaves its host name in the run's directory, rank
// 0 prints the task count and a value the regex parser reads.
const execSlurmSuite = `[suite]
name = "exec-srun"

[[benchmark]]
name = "ranks"
kind = "exec"
repetitions = 2
thresholds = ["ranks.min == 4"]

[benchmark.workload]
command = ["sh", "-c", 'hostname > host.$SLURM_PROCID; if [ "$SLURM_PROCID" = 0 ]; then echo "rank 0 of $SLURM_NTASKS: value 2.5e6"; fi']
launcher = "srun"
tasks = 4
tasks_per_node = 2
nodes = 2
mpi = "none"
image = "/images/ranks.sif"
binds = ["/tmp"]
parser = "regex"
patterns = ['rank 0 of (?P<ranks>\d+): value (?P<value>[0-9.e+]+)']

[benchmark.workload.metrics.value]
unit = "bytes/s"
better = "higher"

[slurm]
partition = "bench"
nodes = 2
time = "00:05:00"
`

// TestClusterExec submits a suite with an exec benchmark to the test
// cluster: each repetition is one srun step of 4 tasks across two nodes,
// wrapped in apptainer exec (the stand-in), and becomes one sample with
// the parsed metrics and their declared unit and direction.
func TestClusterExec(t *testing.T) {
	slurmtest.RequireCluster(t)
	standin, err := filepath.Abs(filepath.Join("testdata", "apptainer-standin"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	log := filepath.Join(work, "apptainer.log")
	t.Setenv("PATH", standin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("APPTAINER_STANDIN_LOG", log)
	suite := filepath.Join(work, "exec.toml")
	writeFile(t, suite, execSlurmSuite)
	base := filepath.Join(work, "baselines")
	os.MkdirAll(base, 0o755)
	dir := filepath.Join(work, "r")
	code, out := runSuiteOutside(t, suite, dir, base)
	if code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, rep := range []string{"rep0", "rep1"} {
		files, _ := filepath.Glob(filepath.Join(dir, BatchDir, "ranks", rep, "host.*"))
		var hosts []string
		for _, f := range files {
			b, _ := os.ReadFile(f)
			hosts = append(hosts, strings.TrimSpace(string(b)))
		}
		slices.Sort(hosts)
		if len(hosts) != 4 || hosts[0] != hosts[1] || hosts[2] != hosts[3] || hosts[1] == hosts[2] {
			t.Errorf("%s: ranks ran on %q, want 2 on each of two nodes", rep, hosts)
		}
	}
	calls, _ := os.ReadFile(log)
	if n := strings.Count(string(calls), " exec --bind /tmp /images/ranks.sif -- sh -c "); n != 8 {
		t.Errorf("%d apptainer calls, want 8 (4 ranks × 2 runs):\n%s", n, calls)
	}
	var sum batchSummary
	readJSON(t, filepath.Join(dir, "summary.json"), &sum)
	if sum.Verdict != "pass" || len(sum.Cases) != 1 {
		t.Fatalf("summary %+v", sum)
	}
	c := sum.Cases[0]
	if v := c.Metrics["value"]; v.Count != 2 || v.Mean != 2.5e6 || v.Unit != "bytes/s" || v.Better != "higher" {
		t.Errorf("value %+v, want 2 samples of 2.5e6 bytes/s, higher better", v)
	}
	if r := c.Metrics["ranks"]; r.Count != 2 || r.Mean != 4 {
		t.Errorf("ranks %+v", r)
	}
	thresholds := 0
	for _, ck := range c.Checks {
		if ck.Kind == "threshold" && ck.Verdict == "pass" {
			thresholds++
		}
	}
	if thresholds != 1 {
		t.Errorf("checks %+v", c.Checks)
	}
}
