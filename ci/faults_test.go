package ci

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/emulate"
	"github.com/benchrun/benchrun/runner/results"
)

// faultRow is one fault of TestFaultMatrix: run produces it against the
// built binary and returns the benchrun run whose outcome want
// describes (for the rows that end with `benchrun report DIR`, that
// one). docs/reliability.md, "Fault matrix", lists the rows.
type faultRow struct {
	name string
	run  func(t *testing.T, f *faultRun) cliResult
	want faultWant
	// check, when set, checks what is particular to the row.
	check func(t *testing.T, f *faultRun, r cliResult)
}

// faultWant is what a row's run must show.
type faultWant struct {
	code  int      // the exit code; -1 never passes (benchrun killed by a signal)
	shows []string // each in the terminal output (stdout or stderr)
	// reports: summary.json, report.md, report.html and junit.xml exist,
	// summary.json's verdict is verdict and its incomplete flag
	// incomplete. Without reports, no results directory may exist
	// (the fault was refused before anything started) unless samples
	// is set.
	reports    bool
	verdict    string
	incomplete bool
	class      string // an error class some case's error rate counts (error_rate_<class> > 0)
	label      string // name/test of a saturation label some case carries
	caseError  string // in the errors of some case of summary.json
	samples    bool   // a samples file kept with content
	// settle is how long the services and reapers may take to be gone
	// after run returns: 3s unless set (a SIGKILLed benchrun leaves the
	// stop to its reapers, which take a service's stop grace).
	settle time.Duration
}

// faultRun is the state of one row: its working directory, where
// benchrun runs and writes its results to dir.
type faultRun struct {
	bin, work, dir string
	// Marker is unique to the row: the emulator's model name, so the row
	// finds its processes. The other fields fill the suite templates.
	Marker, URL, Bin, Duration, Thresholds string
	Port, Users                            int
}

// TestFaultMatrix produces each fault of issue 11's matrix against the
// built binary and the emulator (or a server of the test's own) and
// checks, for each: the exit code, how the fault is classified in the
// terminal and summary.json, that the samples measured before it are
// kept, that the reports are written where they can be, and that no
// process is left behind (services, their children and the reapers,
// found by working directory and marker; their ports closed).
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	bin := benchrunBinary(t)
	rows := []faultRow{
		{name: "service never ready", run: suiteRun("never-ready.toml"), want: faultWant{code: ExitError,
			shows: []string{"did not start (llm)", "not ready after 1s"}, reports: true, verdict: analysis.Error,
			caseError: `service "llm": not ready after 1s`}},
		// No error class is required here: the case may stop at the exit,
		// before any request fails to connect.
		{name: "started service killed mid-case", run: faultKillService, want: faultWant{code: ExitError,
			shows: []string{`service "llm"`}, reports: true, verdict: analysis.Error,
			caseError: `service "llm"`, samples: true}},
		{name: "external service killed mid-case", run: faultKillExternal, want: faultWant{code: ExitError,
			shows: []string{`service "llm"`}, reports: true, verdict: analysis.Error, class: results.ErrConnect,
			caseError: `service "llm"`, samples: true}},
		{name: "5xx burst", run: suiteRun("burst.toml"), want: faultWant{code: ExitFailed,
			shows: []string{"FAIL", "error_rate"}, reports: true, verdict: analysis.Fail, class: results.ErrHTTP5xx, samples: true}},
		{name: "429 with Retry-After", run: faultRateLimited, check: checkRetryAfter, want: faultWant{code: ExitFailed,
			shows: []string{"FAIL", "error_rate_rate_limited"}, reports: true, verdict: analysis.Fail, class: results.ErrRateLimited, samples: true}},
		{name: "stream cut", run: suiteRun("stream-cut.toml"), want: faultWant{code: ExitFailed,
			shows: []string{"FAIL", "error_rate"}, reports: true, verdict: analysis.Fail, class: results.ErrStreamTruncated, samples: true}},
		{name: "stalled stream", run: suiteRun("stall.toml"), want: faultWant{code: ExitFailed,
			shows: []string{"FAIL", "error_rate"}, reports: true, verdict: analysis.Fail, class: results.ErrTimeout, samples: true}},
		{name: "client out of file descriptors", run: faultOutOfFiles, want: faultWant{code: ExitError,
			reports: true, verdict: analysis.Error, class: results.ErrClient, caseError: "client", samples: true}},
		{name: "disk full", run: faultDiskFull, want: faultWant{code: ExitError,
			reports: true, verdict: analysis.Error, incomplete: true, samples: true}},
		{name: "SIGTERM", run: faultSignal(syscall.SIGTERM), want: faultWant{code: ExitInterrupted,
			shows: []string{"INCOMPLETE", "interrupted"}, reports: true, incomplete: true, samples: true}},
		{name: "double SIGINT while stopping", run: faultDoubleInterrupt, check: checkInterrupted, want: faultWant{code: ExitInterrupted,
			reports: true, incomplete: true, samples: true, settle: 15 * time.Second}},
		{name: "SIGKILL then report", run: faultKilled(syscall.SIGKILL, -1), want: faultWant{code: ExitError,
			shows: []string{"still running"}, reports: true, verdict: analysis.Error, incomplete: true, samples: true, settle: 15 * time.Second}},
		// A panic cannot be caused from outside without a hook in the
		// product. A panic while a case runs is recovered into an
		// incomplete run with the services stopped: ci.TestPanicInCase
		// injects one through a placement, in the package;
		// runner.TestServicesDieWithTheirOwner/panic unwinds through
		// Services.StopAll. A panic nothing recovers ends the process the
		// way the Go runtime's crash on SIGQUIT does, which this row
		// causes from outside: traceback, exit 2, no deferred call run,
		// the reapers stop the services.
		{name: "crash like a panic then report", run: faultKilled(syscall.SIGQUIT, 2), want: faultWant{code: ExitError,
			shows: []string{"still running"}, reports: true, verdict: analysis.Error, incomplete: true, samples: true, settle: 15 * time.Second}},
		{name: "open-loop overload", run: suiteRun("open-overload.toml"), want: faultWant{code: ExitError,
			shows: []string{"label saturated: achieved", "of 80 requests/s offered"}, reports: true, verdict: analysis.Error,
			class: results.ErrUnfinished, label: "saturated/rate", caseError: `saturated (rate; saturation = "error")`, samples: true}},
		{name: "closed-loop overload", run: suiteRun("closed-overload.toml"), want: faultWant{code: ExitFailed,
			shows: []string{"label saturated: users 2 → 16", "more users only queue"}, reports: true, verdict: analysis.Fail,
			label: "saturated/plateau", samples: true}},
		{name: "one of two services fails", run: faultOneOfTwo, want: faultWant{code: ExitError,
			shows: []string{"did not start (broken)"}, reports: true, verdict: analysis.Error,
			caseError: `service "broken": exited (exit status 3)`, samples: true}},
		{name: "corrupt and truncated samples then report", run: faultDamagedSamples, check: checkNoPass, want: faultWant{code: ExitError,
			shows: []string{"line does not decode", "last line cut short", "samples damaged"}, reports: true, verdict: analysis.Error,
			caseError: "samples damaged", samples: true}},
		{name: "corrupt baseline", run: faultCorruptBaseline, want: faultWant{code: ExitUsage,
			shows: []string{"baseline baselines/faults.json:3:3: invalid character"}}},
		{name: "missing baselines directory", run: suiteRun("short.toml", "--baselines", "no-such-dir"), want: faultWant{code: ExitUsage,
			shows: []string{"--baselines no-such-dir: the directory does not exist"}}},
	}
	for i, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			f := &faultRun{bin: bin, work: work, dir: filepath.Join(work, "r"), Bin: bin,
				Marker: fmt.Sprintf("fault%d-%d", i, os.Getpid()), Duration: "6s", Users: 4}
			start := time.Now()
			r := row.run(t, f)
			f.verify(t, r, row.want)
			if row.check != nil {
				row.check(t, f, r)
			}
			t.Logf("%s in %v", row.name, time.Since(start).Round(100*time.Millisecond))
		})
	}
}

// verify checks what every row checks.
func (f *faultRun) verify(t *testing.T, r cliResult, w faultWant) {
	t.Helper()
	if r.code != w.code {
		t.Errorf("exit %d, want %d: %v", r.code, w.code, r)
	}
	for _, s := range w.shows {
		if !strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("the terminal does not show %q: %v", s, r)
		}
	}
	if w.reports {
		f.verifySummary(t, w)
	} else if _, err := os.Stat(f.dir); !w.samples && !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused before the run, yet the results directory exists (%v)", err)
	}
	if w.samples {
		kept := false
		for _, p := range sampleFiles(t, f.dir) {
			if st, err := os.Stat(p); err == nil && st.Size() > 0 {
				kept = true
			}
		}
		if !kept {
			t.Errorf("no samples kept in %s", f.dir)
		}
	}
	settle := w.settle
	if settle == 0 {
		settle = 3 * time.Second
	}
	f.verifyNothingLeft(t, settle)
}

// verifySummary checks the reports and what summary.json says.
func (f *faultRun) verifySummary(t *testing.T, w faultWant) {
	t.Helper()
	var paths []string
	for _, name := range []string{"summary.json", "report.md", "report.html", "junit.xml"} {
		paths = append(paths, filepath.Join(f.dir, name))
	}
	nonEmpty(t, paths...)
	if _, err := os.Stat(paths[0]); err != nil {
		return
	}
	var sum analysis.Summary
	readJSON(t, paths[0], &sum)
	if w.verdict != "" && sum.Verdict != w.verdict {
		t.Errorf("summary.json verdict %q, want %q", sum.Verdict, w.verdict)
	}
	if sum.Incomplete != w.incomplete {
		t.Errorf("summary.json incomplete %v, want %v", sum.Incomplete, w.incomplete)
	}
	var classes, labels, errs []string
	for _, c := range sum.Cases {
		for name, m := range c.Metrics {
			if strings.HasPrefix(name, "error_rate_") && m.Value > 0 {
				classes = append(classes, strings.TrimPrefix(name, "error_rate_"))
			}
		}
		for _, l := range c.Labels {
			labels = append(labels, l.Name+"/"+l.Test)
		}
		errs = append(errs, c.Errors...)
	}
	for _, want := range []struct{ what, value string }{{"error class", w.class}, {"label", w.label}} {
		if want.value != "" && !strings.Contains(" "+strings.Join(append(classes, labels...), " ")+" ", " "+want.value+" ") {
			t.Errorf("summary.json: no case with the %s %q (classes %q, labels %q)", want.what, want.value, classes, labels)
		}
	}
	if w.caseError != "" && !strings.Contains(strings.Join(errs, "\n"), w.caseError) {
		t.Errorf("summary.json: no case error with %q; errors: %q", w.caseError, errs)
	}
}

// verifyNothingLeft waits up to settle for every process of the row to be
// gone, then checks that the ports of the services benchrun started are
// closed.
func (f *faultRun) verifyNothingLeft(t *testing.T, settle time.Duration) {
	t.Helper()
	left := f.processes()
	for deadline := time.Now().Add(settle); len(left) > 0 && time.Now().Before(deadline); left = f.processes() {
		time.Sleep(100 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("left running %v after benchrun: %q", settle, left)
		for _, p := range left { // not to disturb the other rows
			var pid int
			fmt.Sscan(p, &pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	m, err := results.ReadManifest(f.dir)
	if err != nil {
		return // refused before the run, or the manifest was never written
	}
	for _, s := range m.Services {
		if s.External {
			continue
		}
		if c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL, "http://"), time.Second); err == nil {
			c.Close()
			t.Errorf("something still listens at %s, the address of service %q", s.URL, s.Name)
		}
	}
}

// processes lists the live processes of the row other than the test
// itself, as "pid argv": those working in its directory (benchrun, its
// services and its reapers; a service inherits benchrun's working
// directory) and those whose command line holds its marker.
func (f *faultRun) processes() []string {
	work, _ := filepath.EvalSymlinks(f.work)
	entries, _ := os.ReadDir("/proc")
	var left []string
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil || pid == os.Getpid() || gone(pid, 0) {
			continue
		}
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		b, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if cwd == work || strings.HasPrefix(cwd, work+"/") || bytes.Contains(b, []byte(f.Marker)) {
			left = append(left, fmt.Sprintf("%d %s", pid, bytes.ReplaceAll(bytes.TrimRight(b, "\x00"), []byte{0}, []byte{' '})))
		}
	}
	return left
}

// suite renders testdata/faults/name into the row's directory as s.toml.
func (f *faultRun) suite(t *testing.T, name string) {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "faults", name))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Option("missingkey=error").Execute(&b, f); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(f.work, "s.toml"), b.String())
}

// suiteRun returns a row that runs the suite testdata/faults/name, with
// extra arguments.
func suiteRun(name string, args ...string) func(*testing.T, *faultRun) cliResult {
	return func(t *testing.T, f *faultRun) cliResult {
		f.suite(t, name)
		return runBin(t, f.work, binEnv(), append([]string{"suite", "-o", "r", "s.toml"}, args...)...)
	}
}

// faultKillService: the emulator benchrun started is killed (SIGKILL)
// once the case has written samples.
func faultKillService(t *testing.T, f *faultRun) cliResult {
	f.suite(t, "long.toml")
	b := startBin(t, f.work, "suite", "-o", "r", "s.toml")
	b.waitSamples(t, f.dir)
	emulator := findProcess(t, f.Marker)
	if emulator == 0 {
		t.FailNow()
	}
	syscall.Kill(emulator, syscall.SIGKILL)
	return b.wait(t, time.Minute)
}

// faultKillExternal: an emulator the test started, the suite's external
// service, is killed (SIGKILL) once the case has written samples.
func faultKillExternal(t *testing.T, f *faultRun) cliResult {
	emulator := startBin(t, f.work, "emulate", "vllm", "--port", "0", "--model", f.Marker)
	f.URL = emulator.listening(t)
	f.suite(t, "external.toml")
	b := startBin(t, f.work, "suite", "-o", "r", "s.toml")
	b.waitSamples(t, f.dir)
	emulator.cmd.Process.Kill()
	emulator.wait(t, 10*time.Second)
	return b.wait(t, time.Minute)
}

// faultRateLimited: the suite's external service, an emulator in the test
// process, answers every second request with 429 and Retry-After: 2, from
// the second on: the first succeeds (a sample before the fault), and one
// of the two users' first requests is a 429 whatever the machine's load.
// (From the 20th on, a loaded machine sent 4 requests in the case's
// second, none was a 429, and the row passed.)
func faultRateLimited(t *testing.T, f *faultRun) cliResult {
	var n atomic.Int64
	f.URL = serveTestEmulator(t, f.Marker, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/chat/completions" {
				if n.Add(1)%2 == 0 {
					w.Header().Set("Retry-After", "2")
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusTooManyRequests)
					fmt.Fprint(w, `{"error":{"message":"rate limit","type":"rate_limit_error","code":429}}`)
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	f.Duration, f.Users, f.Thresholds = "1s", 2, `"error_rate_rate_limited < 1%"`
	f.suite(t, "external.toml")
	return runBin(t, f.work, binEnv(), "suite", "-o", "r", "s.toml")
}

// checkRetryAfter: the samples carry the server's Retry-After.
func checkRetryAfter(t *testing.T, f *faultRun, _ cliResult) {
	for _, p := range sampleFiles(t, f.dir) {
		if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(`"retry_after_ns":2000000000`)) {
			return
		}
	}
	t.Error("no sample records the Retry-After of 2s")
}

// faultOutOfFiles: benchrun runs with at most 64 open files (soft and
// hard limit, so the Go runtime cannot raise it) and 200 users against an
// external emulator in the test process, which has its own limit.
func faultOutOfFiles(t *testing.T, f *faultRun) cliResult {
	f.URL = serveTestEmulator(t, f.Marker, nil)
	f.Duration, f.Users = "1s", 200
	f.suite(t, "external.toml")
	b := startCmd(t, f.work, "sh", "-c", `ulimit -n 64 && exec "$0" "$@"`, f.bin, "suite", "-o", "r", "s.toml")
	return b.wait(t, time.Minute)
}

// faultDiskFull: the results directory is on a 40 KiB tmpfs, which the
// samples fill within the first second. Then the space is freed (the
// file system grown to 4 MiB) and `benchrun report` judges what was
// kept. Mounting needs root: the row is skipped without it, and fails
// under CI=true.
func faultDiskFull(t *testing.T, f *faultRun) cliResult {
	mnt := filepath.Join(f.work, "full")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=40k"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("disk full: cannot mount a tmpfs (%v): run the tests as root in CI", err)
		}
		t.Skipf("disk full needs a small file system: mounting a tmpfs failed (%v; euid %d): run as root to test it", err, os.Geteuid())
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	f.dir = filepath.Join(mnt, "r")
	f.suite(t, "disk-full.toml")
	r := runBin(t, f.work, binEnv(), "suite", "-o", "full/r", "s.toml")
	if r.code != ExitError || !strings.Contains(r.stderr, "no space left on device") {
		t.Errorf("run on a full disk: want exit %d naming ENOSPC: %v", ExitError, r)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_REMOUNT, "size=4m"); err != nil {
		t.Fatalf("freeing space: %v", err)
	}
	return runBin(t, f.work, binEnv(), "report", "full/r")
}

// faultSignal: one signal to benchrun once the case has written samples.
func faultSignal(sig syscall.Signal) func(*testing.T, *faultRun) cliResult {
	return func(t *testing.T, f *faultRun) cliResult {
		f.Duration = "30s"
		f.suite(t, "long.toml")
		b := startBin(t, f.work, "suite", "-o", "r", "s.toml")
		b.waitSamples(t, f.dir)
		b.cmd.Process.Signal(sig)
		return b.wait(t, 30*time.Second)
	}
}

// faultDoubleInterrupt: SIGINT, then, while benchrun waits out the stop
// grace of a service that ignores SIGTERM (its emulator already stopped
// by the SIGTERM), SIGINT again: a person pressing Ctrl-C twice.
func faultDoubleInterrupt(t *testing.T, f *faultRun) cliResult {
	f.Port = closedPort(t)
	f.suite(t, "stubborn.toml")
	b := startBin(t, f.work, "suite", "-o", "r", "s.toml")
	b.waitSamples(t, f.dir)
	emulator := findProcess(t, f.Marker)
	b.cmd.Process.Signal(os.Interrupt)
	if emulator == 0 || !gone(emulator, 10*time.Second) {
		t.Fatalf("the service's emulator (pid %d) did not stop on the SIGTERM of the stop", emulator)
	}
	b.cmd.Process.Signal(os.Interrupt)
	second := time.Now()
	r := b.wait(t, 30*time.Second)
	if d := time.Since(second); d > 5*time.Second {
		t.Errorf("benchrun took %v after the second SIGINT: it waited out the 10s stop grace, no hard stop", d.Round(100*time.Millisecond))
	}
	return r
}

// checkInterrupted: the manifest says the run was interrupted.
func checkInterrupted(t *testing.T, f *faultRun, _ cliResult) {
	m, err := results.ReadManifest(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Incomplete || !strings.HasPrefix(m.Reason, "interrupted") {
		t.Errorf("manifest.json: incomplete %v, reason %q; want incomplete, interrupted…", m.Incomplete, m.Reason)
	}
}

// faultKilled: sig ends benchrun once the case has written samples; it
// must end it with exit code (-1: killed by the signal). Then `benchrun
// report` judges what the run left.
func faultKilled(sig syscall.Signal, code int) func(*testing.T, *faultRun) cliResult {
	return func(t *testing.T, f *faultRun) cliResult {
		f.Duration = "30s"
		f.suite(t, "long.toml")
		b := startBin(t, f.work, "suite", "-o", "r", "s.toml")
		b.waitSamples(t, f.dir)
		b.cmd.Process.Signal(sig)
		if r := b.wait(t, 30*time.Second); r.code != code {
			t.Errorf("after %v: exit %d, want %d: %v", sig, r.code, code, r)
		}
		return runBin(t, f.work, binEnv(), "report", "r")
	}
}

// faultOneOfTwo: a second service, declared first, exits at once; the
// healthy one's cases run (checkIsolatedManifest).
func faultOneOfTwo(t *testing.T, f *faultRun) cliResult {
	brokenSuite(t, f.work, "echo loading weights; echo 'fatal: out of memory' >&2; exit 3", closedPort(t))
	r := runBin(t, f.work, binEnv(), "suite", "-o", "r", "two.toml")
	checkIsolatedManifest(t, f.dir, "fatal: out of memory", "exited (exit status 3)")
	return r
}

// faultDamagedSamples: after a healthy run, one line in the middle of the
// samples file is garbled and its last line cut; then `benchrun report`.
func faultDamagedSamples(t *testing.T, f *faultRun) cliResult {
	f.suite(t, "short.toml")
	if r := runBin(t, f.work, binEnv(), "suite", "-o", "r", "s.toml"); r.code != ExitOK {
		t.Fatalf("the healthy run: %v", r)
	}
	path := filepath.Join(f.dir, "samples", "chat.jsonl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines) < 10 {
		t.Fatalf("only %d samples", len(lines))
	}
	lines[3] = []byte("{\"seq\":3,\"rep\":0,\"wor\x00ker\n")
	last := len(lines) - 2 // SplitAfter leaves an empty last element
	lines[last] = lines[last][:len(lines[last])/2]
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	return runBin(t, f.work, binEnv(), "report", "r")
}

// checkNoPass: damage is never a pass, anywhere.
func checkNoPass(t *testing.T, f *faultRun, r cliResult) {
	if regexp.MustCompile(`\bPASS\b`).MatchString(r.stdout) {
		t.Errorf("the terminal says PASS:\n%s", r.stdout)
	}
}

// faultCorruptBaseline: the suite's baseline file has a syntax error.
func faultCorruptBaseline(t *testing.T, f *faultRun) cliResult {
	f.suite(t, "short.toml")
	writeFile(t, filepath.Join(f.work, "baselines", "faults.json"), strings.ReplaceAll(corruptBaseline, "demo", "faults"))
	return runBin(t, f.work, binEnv(), "suite", "-o", "r", "s.toml")
}

// serveTestEmulator serves a vLLM emulator with model in the test
// process, its handler wrapped by wrap when given, until the test ends,
// and returns its URL.
func serveTestEmulator(t *testing.T, model string, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	o := emulate.DefaultOptions(emulate.FlavorVLLM)
	o.Model, o.PrefillBase, o.DecodeBase = model, 10*time.Millisecond, 2*time.Millisecond
	em, err := emulate.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := em.NewServer()
	if wrap != nil {
		srv.Handler = wrap(srv.Handler)
	}
	go srv.Serve(runner.ReceiveListener(ln))
	t.Cleanup(func() {
		em.Close()
		srv.Close()
	})
	return "http://" + ln.Addr().String()
}
