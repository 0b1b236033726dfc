package ci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests run the built binary: `benchrun suite` starts the
// emulator as `os.Executable() emulate vllm ...`, which must be benchrun.

// binEnv is the environment for the binary: the test's, without
// BENCHRUN_* or NO_COLOR settings that would change what it does.
func binEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "BENCHRUN_") || strings.HasPrefix(kv, "NO_COLOR=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// runBin runs the benchrun binary in dir and waits at most two minutes.
func runBin(t *testing.T, dir string, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, benchrunBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		t.Fatalf("benchrun %s: %v\n%v", strings.Join(args, " "), err, r)
	}
	return r
}

// checkBaselineCDFs checks that run dir's summary and report.html carry
// the baseline's TTFT and e2e distributions for every case (want), or
// none at all.
func checkBaselineCDFs(t *testing.T, dir string, want bool) {
	t.Helper()
	var sum struct {
		Cases []struct {
			ID           string                     `json:"id"`
			BaselineCDFs map[string]json.RawMessage `json:"baseline_cdfs"`
		} `json:"cases"`
	}
	readJSON(t, filepath.Join(dir, "summary.json"), &sum)
	for _, c := range sum.Cases {
		if got := c.BaselineCDFs["ttft"] != nil && c.BaselineCDFs["e2e"] != nil; got != want || (!want && len(c.BaselineCDFs) > 0) {
			t.Errorf("%s: case %s baseline_cdfs %v, want them: %v", dir, c.ID, c.BaselineCDFs, want)
		}
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if got := bytes.Contains(html, []byte("· baseline (")); got != want {
		t.Errorf("%s: report.html draws a baseline distribution: %v, want %v", dir, got, want)
	}
}

// copySuite writes testdata/demo-short.toml into dir as name, with
// replacements (old, new, ...) applied.
func copySuite(t *testing.T, dir, name string, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "demo-short.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("testdata/demo-short.toml has no %q", replace[i])
		}
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// summaryFile is the part of summary.json the tests look at.
type summaryFile struct {
	Suite      string `json:"suite"`
	Verdict    string `json:"verdict"`
	Incomplete bool   `json:"incomplete"`
	Cases      []struct {
		ID      string `json:"id"`
		Verdict string `json:"verdict"`
	} `json:"cases"`
}

// manifestFile is the part of manifest.json the tests look at.
type manifestFile struct {
	Incomplete bool   `json:"incomplete"`
	Reason     string `json:"reason"`
	Services   []struct {
		Name string `json:"name"`
		URL  string `json:"url"`
		Log  string `json:"log"`
	} `json:"services"`
	Cases []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"cases"`
}

// nonEmpty fails unless every path exists and has content.
func nonEmpty(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("missing: %v", err)
		} else if st.Size() == 0 {
			t.Errorf("empty: %s", p)
		}
	}
}

func sampleFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "samples", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestDemoEndToEnd is the README's demo flow: run, re-render, promote,
// run slower, see the regression, compare, export, refuse to overwrite.
func TestDemoEndToEnd(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	copySuite(t, work, "demo.toml")
	env := binEnv()

	// Global flag after the command.
	r := runBin(t, work, env, "suite", "-o", "r1", "demo.toml")
	if r.code != ExitOK {
		t.Fatalf("first run: %v", r)
	}
	if !strings.Contains(r.stdout, "PASS") {
		t.Errorf("first run does not say PASS: %v", r)
	}
	r1 := filepath.Join(work, "r1")
	for _, f := range []string{"summary.json", "report.md", "report.html", "junit.xml", "metrics.txt", "manifest.json", "suite.toml", "logs/llm.log"} {
		nonEmpty(t, filepath.Join(r1, f))
	}
	samples := sampleFiles(t, r1)
	if len(samples) != 2 {
		t.Errorf("want 2 sample files (users=4, users=16), got %q", samples)
	}
	nonEmpty(t, samples...)
	var sum1 summaryFile
	readJSON(t, filepath.Join(r1, "summary.json"), &sum1)
	if sum1.Verdict != "pass" || sum1.Incomplete || len(sum1.Cases) != 2 {
		t.Errorf("summary.json: %+v", sum1)
	}
	var m1 manifestFile
	readJSON(t, filepath.Join(r1, "manifest.json"), &m1)
	if m1.Incomplete || len(m1.Cases) != 2 {
		t.Errorf("manifest.json: %+v", m1)
	}
	for _, c := range m1.Cases {
		if c.Status != "done" {
			t.Errorf("case %s: status %q, want done", c.ID, c.Status)
		}
	}
	if log, _ := os.ReadFile(filepath.Join(r1, "logs", "llm.log")); !bytes.Contains(log, []byte("listening on")) {
		t.Errorf("logs/llm.log does not show the emulator listening:\n%s", log)
	}
	if junit, _ := os.ReadFile(filepath.Join(r1, "junit.xml")); !bytes.Contains(junit, []byte("<testsuite")) {
		t.Errorf("junit.xml has no testsuite:\n%.500s", junit)
	}

	// Re-render without re-running.
	before, _ := os.Stat(filepath.Join(r1, "report.md"))
	r = runBin(t, work, env, "report", "r1")
	if r.code != ExitOK {
		t.Fatalf("report: %v", r)
	}
	var again summaryFile
	readJSON(t, filepath.Join(r1, "summary.json"), &again)
	if again.Verdict != sum1.Verdict || len(again.Cases) != len(sum1.Cases) {
		t.Errorf("report re-rendered a different summary: %+v, was %+v", again, sum1)
	}
	if after, err := os.Stat(filepath.Join(r1, "report.md")); err != nil || before == nil || after.ModTime().Before(before.ModTime()) {
		t.Errorf("report.md not rewritten: %v", err)
	}
	if got := sampleFiles(t, r1); len(got) != len(samples) {
		t.Errorf("report changed the samples: %q", got)
	}

	// Promote, then run 30% slower against that baseline.
	r = runBin(t, work, env, "baseline", "promote", "r1", "--baselines", "B")
	if r.code != ExitOK {
		t.Fatalf("baseline promote: %v", r)
	}
	nonEmpty(t, filepath.Join(work, "B", "demo.json"))
	r = runBin(t, work, env, "baseline", "show", "demo", "--baselines", "B")
	// The metrics the demo compares (e2e.p50 is not a default one).
	if r.code != ExitOK || !strings.Contains(r.stdout, "chat/users=16") || !strings.Contains(r.stdout, "e2e.p50") {
		t.Errorf("baseline show: want the demo's compared metrics, e2e.p50 among them: %v", r)
	}

	// Global flags before the command.
	r = runBin(t, work, binEnv("BENCHRUN_EMULATE_SLOWDOWN=1.3"), "-q", "-o", "r2", "--baselines", "B", "suite", "demo.toml")
	if r.code != ExitFailed {
		t.Fatalf("slowed-down run: exit %d, want %d: %v", r.code, ExitFailed, r)
	}
	if !strings.Contains(r.stdout, "regression") {
		t.Errorf("slowed-down run does not name a regression: %v", r)
	}
	if log, _ := os.ReadFile(filepath.Join(work, "r2", "logs", "llm.log")); !bytes.Contains(log, []byte("slowdown 1.3")) {
		t.Errorf("the emulator did not get the slowdown:\n%s", log)
	}
	var sum2 summaryFile
	readJSON(t, filepath.Join(work, "r2", "summary.json"), &sum2)
	if sum2.Verdict != "fail" {
		t.Errorf("r2 summary verdict %q, want fail", sum2.Verdict)
	}

	checkBaselineCDFs(t, filepath.Join(work, "r2"), true)
	// The baseline made incomparable (another model): re-rendered, r2
	// shows no baseline distribution.
	editJSON(t, filepath.Join(work, "B", "demo.json"), func(f map[string]any) {
		for _, e := range f["benchmarks"].(map[string]any)["chat"].(map[string]any) {
			e.(map[string]any)["fingerprint"].(map[string]any)["model"] = "another-model"
		}
	})
	if r = runBin(t, work, env, "report", "r2", "--baselines", "B"); r.code != ExitOK {
		t.Fatalf("report r2 against an incomparable baseline: %v", r)
	}
	checkBaselineCDFs(t, filepath.Join(work, "r2"), false)

	// The first directory is the reference (benchstat's old new).
	r = runBin(t, work, env, "compare", "r1", "r2")
	if r.code != ExitFailed || !strings.Contains(r.stdout, "regression") || strings.Contains(r.stderr, "warning") {
		t.Errorf("compare r1 r2: want exit %d naming a regression, no warning: %v", ExitFailed, r)
	}
	// The old order: r1 judged against the slower r2 is an improvement,
	// never a regression, and the reversed order is warned about.
	r = runBin(t, work, env, "compare", "r2", "r1")
	if r.code != ExitOK || strings.Contains(r.stdout, "regression") || !strings.Contains(r.stderr, "the reference r2 (the first directory) started after r1") {
		t.Errorf("compare r2 r1: want r1 judged against r2 with a warning on the order: %v", r)
	}
	if r = runBin(t, work, env, "compare", "no-such-run", "r2"); r.code != ExitUsage || !strings.Contains(r.stderr, "the first directory is the reference, and no-such-run is not a results directory") {
		t.Errorf("compare with a BASE that is not a run: want exit %d naming it: %v", ExitUsage, r)
	}

	r = runBin(t, work, env, "export", "--format", "csv", "r1")
	if r.code != ExitOK {
		t.Errorf("export: %v", r)
	}
	nonEmpty(t, filepath.Join(r1, "export", "cases.csv"), filepath.Join(r1, "export", "samples.csv"))
	to := filepath.Join(work, "json-export")
	r = runBin(t, work, env, "export", "r1", "--format", "json", "--to", to)
	if r.code != ExitOK {
		t.Errorf("export json: %v", r)
	}
	nonEmpty(t, filepath.Join(to, "cases.json"), filepath.Join(to, "samples.jsonl"))

	// A run killed mid-case (its manifest still says "running", no end):
	// `report` judges it cut short, an execution error, not a pass.
	killed := filepath.Join(work, "killed")
	copyDir(t, r1, killed)
	editJSON(t, filepath.Join(killed, "manifest.json"), func(m map[string]any) {
		delete(m, "end")
		cases := m["cases"].([]any)
		cases[len(cases)-1].(map[string]any)["status"] = "running"
	})
	r = runBin(t, work, env, "report", "killed")
	if r.code != ExitError || !strings.Contains(r.stderr+r.stdout, "still running") {
		t.Errorf("report on a killed run: want exit %d saying a case is still running: %v", ExitError, r)
	}
	var ks summaryFile
	readJSON(t, filepath.Join(killed, "summary.json"), &ks)
	if !ks.Incomplete || ks.Verdict != "error" {
		t.Errorf("killed run's summary: %+v, want incomplete, error", ks)
	}
	if r = runBin(t, work, env, "baseline", "promote", "killed", "--baselines", "K"); r.code != ExitError || !strings.Contains(r.stderr, "incomplete") {
		t.Errorf("promoting a killed run: want exit %d saying it is incomplete: %v", ExitError, r)
	}
	if r = runBin(t, work, env, "compare", "r2", "--baselines", "no-such-dir"); r.code != ExitError || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("compare with a --baselines directory that does not exist: want exit %d: %v", ExitError, r)
	}

	// A run the user stopped keeps its exit status when re-rendered.
	stopped := filepath.Join(work, "stopped")
	copyDir(t, r1, stopped)
	editJSON(t, filepath.Join(stopped, "manifest.json"), func(m map[string]any) {
		m["incomplete"], m["reason"] = true, "interrupted"
	})
	if r = runBin(t, work, env, "report", "stopped"); r.code != ExitInterrupted {
		t.Errorf("report on an interrupted run: exit %d, want %d: %v", r.code, ExitInterrupted, r)
	}

	// A base directory whose suite does not load cannot be compared with.
	broken := filepath.Join(work, "broken")
	copyDir(t, r1, broken)
	f, err := os.OpenFile(filepath.Join(broken, "suite.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\nbogus_key = 1\n")
	f.Close()
	if r = runBin(t, work, env, "compare", "broken", "r2"); r.code != ExitError || !strings.Contains(r.stderr, "bogus_key") {
		t.Errorf("compare with a base whose suite does not load: want exit %d naming the problem: %v", ExitError, r)
	}

	// Several runs in one table, the first the reference: r1 against
	// itself passes, the slowed-down r2 is a regression (exit 1); a run
	// killed mid-case adds an error column (exit 2), never a pass.
	r = runBin(t, work, env, "compare", "r1", "r1", "r2")
	if r.code != ExitFailed {
		t.Errorf("compare r1 r1 r2: exit %d, want %d: %v", r.code, ExitFailed, r)
	}
	for _, want := range []string{"R1 (REFERENCE)", "│ R2 ", "+0.0% ✅ pass", "❌ regression", "r1: benchrun: PASS", "r2: benchrun: FAIL"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("compare r1 r1 r2 lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runBin(t, work, env, "compare", "r1", "r2", "killed")
	if r.code != ExitError || !strings.Contains(r.stdout, "error") || !strings.Contains(r.stdout, "killed: benchrun: ERROR") {
		t.Errorf("compare r1 r2 killed: want exit %d with an error column: %v", ExitError, r)
	}

	// A results directory that holds a run is never appended to.
	r = runBin(t, work, env, "suite", "-o", "r1", "demo.toml")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "already holds a run") {
		t.Errorf("suite into an existing results dir: want exit %d: %v", ExitUsage, r)
	}
	var still manifestFile
	readJSON(t, filepath.Join(r1, "manifest.json"), &still)
	if still.Incomplete || len(still.Cases) != 2 {
		t.Errorf("refused run touched r1/manifest.json: %+v", still)
	}
}

// TestInterruptedRun stops a run in the middle of a long case with two
// SIGTERMs (as SLURM and the job script deliver a stop): the run exits
// 130, stops the emulator, keeps the samples and writes reports marked
// incomplete.
func TestInterruptedRun(t *testing.T) {
	t.Parallel()
	bin := benchrunBinary(t)
	work := t.TempDir()
	model := fmt.Sprintf("sigint-test-%d", os.Getpid())
	copySuite(t, work, "long.toml", `duration = "2s"`, `duration = "60s"`, `model = "demo-model"`, `model = "`+model+`"`)

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "suite", "long.toml", "-o", "r")
	cmd.Dir = work
	cmd.Env = binEnv()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed when benchrun has exited; waitErr is then set.
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})
	dir := filepath.Join(work, "r")

	// Wait until the first case has written samples.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if files := sampleFiles(t, dir); len(files) > 0 {
			if st, err := os.Stat(files[0]); err == nil && st.Size() > 0 {
				break
			}
		}
		select {
		case <-exited:
			t.Fatalf("benchrun exited before any sample: %v\n%s\n%s", waitErr, stdout.String(), stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no samples after 60s\n%s", stderr.String())
		}
	}
	emulator := findProcess(t, model)
	if emulator != 0 {
		t.Cleanup(func() { syscall.Kill(emulator, syscall.SIGKILL) }) // only if the test failed to see it stop
	}
	var m manifestFile
	readJSON(t, filepath.Join(dir, "manifest.json"), &m)
	if len(m.Services) != 1 || m.Services[0].URL == "" {
		t.Fatalf("manifest.json names no service URL: %+v", m)
	}
	addr := strings.TrimPrefix(m.Services[0].URL, "http://")
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err != nil {
		t.Fatalf("the emulator does not answer at %s while the run is going: %v", addr, err)
	} else {
		c.Close()
	}

	// A stop as SLURM delivers it: SIGTERM to every process of the job
	// step, and the job script forwards it again. The second is the same
	// stop, not a "kill now".
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // while it stops the load and the emulator
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) || ee.ExitCode() != ExitInterrupted {
			t.Errorf("after SIGTERM twice: %v, want exit %d\n%s\n%s", waitErr, ExitInterrupted, stdout.String(), stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("benchrun still running 30s after SIGTERM\n%s", stderr.String())
	}

	// The emulator is gone: its process and its port.
	if emulator != 0 && !gone(emulator, 10*time.Second) {
		t.Errorf("emulator pid %d still running after benchrun exited", emulator)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("something still listens at %s after benchrun exited", addr)
	}

	files := sampleFiles(t, dir)
	if len(files) == 0 {
		t.Fatal("no sample files kept")
	}
	nonEmpty(t, files...)
	nonEmpty(t, filepath.Join(dir, "summary.json"), filepath.Join(dir, "report.md"), filepath.Join(dir, "report.html"))
	readJSON(t, filepath.Join(dir, "manifest.json"), &m)
	if !m.Incomplete || m.Reason != "interrupted" {
		t.Errorf("manifest.json: incomplete=%t reason=%q, want true, interrupted", m.Incomplete, m.Reason)
	}
	statuses := map[string]string{}
	for _, c := range m.Cases {
		statuses[c.ID] = c.Status
	}
	if statuses["chat/users=16"] != "skipped" {
		t.Errorf("the case that never started: status %q, want skipped", statuses["chat/users=16"])
	}
	var sum summaryFile
	readJSON(t, filepath.Join(dir, "summary.json"), &sum)
	if !sum.Incomplete {
		t.Errorf("summary.json not marked incomplete: %+v", sum)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !bytes.Contains(bytes.ToLower(md), []byte("incomplete")) {
		t.Errorf("report.md does not say the run is incomplete:\n%.1000s", md)
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say the run was interrupted:\n%s", stderr.String())
	}
}

// copyDir copies a results directory tree.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// editJSON rewrites a JSON file through edit.
func editJSON(t *testing.T, path string, edit func(map[string]any)) {
	t.Helper()
	var m map[string]any
	readJSON(t, path, &m)
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// findProcess returns the pid of the process whose command line contains
// marker, or 0 (and logs why) where /proc cannot tell.
func findProcess(t *testing.T, marker string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Logf("no /proc (%v): checking the port only", err)
		return 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		argv := strings.Split(string(b), "\x00")
		if len(argv) > 1 && argv[1] == "emulate" && strings.Contains(string(b), "\x00"+marker+"\x00") {
			return pid
		}
	}
	t.Errorf("no emulate process with %q in its command line", marker)
	return 0
}

// gone waits until pid no longer exists (a zombie counts as gone: its
// parent is the one to reap it).
func gone(pid int, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if _, rest, ok := strings.Cut(string(b), ") "); ok && strings.HasPrefix(rest, "Z") {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKeyInNoOutput: a server that echoes the API key and the
// Authorization header in its 401 bodies does not get the key into any
// file of the results directory (samples, summary.json, every report,
// logs) nor into benchrun's output.
func TestKeyInNoOutput(t *testing.T) {
	t.Parallel()
	const key = "sk-live-9f8e7d6c5b4a39281706"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" {
			return
		}
		http.Error(w, fmt.Sprintf(`{"error":{"message":"invalid api key %s (Authorization: %s)"}}`, key, r.Header.Get("Authorization")), http.StatusUnauthorized)
	}))
	defer srv.Close()
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "s.toml"), fmt.Sprintf(`schema_version = 1
[suite]
name = "secret"
[[service]]
name = "llm"
kind = "vllm"
model = "m"
url = %q
[[benchmark]]
name = "chat"
service = "llm"
  [benchmark.workload]
  users = 2
  requests = 20
  api_key_env = "BENCHRUN_TEST_API_KEY"
  [benchmark.dataset]
  prompt_tokens = 16
  output_tokens = 8
`, srv.URL))
	r := runBin(t, work, binEnv("BENCHRUN_TEST_API_KEY="+key), "suite", "-o", "r", "s.toml")
	if r.code != ExitError {
		t.Errorf("every request refused: want exit %d: %v", ExitError, r)
	}
	const part = "9f8e7d6c5b4a" // no piece of the key either
	if strings.Contains(r.stdout+r.stderr, part) {
		t.Errorf("benchrun's output holds the key: %v", r)
	}
	files := 0
	filepath.WalkDir(filepath.Join(work, "r"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(part)) {
			t.Errorf("%s holds the key", path)
		}
		return nil
	})
	samples, _ := filepath.Glob(filepath.Join(work, "r", "samples", "*.jsonl"))
	if len(samples) == 0 || !exists(filepath.Join(work, "r", "report.html")) {
		t.Fatalf("no samples or no report.html among %d files: %v", files, r)
	}
	if b, _ := os.ReadFile(samples[0]); !bytes.Contains(b, []byte("[REDACTED]")) {
		t.Errorf("the samples do not carry the server's (redacted) answer: %.300s", b)
	}
}
