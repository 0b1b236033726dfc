package ci

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// io500Fixtures returns ../shared/fixtures/io500 (real io500 outputs),
// found beside the repository or above it; the test is skipped without
// them, unless CI=true.
func io500Fixtures(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("BENCHRUN_IO500_FIXTURES"); d != "" {
		return d
	}
	dir, _ := filepath.Abs(".")
	for {
		p := filepath.Join(dir, "shared", "fixtures", "io500")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		if parent := filepath.Dir(dir); parent != dir {
			dir = parent
			continue
		}
		break
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("the IO500 fixtures (../shared/fixtures/io500) are missing; set BENCHRUN_IO500_FIXTURES")
	}
	t.Skip("skipped: the IO500 fixtures ../shared/fixtures/io500 are not here (set BENCHRUN_IO500_FIXTURES; CI=true makes this a failure)")
	return ""
}

// summaryCase is one case of summary.json with what the batch tests read.
type summaryCase struct {
	ID       string   `json:"id"`
	Verdict  string   `json:"verdict"`
	Warnings []string `json:"warnings"`
	Errors   []string `json:"errors"`
	Metrics  map[string]struct {
		Unit   string  `json:"unit"`
		Better string  `json:"better"`
		Count  int     `json:"count"`
		Mean   float64 `json:"mean"`
		Min    float64 `json:"min"`
	} `json:"metrics"`
	Checks []struct {
		Kind    string `json:"kind"`
		Metric  string `json:"metric"`
		Verdict string `json:"verdict"`
	} `json:"checks"`
}

type batchSummary struct {
	Verdict string        `json:"verdict"`
	Cases   []summaryCase `json:"cases"`
}

// ddSuite runs dd, a real small program, and reads its last stderr line
// with the regex parser.
const ddSuite = `[suite]
name = "dd"

[[benchmark]]
name = "dd"
kind = "exec"
repetitions = 2
thresholds = ["elapsed_seconds.max < 60s", "copied_bytes.min == 1048576"]

[benchmark.workload]
command = ["dd", "if=/dev/zero", "of=zero.bin", "bs=64k", "count=16", "conv=fsync"]
output = "stderr"
parser = "regex"
patterns = ['(?P<copied_bytes>\d+) bytes .* copied, (?P<elapsed_seconds>[0-9.e+-]+) s']

[benchmark.workload.metrics.elapsed_seconds]
unit = "s"

[benchmark.workload.metrics.copied_bytes]
unit = "bytes"
`

// TestExecEndToEnd runs dd twice through the exec kind: one sample per
// run, metrics with declared units in summary.json, thresholds on them,
// and the run's output kept under batch/.
func TestExecEndToEnd(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "dd.toml"), ddSuite)
	r := runBin(t, work, binEnv(), "suite", "-o", "r", "dd.toml")
	if r.code != ExitOK {
		t.Fatalf("%v", r)
	}
	dir := filepath.Join(work, "r")
	var sum batchSummary
	readJSON(t, filepath.Join(dir, "summary.json"), &sum)
	if sum.Verdict != "pass" || len(sum.Cases) != 1 {
		t.Fatalf("summary: %+v", sum)
	}
	c := sum.Cases[0]
	el, by := c.Metrics["elapsed_seconds"], c.Metrics["copied_bytes"]
	if el.Count != 2 || el.Unit != "s" || el.Better != "lower" || el.Mean <= 0 {
		t.Errorf("elapsed_seconds %+v", el)
	}
	if by.Count != 2 || by.Unit != "bytes" || by.Min != 1048576 {
		t.Errorf("copied_bytes %+v", by)
	}
	thresholds := 0
	for _, ck := range c.Checks {
		if ck.Kind == "threshold" && ck.Verdict == "pass" {
			thresholds++
		}
	}
	if thresholds != 2 {
		t.Errorf("checks %+v", c.Checks)
	}
	if strings.Contains(strings.Join(c.Warnings, " "), "p99") {
		t.Errorf("a batch case has the request-latency footnote: %q", c.Warnings)
	}
	if !strings.Contains(r.stderr+r.stdout, "dd: done in ") || !strings.Contains(r.stderr+r.stdout, ", 2 runs, 0 errors") {
		t.Errorf("the progress line does not count runs:\n%s", r.stderr)
	}
	for _, rep := range []string{"rep0", "rep1"} {
		nonEmpty(t, filepath.Join(dir, BatchDir, "dd", rep, "stderr.txt"), filepath.Join(dir, BatchDir, "dd", rep, "zero.bin"))
	}
	for _, f := range []string{"report.md", "report.html", "junit.xml", "metrics.txt"} {
		nonEmpty(t, filepath.Join(dir, f))
	}
}

// A command that fails, outlives its timeout, or prints what its parser
// cannot read makes the case an error and the run exit 2: never zeros.
func TestExecFailuresAreErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"exit status", `command = ["dd", "if=/dev/zero", "of=zero.bin", "bs=64k", "count=16", "conv=fsync"]`, `command = ["sh", "-c", "echo disk full >&2; exit 3"]`, "exited with status 3"},
		{"timeout", `command = ["dd", "if=/dev/zero", "of=zero.bin", "bs=64k", "count=16", "conv=fsync"]`, "command = [\"sleep\", \"30\"]\ntimeout = \"300ms\"", "timed out after 300ms"},
		{"unreadable output", `output = "stderr"`, `output = "stdout"`, "does not match"},
		{"not found", `command = ["dd", "if=/dev/zero", "of=zero.bin", "bs=64k", "count=16", "conv=fsync"]`, `command = ["/nonexistent/bench"]`, "starting /nonexistent/bench"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			if !strings.Contains(ddSuite, c.old) {
				t.Fatalf("suite has no %q", c.old)
			}
			writeFile(t, filepath.Join(work, "s.toml"), strings.Replace(ddSuite, c.old, c.new, 1))
			r := runBin(t, work, binEnv(), "suite", "-o", "r", "s.toml")
			if r.code != ExitError {
				t.Fatalf("exit %d, want %d: %v", r.code, ExitError, r)
			}
			var sum batchSummary
			readJSON(t, filepath.Join(work, "r", "summary.json"), &sum)
			if sum.Verdict != "error" || len(sum.Cases) != 1 || sum.Cases[0].Verdict != "error" || !strings.Contains(strings.Join(sum.Cases[0].Errors, " "), c.want) {
				t.Errorf("summary %+v, want an error with %q", sum, c.want)
			}
			if _, ok := sum.Cases[0].Metrics["elapsed_seconds"]; ok {
				t.Errorf("a failed run has metrics: %+v", sum.Cases[0].Metrics)
			}
		})
	}
}

// io500Suite runs the io500 stand-in (ci/testdata/io500-standin), which
// replays the recorded local io500 run of the fixtures.
func io500Suite(t *testing.T, extra string) string {
	standin, err := filepath.Abs(filepath.Join("testdata", "io500-standin"))
	if err != nil {
		t.Fatal(err)
	}
	fx := io500Fixtures(t)
	return `[suite]
name = "io500"

[[benchmark]]
name = "io500"
kind = "io500"
` + extra + `
[benchmark.workload]
command = ["` + standin + `"]
launcher = "local"
env = { BENCHRUN_IO500_REPLAY = "` + fx + `/local_run/results", BENCHRUN_IO500_REPLAY_STDOUT = "` + fx + `/local_run/io500_stdout.txt" }

[benchmark.workload.config.global]
datadir = "/scratch/io500run/datafiles"
api = "POSIX"

[benchmark.workload.config.debug]
stonewall-time = 300

[benchmark.workload.config.ior-easy]
transferSize = "2m"
blockSize = "2048m"

[benchmark.workload.config.find]
nproc = 1
`
}

// TestIO500StandinLocal runs an io500 benchmark through the stand-in: the
// .ini benchrun writes, io500's results directory under the benchrun
// results, the phases and scores as metrics, and the recorded run's
// invalidity as a labelled warning (io500 exited 0).
func TestIO500StandinLocal(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "io500.toml"), io500Suite(t, ""))
	r := runBin(t, work, binEnv(), "suite", "-o", "r", "io500.toml")
	if r.code != ExitOK {
		t.Fatalf("%v", r)
	}
	dir := filepath.Join(work, "r")
	rep := filepath.Join(dir, BatchDir, "io500", "rep0")
	ini, _ := os.ReadFile(filepath.Join(rep, "config.ini"))
	for _, want := range []string{"[global]\ndatadir = /scratch/io500run/datafiles\n", "resultdir = " + filepath.Join(rep, io500ResultDir) + "\n", "timestamp-resultdir = FALSE\n", "[debug]\nstonewall-time = 300\n", "[ior-easy]\ntransferSize = 2m\nblockSize = 2048m\n"} {
		if !strings.Contains(string(ini), want) {
			t.Errorf("config.ini lacks %q:\n%s", want, ini)
		}
	}
	nonEmpty(t, filepath.Join(rep, io500ResultDir, "result_summary.txt"), filepath.Join(rep, io500ResultDir, "result.txt"), filepath.Join(rep, "stdout.txt"))
	var sum batchSummary
	readJSON(t, filepath.Join(dir, "summary.json"), &sum)
	if len(sum.Cases) != 1 {
		t.Fatalf("%+v", sum)
	}
	c := sum.Cases[0]
	if got := c.Metrics["score_total"]; got.Mean != 7.076875 || got.Better != "higher" {
		t.Errorf("score_total %+v", got)
	}
	if got := c.Metrics["ior_easy_write"]; got.Unit != "bytes/s" || got.Mean != 0.286279*(1<<30) {
		t.Errorf("ior_easy_write %+v", got)
	}
	if got := c.Metrics["ior_easy_write_valid"]; got.Mean != 0 {
		t.Errorf("ior_easy_write_valid %+v", got)
	}
	if got := c.Metrics["procs"]; got.Mean != 1 {
		t.Errorf("procs %+v (the stand-in ran as one process)", got)
	}
	warn := strings.Join(c.Warnings, " ")
	if c.Verdict != "pass" || !strings.Contains(warn, "INVALID IO500 run (io500 exited 0): ") || !strings.Contains(warn, "stonewall-time 5s != 300s") {
		t.Errorf("verdict %s, warnings %q", c.Verdict, c.Warnings)
	}
	if !strings.Contains(r.stdout, "INVALID IO500 run") {
		t.Errorf("the terminal does not show the invalid run:\n%s", r.stdout)
	}
}

// invalid = "fail" makes an invalid run fail its case (exit 1).
func TestIO500InvalidFails(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "io500.toml"), strings.Replace(io500Suite(t, ""), `launcher = "local"`, "launcher = \"local\"\ninvalid = \"fail\"", 1))
	r := runBin(t, work, binEnv(), "suite", "-o", "r", "io500.toml")
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want %d: %v", r.code, ExitFailed, r)
	}
}

// A launcher that starts the wrong number of io500 processes is an
// error, not a smaller run: the suite asks for 4 tasks under mpirun, and
// this mpirun stand-in runs the command once.
func TestIO500ProcessCountChecked(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	os.MkdirAll(bin, 0o755)
	writeFile(t, filepath.Join(bin, "mpirun"), "#!/bin/sh\n# stand-in for mpirun: drops -np N and runs the command once\nshift 2\nexec \"$@\"\n")
	os.Chmod(filepath.Join(bin, "mpirun"), 0o755)
	suite := strings.Replace(io500Suite(t, ""), `launcher = "local"`, "launcher = \"mpirun\"\ntasks = 4", 1)
	writeFile(t, filepath.Join(work, "io500.toml"), suite)
	r := runBin(t, work, binEnv("PATH="+bin+":"+os.Getenv("PATH")), "suite", "-o", "r", "io500.toml")
	if r.code != ExitError || !strings.Contains(r.stdout+r.stderr, "io500 ran with 1 processes, the suite asked for tasks = 4") {
		t.Fatalf("exit %d: %v", r.code, r)
	}
}

// TestIngestIO500 ingests every real io500 results directory of the
// fixtures; the result is a results directory that `benchrun report`
// re-renders and `benchrun baseline promote` accepts, and a second
// ingest of the same run compares with that baseline.
func TestIngestIO500(t *testing.T) {
	t.Parallel()
	fx := io500Fixtures(t)
	for _, c := range []struct {
		name, path string
		total      float64
		valid      bool
	}{
		{"local", "local_run/results", 7.076875, false},
		{"helios", "lustre_cyfronet_helios_2024_sub708/results", 153.386640, true},
		{"extended", "extended_beegfs_gwdg_scc_2021_sub582", 12.549643, true},
		{"legacy", "legacy_lustre_dkrz_mistral_2019_sub137/results", 15.4708, true},
		{"stdout file", "local_run/io500_stdout.txt", 7.076875, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			tmp := filepath.Join(work, "tmp") // the suite written for the run goes there, and is removed
			if err := os.Mkdir(tmp, 0o755); err != nil {
				t.Fatal(err)
			}
			env := append(binEnv(), "TMPDIR="+tmp)
			defer func() {
				if left, _ := os.ReadDir(tmp); len(left) > 0 {
					t.Errorf("ingest left %s in TMPDIR", left[0].Name())
				}
			}()
			r := runBin(t, work, env, "ingest", "io500", "-o", "r1", filepath.Join(fx, c.path))
			if r.code != ExitOK {
				t.Fatalf("ingest: %v", r)
			}
			dir := filepath.Join(work, "r1")
			for _, f := range []string{"summary.json", "report.md", "report.html", "junit.xml", "metrics.txt", "manifest.json", "suite.toml"} {
				nonEmpty(t, filepath.Join(dir, f))
			}
			var sum batchSummary
			readJSON(t, filepath.Join(dir, "summary.json"), &sum)
			if len(sum.Cases) != 1 || sum.Cases[0].Metrics["score_total"].Mean != c.total {
				t.Fatalf("summary %+v", sum)
			}
			if got := sum.Cases[0].Metrics["valid"].Mean == 1; got != c.valid {
				t.Errorf("valid %v, want %v", got, c.valid)
			}
			if r := runBin(t, work, env, "report", "r1"); r.code != ExitOK {
				t.Fatalf("report: %v", r)
			}
			promote := []string{"baseline", "promote", "--baselines", "b", "r1"}
			if !c.valid {
				// An invalid run is no baseline unless forced.
				r := runBin(t, work, env, promote...)
				if r.code != ExitOK || !strings.Contains(r.stdout+r.stderr, "IO500 marked its runs invalid") {
					t.Fatalf("promote of an invalid run: %v", r)
				}
				files, _ := filepath.Glob(filepath.Join(work, "b", "*.json"))
				for _, f := range files {
					if b, _ := os.ReadFile(f); strings.Contains(string(b), "score_total") {
						t.Fatalf("an invalid run became the baseline %s:\n%s", f, b)
					}
				}
				promote = append([]string{"baseline", "promote", "--force"}, promote[2:]...)
			}
			if r := runBin(t, work, env, promote...); r.code != ExitOK {
				t.Fatalf("promote: %v", r)
			}
			r = runBin(t, work, env, "ingest", "io500", "-o", "r2", "--baselines", "b", filepath.Join(fx, c.path))
			if r.code != ExitOK {
				t.Fatalf("second ingest: %v", r)
			}
			var again batchSummary
			readJSON(t, filepath.Join(work, "r2", "summary.json"), &again)
			compared := 0
			for _, ck := range again.Cases[0].Checks {
				if ck.Kind == "regression" && ck.Metric == "score_total" {
					compared++
					if ck.Verdict != "pass" {
						t.Errorf("the same run against its own baseline: %+v", ck)
					}
				}
			}
			if compared != 1 {
				t.Errorf("score_total not compared with the baseline: %+v", again.Cases[0].Checks)
			}
		})
	}
}

// Output benchrun cannot read is an error naming file and line; nothing is
// written.
func TestIngestUnknownFormat(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "out.txt"), "hello\n[RESULT] what is this\n")
	r := runBin(t, work, binEnv(), "ingest", "io500", "-o", "r", "out.txt")
	if r.code != ExitError || !strings.Contains(r.stderr, "out.txt:2: not an IO500 result line") {
		t.Fatalf("%v", r)
	}
	if _, err := os.Stat(filepath.Join(work, "r", "summary.json")); err == nil {
		t.Error("a summary was written")
	}
}

// ingest exec reads standalone IOR output.
func TestIngestExecIOR(t *testing.T) {
	t.Parallel()
	fx := io500Fixtures(t)
	work := t.TempDir()
	r := runBin(t, work, binEnv(), "ingest", "exec", "--parser", "ior", "-o", "r", filepath.Join(fx, "local_run/standalone/ior_posix_fpp_i3.txt"))
	if r.code != ExitOK {
		t.Fatalf("%v", r)
	}
	var sum batchSummary
	readJSON(t, filepath.Join(work, "r", "summary.json"), &sum)
	if m := sum.Cases[0].Metrics["write_bw_max"]; m.Unit != "bytes/s" || m.Mean != 1738.10*(1<<20) {
		t.Errorf("write_bw_max %+v", m)
	}
}

// An exec case with an image runs its command in `apptainer exec` with the
// binds, here through the named apptainer stand-in
// (ci/testdata/apptainer-standin), which records the call and runs the
// command without a container. Without the image the stand-in is never
// called.
func TestExecApptainerStandin(t *testing.T) {
	t.Parallel()
	standin, err := filepath.Abs(filepath.Join("testdata", "apptainer-standin"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	log := filepath.Join(work, "apptainer.log")
	suite := strings.Replace(ddSuite, `output = "stderr"`, "output = \"stderr\"\nimage = \"/images/dd.sif\"\nbinds = [\"/tmp:/scratch\", \"/data\"]", 1)
	writeFile(t, filepath.Join(work, "dd.toml"), suite)
	env := binEnv("PATH="+standin+string(os.PathListSeparator)+os.Getenv("PATH"), "APPTAINER_STANDIN_LOG="+log)
	r := runBin(t, work, env, "suite", "-o", "r", "dd.toml")
	if r.code != ExitOK {
		t.Fatalf("%v", r)
	}
	calls, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("the apptainer stand-in was never called: %v", err)
	}
	want := " exec --bind /tmp:/scratch --bind /data /images/dd.sif -- dd if=/dev/zero of=zero.bin bs=64k count=16 conv=fsync\n"
	if n := strings.Count(string(calls), want); n != 2 {
		t.Errorf("apptainer calls (want 2, one per repetition, ending %q):\n%s", want, calls)
	}
	var sum batchSummary
	readJSON(t, filepath.Join(work, "r", "summary.json"), &sum)
	if m := sum.Cases[0].Metrics["copied_bytes"]; m.Count != 2 || m.Min != 1048576 {
		t.Errorf("copied_bytes %+v", m)
	}
	plan := runBin(t, work, env, "plan", "dd.toml")
	if !strings.Contains(plan.stdout, "run: apptainer exec --bind /tmp:/scratch --bind /data /images/dd.sif dd ") {
		t.Errorf("plan does not show the apptainer command:\n%s", plan.stdout)
	}
}

// --mode=extended end to end: benchrun passes the mode to io500 (the
// stand-in, replaying the recorded extended run of the fixtures), checks
// the mode io500 reports, and records the [SCOREX] scores as metrics.
func TestIO500StandinExtended(t *testing.T) {
	t.Parallel()
	fx := io500Fixtures(t)
	work := t.TempDir()
	suite := io500Suite(t, "")
	env := `env = { BENCHRUN_IO500_REPLAY = "` + fx + `/local_run/results", BENCHRUN_IO500_REPLAY_STDOUT = "` + fx + `/local_run/io500_stdout.txt" }`
	if !strings.Contains(suite, env) {
		t.Fatalf("suite has no %q", env)
	}
	suite = strings.Replace(suite, env, "mode = \"extended\"\nenv = { BENCHRUN_IO500_REPLAY = \""+fx+"/extended_beegfs_gwdg_scc_2021_sub582\" }", 1)
	writeFile(t, filepath.Join(work, "io500.toml"), suite)
	r := runBin(t, work, binEnv(), "suite", "-o", "r", "io500.toml")
	if r.code != ExitOK {
		t.Fatalf("%v", r)
	}
	var sum batchSummary
	readJSON(t, filepath.Join(work, "r", "summary.json"), &sum)
	c := sum.Cases[0]
	for name, want := range map[string]float64{"scorex_bandwidth": 1.958556 * (1 << 30), "scorex_total": 12.662357, "score_total": 12.549643} {
		if m := c.Metrics[name]; m.Count != 1 || math.Abs(m.Mean-want) > 1e-9*want || m.Better != "higher" {
			t.Errorf("%s %+v, want %v", name, m, want)
		}
	}
	if m := c.Metrics["scorex_metadata"]; m.Count != 1 || m.Mean <= 0 {
		t.Errorf("scorex_metadata %+v", m)
	}
	if plan := runBin(t, work, binEnv(), "plan", "io500.toml"); !strings.Contains(plan.stdout, "config.ini' --mode=extended (extended mode") {
		t.Errorf("plan does not run io500 --mode=extended:\n%s", plan.stdout)
	}
	// Asked for standard, the same extended run is an error, not a
	// standard result.
	writeFile(t, filepath.Join(work, "std.toml"), strings.Replace(suite, "mode = \"extended\"\n", "", 1))
	if r := runBin(t, work, binEnv(), "suite", "-o", "r2", "std.toml"); r.code != ExitError || !strings.Contains(r.stdout+r.stderr, "io500 ran in extended mode, the suite asked for standard") {
		t.Errorf("standard suite on an extended run: %v", r)
	}
}

// TestBatchOneRunRegressionFails: a batch benchmark of one repetition
// (io500's nightly run) has one value per metric on each side of a
// baseline comparison; a score that halved was "inconclusive" (no test
// possible) and the run passed. The tolerance decides now: exit 1.
func TestBatchOneRunRegressionFails(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	scoreFile := filepath.Join(work, "score.txt")
	writeFile(t, filepath.Join(work, "s.toml"), `[suite]
name = "one"

[[benchmark]]
name = "score"
kind = "exec"

[benchmark.workload]
command = ["cat", "`+scoreFile+`"]
parser = "regex"
patterns = ['score (?P<score>[0-9.]+)']

[benchmark.regression]
metrics = ["score"]
`)
	if err := os.MkdirAll(filepath.Join(work, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := binEnv()
	writeFile(t, scoreFile, "score 100\n")
	if r := runBin(t, work, env, "suite", "-o", "r1", "--baselines", "b", "s.toml"); r.code != ExitOK {
		t.Fatalf("first run: %v", r)
	}
	if r := runBin(t, work, env, "baseline", "promote", "--baselines", "b", "r1"); r.code != ExitOK {
		t.Fatalf("promote: %v", r)
	}
	for _, c := range []struct {
		score string
		code  int
	}{{"50", ExitFailed}, {"101", ExitOK}} {
		writeFile(t, scoreFile, "score "+c.score+"\n")
		r := runBin(t, work, env, "suite", "-o", "r-"+c.score, "--baselines", "b", "s.toml")
		if r.code != c.code {
			t.Errorf("score %s against a baseline of 100: exit %d, want %d: %v", c.score, r.code, c.code, r)
		}
	}
}

// TestExecStaleOutputIsError: an exec benchmark whose output is a file in
// a directory of its own (dir, output) and whose command exits 0 without
// writing it read the file an earlier run left there as its own result.
// A file the run left as it was is an error now; one it rewrote is read.
func TestExecStaleOutputIsError(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	suite := func(command string) string {
		return `[suite]
name = "stale"

[[benchmark]]
name = "s"
kind = "exec"

[benchmark.workload]
command = ` + command + `
dir = "."
output = "out.txt"
parser = "regex"
patterns = ['score (?P<score>[0-9.]+)']

[benchmark.regression]
disable = true
`
	}
	old := time.Now().Add(-time.Hour)
	for _, c := range []struct {
		name, command string
		code          int
		want          string
	}{
		{"not written", `["true"]`, ExitError, "out.txt was not written by this run"},
		{"rewritten", `["sh", "-c", "echo score 2 > out.txt"]`, ExitOK, ""},
	} {
		writeFile(t, filepath.Join(work, "out.txt"), "score 1\n")
		if err := os.Chtimes(filepath.Join(work, "out.txt"), old, old); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(work, "s.toml"), suite(c.command))
		r := runBin(t, work, binEnv(), "suite", "-o", "r-"+strings.ReplaceAll(c.name, " ", "-"), "s.toml")
		if r.code != c.code || !strings.Contains(r.stdout+r.stderr, c.want) {
			t.Errorf("%s: exit %d, want %d with %q: %v", c.name, r.code, c.code, c.want, r)
		}
	}
}
