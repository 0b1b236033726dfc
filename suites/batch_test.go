package suites

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const io500Suite = `[suite]
name = "io500"

[[benchmark]]
name = "io500"
kind = "io500"
[benchmark.workload]
command = ["/opt/io500/io500"]
tasks = 8
mpirun_args = ["--oversubscribe"]
mode = "extended"
[benchmark.workload.config.global]
datadir = "/lustre/io500/data"
api = "POSIX"
drop-caches = true
verbosity = 1
dataPacketType = "timestamp"
[benchmark.workload.config.debug]
stonewall-time = 300
[benchmark.workload.config.ior-easy]
transferSize = "2m"
blockSize = "9920000m"
filePerProc = true
[benchmark.workload.config.ior-hard]
segmentCount = 10000000
[benchmark.workload.config.mdtest-easy]
n = 1000000
[benchmark.workload.config.mdworkbench]
waitingTime = 0.5
[benchmark.workload.config.find]
nproc = 4
pfind-queue-length = 10000
[benchmark.workload.config.ior-rnd4K-easy-read]
run = false
`

// TestIO500INI is the .ini benchrun writes: io500's section order, its key
// order, TRUE/FALSE, resultdir set by benchrun (golden file).
func TestIO500INI(t *testing.T) {
	s, err := Parse("s.toml", []byte(io500Suite))
	if err != nil {
		t.Fatal(err)
	}
	cs := s.Cases()
	w := cs[0].Workload.(*IO500Workload)
	if w.Launcher != LauncherMPIRun || w.Invalid != InvalidWarn || len(w.InvalidReasons()) != 0 {
		t.Errorf("launcher %q invalid %q reasons %q", w.Launcher, w.Invalid, w.InvalidReasons())
	}
	if got := w.Argv("/r/config.ini"); !slices.Equal(got, []string{"/opt/io500/io500", "/r/config.ini", "--mode=extended"}) {
		t.Errorf("argv %q", got)
	}
	if got := cs[0].Benchmark.Regression.Metrics; !slices.Equal(got, io500Metrics) {
		t.Errorf("default regression metrics %q", got)
	}
	got := w.INI("/results/batch/io500/rep0/io500-results")
	golden := filepath.Join("testdata", "golden", "io500.ini")
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("io500 .ini differs from %s (go test ./suites -run IO500INI -update):\n%s", golden, got)
	}
}

func TestIO500Problems(t *testing.T) {
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"unknown section", "[benchmark.workload.config.find]", "[benchmark.workload.config.finder]", `io500 has no section [finder] (did you mean "find"?)`},
		{"unknown key", "nproc = 4", "nprocs = 4", `io500 section [find] has no key "nprocs" (did you mean "nproc"?)`},
		{"bool type", "drop-caches = true", `drop-caches = "yes"`, "io500 [global] drop-caches: want true or false, got a string"},
		{"int type", "segmentCount = 10000000", "segmentCount = -1", "io500 [ior-hard] segmentCount: want a non-negative integer"},
		{"size", `transferSize = "2m"`, `transferSize = "2 MB"`, `want a size such as "2m"`},
		{"enum", `dataPacketType = "timestamp"`, `dataPacketType = "zeros"`, `"zeros" is not one of timestamp, offset, incompressible, random`},
		{"resultdir", `api = "POSIX"`, "api = \"POSIX\"\nresultdir = \"/x\"", "config.global.resultdir is benchrun's"},
		{"datadir", `datadir = "/lustre/io500/data"`, "", "config.global.datadir is required"},
		{"mode", `mode = "extended"`, `mode = "scc"`, `mode: "scc" is not one of standard, extended`},
		{"stonewall with fail", "mode = \"extended\"", "mode = \"extended\"\ninvalid = \"fail\"\n[benchmark.workload.config.debug]\nstonewall-time = 5", ""},
		{"srun without slurm", `tasks = 8`, "tasks = 8\nlauncher = \"srun\"", `launcher "srun" needs a [slurm] section`},
		{"local with tasks", `mpirun_args = ["--oversubscribe"]`, `launcher = "local"`, `tasks = 8 needs launcher "mpirun" or "srun"`},
		{"service", `kind = "io500"`, "kind = \"io500\"\nservice = \"x\"", "a io500 benchmark runs a command and drives no service"},
		{"regression metric", `kind = "io500"`, "kind = \"io500\"\nregression = { metrics = [\"score_totl\"] }", `"score_totl" is not a metric of this benchmark`},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := io500Suite
			if c.name == "stonewall with fail" {
				src = strings.Replace(src, "[benchmark.workload.config.debug]\nstonewall-time = 300\n", "", 1)
				c.want = "invalid = \"fail\", but the run cannot be valid: [debug] stonewall-time = 5, a valid run needs 300"
			}
			if !strings.Contains(src, c.old) {
				t.Fatalf("no %q", c.old)
			}
			ps := strings.Join(problems(t, strings.Replace(src, c.old, c.new, 1)), "\n")
			if !strings.Contains(ps, c.want) {
				t.Errorf("problems:\n%s\nwant %q", ps, c.want)
			}
		})
	}
}

// The stonewall-time rule: 300 s, or 30 s with scc; pause-dir and
// files-per-dir invalidate too.
func TestIO500InvalidReasons(t *testing.T) {
	for _, c := range []struct {
		cfg  map[string]map[string]any
		want int
	}{
		{map[string]map[string]any{"debug": {"stonewall-time": int64(300)}}, 0},
		{map[string]map[string]any{"debug": {"stonewall-time": int64(30)}}, 1},
		{map[string]map[string]any{"global": {"scc": true}, "debug": {"stonewall-time": int64(30)}}, 0},
		{map[string]map[string]any{"global": {"scc": true}, "debug": {"stonewall-time": int64(300)}}, 1},
		{map[string]map[string]any{"debug": {"pause-dir": "/tmp/p"}}, 1},
		{map[string]map[string]any{"mdtest-hard": {"files-per-dir": int64(100)}}, 1},
		{nil, 0}, // io500's default stonewall-time is the valid 300
	} {
		w := &IO500Workload{Config: c.cfg}
		if got := w.InvalidReasons(); len(got) != c.want {
			t.Errorf("%v: %q", c.cfg, got)
		}
	}
}

const execSuite = `[suite]
name = "x"

[[benchmark]]
name = "ior"
kind = "exec"
[benchmark.workload]
command = ["ior", "-O", "summaryFormat=JSON"]
parser = "json"
[benchmark.workload.metrics.write_max]
path = "summary.0.bwMaxMIB"
unit = "bytes/s"
scale = 1048576
`

func TestExecProblems(t *testing.T) {
	s, err := Parse("s.toml", []byte(execSuite))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Benchmarks[0].Regression.Metrics; !slices.Equal(got, []string{"write_max"}) {
		t.Errorf("default regression metrics %q", got)
	}
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"no parser", `parser = "json"`, "", "parser is required"},
		{"json without path", `path = "summary.0.bwMaxMIB"`, "", `json metric "write_max" needs a path`},
		{"regex without patterns", `parser = "json"`, `parser = "regex"`, "the regex parser needs patterns"},
		{"regex group missing", "parser = \"json\"", "parser = \"regex\"\npatterns = ['(?P<other>\\d+)']", `metric "write_max" is captured by no pattern`},
		{"ior needs metrics", "parser = \"json\"", "parser = \"ior\"", "name the metrics to compare"},
		{"builtin name", "[benchmark.workload.metrics.write_max]", "[benchmark.workload.metrics.ttft]", `metric "ttft" is one benchrun computes itself`},
		{"dataset", "[benchmark.workload]", "[benchmark.dataset]\nprompt_tokens = 3\n[benchmark.workload]", `unknown key "prompt_tokens"`},
		{"no command", `command = ["ior", "-O", "summaryFormat=JSON"]`, "", "command is required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps := strings.Join(problems(t, strings.Replace(execSuite, c.old, c.new, 1)), "\n")
			if !strings.Contains(ps, c.want) {
				t.Errorf("problems:\n%s\nwant %q", ps, c.want)
			}
		})
	}
}
