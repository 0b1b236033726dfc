package ci

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

// startedRun is a `benchrun suite` started in the background.
type startedRun struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	exited         chan struct{} // closed when the process has exited
	waitErr        error         // valid once exited is closed
	dir            string        // its results directory
}

// startRun starts the binary with `suite FILE -o r` in work and returns
// once the first case has written samples.
func startRun(t *testing.T, work, file string) *startedRun {
	t.Helper()
	r := &startedRun{exited: make(chan struct{}), dir: filepath.Join(work, "r")}
	r.cmd = exec.Command(benchrunBinary(t), "suite", file, "-o", "r")
	r.cmd.Dir = work
	r.cmd.Env = binEnv()
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.waitErr = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			r.cmd.Process.Kill()
			<-r.exited
		}
	})
	for deadline := time.Now().Add(60 * time.Second); ; {
		if files := sampleFiles(t, r.dir); len(files) > 0 {
			if st, err := os.Stat(files[0]); err == nil && st.Size() > 0 {
				return r
			}
		}
		select {
		case <-r.exited:
			t.Fatalf("benchrun exited before any sample: %v\n%s", r.waitErr, r.stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no samples after 60s\n%s", r.stderr.String())
		}
	}
}

// wait waits at most limit for the run to exit and returns its exit code.
func (r *startedRun) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(limit):
		t.Fatalf("benchrun still running %v later\n%s", limit, r.stderr.String())
	}
	if r.waitErr == nil {
		return 0
	}
	ee, ok := r.waitErr.(*exec.ExitError)
	if !ok || !ee.Exited() {
		t.Fatalf("benchrun ended with %v\n%s", r.waitErr, r.stderr.String())
	}
	return ee.ExitCode()
}

// checkServiceFailed checks the results of a run of a suite whose two
// cases (chat/users=4, then chat/users=16) use one service that died
// during the first: the first an error naming the service with cause,
// with the successful samples it wrote before kept; the second an error
// without running, naming it too; the verdict error and every report
// written.
func checkServiceFailed(t *testing.T, dir, cause string) {
	t.Helper()
	m, err := results.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	first, second := m.Cases[0], m.Cases[1]
	if first.Status != results.StatusError || !strings.Contains(first.Error, `service "llm"`) ||
		!strings.Contains(first.Error, cause) || !strings.Contains(first.Error, "samples so far kept") {
		t.Errorf("the case during which the service died: %s %q; want an error naming service \"llm\" and %q", first.Status, first.Error, cause)
	}
	if second.Status != results.StatusError || !strings.HasPrefix(second.Error, `not run: service "llm"`) || !strings.Contains(second.Error, cause) {
		t.Errorf("the next case of the service: %s %q; want an error naming the service, not run", second.Status, second.Error)
	}
	ok := 0
	results.ReadSampleFile(filepath.Join(dir, first.Samples), func(s *results.Sample) error {
		if s.OK() {
			ok++
		}
		return nil
	})
	if ok == 0 {
		t.Errorf("no successful sample kept from before the service died (%s)", first.Samples)
	}
	var sum analysis.Summary
	readJSON(t, filepath.Join(dir, "summary.json"), &sum)
	if sum.Verdict != analysis.Error || sum.Cases[0].Verdict != analysis.Error || sum.Cases[1].Verdict != analysis.Error {
		t.Errorf("summary: verdict %s, cases %s and %s; want errors", sum.Verdict, sum.Cases[0].Verdict, sum.Cases[1].Verdict)
	}
	nonEmpty(t, filepath.Join(dir, "report.md"), filepath.Join(dir, "report.html"), filepath.Join(dir, "junit.xml"))
	if md, _ := os.ReadFile(filepath.Join(dir, "report.md")); !bytes.Contains(md, []byte(cause)) {
		t.Errorf("report.md does not show %q", cause)
	}
}

// TestStartedServiceKilledMidCase: the emulator benchrun started is
// killed 1 s into a 60 s case. benchrun logs it at once, the case stops
// at once and is an error naming the service, its exit status and log;
// the service's next case is an error without running (the service is
// not started again); exit 2, reports written.
func TestStartedServiceKilledMidCase(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	model := fmt.Sprintf("killed-test-%d", os.Getpid())
	copySuite(t, work, "long.toml", `duration = "2s"`, `duration = "60s"`, `model = "demo-model"`, `model = "`+model+`"`)
	r := startRun(t, work, "long.toml")
	emulator := findProcess(t, model)
	if emulator == 0 {
		t.Fatal("no emulator to kill")
	}
	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	syscall.Kill(emulator, syscall.SIGKILL)
	code := r.wait(t, 30*time.Second)
	if code != ExitError {
		t.Errorf("exit %d, want %d\n%s", code, ExitError, r.stderr.String())
	}
	if took := time.Since(killed); took > 20*time.Second {
		t.Errorf("benchrun took %v after the kill: the case did not stop at once", took)
	}
	for _, want := range []string{`msg="service exited"`, `service=llm`, `status="signal: killed"`, "1 service(s) failed during the run (llm)"} {
		if !strings.Contains(r.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr.String())
		}
	}
	checkServiceFailed(t, r.dir, "exited (signal: killed)")
	m, _ := results.ReadManifest(r.dir)
	if !strings.Contains(m.Cases[0].Error, "last lines of") {
		t.Errorf("the case error does not quote the service log: %q", m.Cases[0].Error)
	}
}

// startEmulator runs `benchrun emulate vllm` on a free port, as a service
// benchrun does not own, and returns its URL once it answers.
func startEmulator(t *testing.T) (url string, cmd *exec.Cmd) {
	t.Helper()
	port := closedPort(t)
	cmd = exec.Command(benchrunBinary(t), "emulate", "vllm", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--model", "demo-model")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url = fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url, cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the emulator did not answer in 30s")
		}
	}
}

// TestExternalServiceKilledMidCase: an external service (given by url)
// dies 1 s into a 60 s case. benchrun has no process to watch: the
// connect failures that follow make it probe the service, which does not
// answer, and the case stops as an error naming the service, its URL and
// the probe's error (before: 99.9% connect errors and PASS, exit 0).
func TestExternalServiceKilledMidCase(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	url, emulator := startEmulator(t)
	copySuite(t, work, "ext.toml", `kind = "emulator"                 # benchrun emulate vllm, started and stopped by benchrun`,
		"kind = \"vllm\"\nurl = \""+url+"\"", `duration = "2s"`, `duration = "60s"`)
	r := startRun(t, work, "ext.toml")
	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	emulator.Process.Kill()
	code := r.wait(t, 30*time.Second)
	if code != ExitError {
		t.Errorf("exit %d, want %d\n%s", code, ExitError, r.stderr.String())
	}
	if took := time.Since(killed); took > 20*time.Second {
		t.Errorf("benchrun took %v after the kill: the case did not stop at once", took)
	}
	checkServiceFailed(t, r.dir, fmt.Sprintf(`service "llm" (external, %s): not serving`, url))
	m, _ := results.ReadManifest(r.dir)
	if !strings.Contains(m.Cases[0].Error, "connection refused") {
		t.Errorf("the case error does not give the probe's error: %q", m.Cases[0].Error)
	}
}

// infraRun writes a results directory of a one-case run of the demo
// suite (its line max_infrastructure_errors, "" for the default, added to
// the benchmark; no thresholds) whose 200 measured operations are ok ones
// and connect failures.
func infraRun(t *testing.T, limitLine string, connect int) string {
	t.Helper()
	dir := t.TempDir()
	copySuite(t, dir, suiteCopy, `thresholds = ["ttft.p95 < 500ms", "error_rate < 1%", "output_tokens_per_second > 100"]`, limitLine,
		`users = [4, 16]                 # a sweep: two cases, chat/users=4 and chat/users=16`, "users = 4")
	if err := os.MkdirAll(filepath.Join(dir, results.SamplesDir), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Minute).UTC()
	load := results.Load{Mode: results.ModeClosed, Users: 4, Duration: 2 * time.Second}
	info := results.CaseInfo{ID: "chat", Benchmark: "chat", Kind: "openai", Samples: results.SamplePath("chat"),
		Status: results.StatusDone, Repetitions: 1, Start: start, End: start.Add(2 * time.Second), Load: &load}
	path := filepath.Join(dir, info.Samples)
	w, err := results.CreateSampleFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const ms = time.Millisecond
	for i := range 200 {
		at := time.Duration(i) * 10 * ms
		s := results.Sample{Seq: int64(i), Scheduled: at, Sent: at, Done: at + 2*ms, Error: results.ErrConnect}
		if i >= connect {
			s = results.Sample{Seq: int64(i), Scheduled: at, Sent: at, FirstByte: at + 20*ms, FirstToken: at + 20*ms,
				LastToken: at + 50*ms, Done: at + 51*ms, InputTokens: 256, OutputTokens: 4, ITL: []time.Duration{10 * ms, 10 * ms, 10 * ms}}
		}
		if err := w.Write(&s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	info.RecordSamples(path, w.Count())
	m := &results.Manifest{Version: results.ResultsVersion, Suite: "demo", SuiteFile: filepath.Join(dir, suiteCopy),
		Start: start, End: start.Add(3 * time.Second), Cases: []results.CaseInfo{info}}
	if err := results.WriteJSONAtomic(filepath.Join(dir, results.ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestInfrastructureShareVerdict: connect failures above the benchmark's
// max_infrastructure_errors (default 1%) make the case an execution error
// (exit 2) in every output, with the classification; at or below it, and
// with a limit the suite raised, the run is judged as usual.
func TestInfrastructureShareVerdict(t *testing.T) {
	tests := []struct {
		name      string
		limitLine string
		connect   int
		code      int
		shown     string // in the terminal and report.md when code is 2
	}{
		{"a dead server: half the operations refused", "", 100, ExitError, "100 of 200 measured operations (50%: connect 50%)"},
		{"one refused connection is data", "", 1, ExitOK, ""},
		{"the suite allows none", "max_infrastructure_errors = 0", 1, ExitError, "above the limit of 0%"},
		{"the suite allows more", `max_infrastructure_errors = "60%"`, 100, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := infraRun(t, tt.limitLine, tt.connect)
			r := runCLI(t, "report", dir)
			if r.code != tt.code {
				t.Fatalf("report: exit %d, want %d\n%v", r.code, tt.code, r)
			}
			var sum analysis.Summary
			readJSON(t, filepath.Join(dir, "summary.json"), &sum)
			c := sum.Cases[0]
			if m := c.Metrics[analysis.MetricInfrastructureErrorRate]; m.Value != float64(tt.connect)/200 {
				t.Errorf("infrastructure_error_rate %v, want %v", m.Value, float64(tt.connect)/200)
			}
			if tt.code == ExitOK {
				if c.Verdict != analysis.Pass {
					t.Errorf("verdict %s, errors %q; want pass", c.Verdict, c.Errors)
				}
				return
			}
			if c.Verdict != analysis.Error || len(c.Errors) != 1 || !strings.Contains(c.Errors[0], tt.shown) {
				t.Errorf("summary: verdict %s, errors %q; want an error showing %q", c.Verdict, c.Errors, tt.shown)
			}
			md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
			for where, out := range map[string]string{"terminal": r.stdout, "report.md": string(md)} {
				if !strings.Contains(out, "infrastructure errors") || !strings.Contains(out, tt.shown) {
					t.Errorf("%s does not show the infrastructure errors %q:\n%s", where, tt.shown, out)
				}
			}
		})
	}
}

// panicPlacement runs each service as a shell that ignores SIGTERM, with
// a child sleep whose command line holds marker, and panics in the first
// case: a bug in the goroutine that runs the services.
type panicPlacement struct {
	localPlacement
	marker string
}

func (p panicPlacement) services(sv *suites.Service, dir, _ string) ([]runner.Service, error) {
	return []runner.Service{{Name: sv.Name, Kind: "command", Command: []string{"sh", "-c", "trap '' TERM; sleep " + p.marker + "; :"},
		LogPath: filepath.Join(dir, results.LogsDir, sv.Name+".log"), StopGrace: time.Second}}, nil
}

func (panicPlacement) runCase(context.Context, *env, *suites.Suite, suites.Case, string, string, *results.CaseInfo, *runner.Progress) error {
	panic("injected: a bug inside a case")
}

// TestPanicInCase: a panic while a case runs is recovered by the execute
// step: the services are stopped (this one ignores SIGTERM: it is killed
// after its grace), nothing is left running, the manifest says the run is
// incomplete because of the panic, the running case is an error and the
// next one too; the run then writes its reports and exits 2.
func TestPanicInCase(t *testing.T) {
	t.Parallel()
	s, err := suites.Load(filepath.Join("testdata", "demo-short.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	e := &env{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.NewTextHandler(&logs, nil)), quiet: true}
	marker := fmt.Sprintf("61.%d", os.Getpid()%100000)
	r := &caseRun{e: e, s: s, dir: filepath.Join(t.TempDir(), "r"), pl: panicPlacement{marker: marker}}
	t.Cleanup(func() {
		for _, pid := range processesWith(marker) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	x, err := r.execute(context.Background())
	if err != nil || x == nil || x.err == nil || !strings.Contains(x.err.Error(), "benchrun panicked: injected: a bug inside a case") {
		t.Fatalf("execute after a panic: %+v, %v; want an execution error naming the panic", x, err)
	}
	if pids := processesWith(marker); len(pids) > 0 {
		t.Errorf("processes of the service left running after the panic: %v", pids)
	}
	if !strings.Contains(logs.String(), "panic") || !strings.Contains(logs.String(), "panicPlacement.runCase") {
		t.Errorf("the log does not give the panic and its stack:\n%s", logs.String())
	}
	m, err := results.ReadManifest(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Incomplete || !strings.Contains(m.Reason, "benchrun panicked: injected") || m.End.IsZero() {
		t.Errorf("manifest: incomplete %t, reason %q, end %v; want incomplete with the panic", m.Incomplete, m.Reason, m.End)
	}
	if c := m.Cases; c[0].Status != results.StatusError || !strings.Contains(c[0].Error, "benchrun panicked") ||
		c[1].Status != results.StatusError || !strings.HasPrefix(c[1].Error, "not run: benchrun panicked") {
		t.Errorf("cases after the panic: %+v", c)
	}
	p := &pipeline{e: e, dir: r.dir}
	if code := ExitCode(p.conclude(x)); code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	nonEmpty(t, filepath.Join(r.dir, "summary.json"), filepath.Join(r.dir, "report.md"), filepath.Join(r.dir, "report.html"))
}

// watchPlacement runs each service as the shell command given for it
// (ready once started), and each case until its context is done or for
// at most a second.
type watchPlacement struct {
	localPlacement
	commands map[string]string
}

func (p watchPlacement) services(sv *suites.Service, dir, _ string) ([]runner.Service, error) {
	return []runner.Service{{Name: sv.Name, Kind: "command", Command: []string{"sh", "-c", p.commands[sv.Name]},
		LogPath: filepath.Join(dir, results.LogsDir, sv.Name+".log"), StopGrace: time.Second}}, nil
}

func (watchPlacement) runCase(ctx context.Context, _ *env, _ *suites.Suite, _ suites.Case, _, _ string, info *results.CaseInfo, _ *runner.Progress) error {
	info.Start = time.Now().UTC()
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
	return nil
}

const twoServices = `schema_version = 1
[suite]
name = "two"
[[service]]
name = "broken"
kind = "command"
port = 1
command = "x"
[[service]]
name = "steady"
kind = "command"
port = 2
command = "x"
[[benchmark]]
name = "first"
service = "broken"
kind = "openai"
  [benchmark.workload]
  users = [1, 2]
  duration = "60s"
[[benchmark]]
name = "second"
service = "steady"
kind = "openai"
  [benchmark.workload]
  duration = "1s"
`

// TestServiceFailureIsolated: a service that exits during its first case
// stops that case at once (an error naming it, its exit status and its
// log), its next case is an error without running, and the other
// service's case runs as usual; the run is an execution error naming the
// service.
func TestServiceFailureIsolated(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "two.toml")
	writeFile(t, path, twoServices)
	s, err := suites.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	e := &env{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.NewTextHandler(&logs, nil)), quiet: true}
	marker := fmt.Sprintf("63.%d", os.Getpid()%100000)
	pl := watchPlacement{commands: map[string]string{
		"broken": "sleep 0.3; echo 'CUDA error: device lost' >&2; exit 7",
		"steady": "sleep " + marker,
	}}
	r := &caseRun{e: e, s: s, dir: filepath.Join(t.TempDir(), "r"), pl: pl}
	start := time.Now()
	x, err := r.execute(context.Background())
	if err != nil || x.err == nil || !strings.Contains(x.err.Error(), "1 service(s) failed during the run (broken)") {
		t.Fatalf("execute: %+v, %v; want an execution error naming the service", x, err)
	}
	// The broken service's case is 60s long: a run of well under that
	// shows it stopped when the service exited, however busy the machine.
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the run took %v: the failed service's case did not stop at once", took)
	}
	m, err := results.ReadManifest(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Cases
	if c[0].Status != results.StatusError || !strings.Contains(c[0].Error, `service "broken" exited (exit status 7)`) || !strings.Contains(c[0].Error, "CUDA error: device lost") {
		t.Errorf("the case during which the service exited: %s %q", c[0].Status, c[0].Error)
	}
	if c[1].Status != results.StatusError || !strings.HasPrefix(c[1].Error, `not run: service "broken" exited`) {
		t.Errorf("the failed service's next case: %s %q", c[1].Status, c[1].Error)
	}
	if c[2].Status != results.StatusDone || c[2].Error != "" {
		t.Errorf("the other service's case: %s %q, want done", c[2].Status, c[2].Error)
	}
	if m.Incomplete {
		t.Errorf("a service that failed does not make the run incomplete: %q", m.Reason)
	}
	if !strings.Contains(logs.String(), `msg="service exited" service=broken`) {
		t.Errorf("the exit was not logged:\n%s", logs.String())
	}
	if pids := processesWith(marker); len(pids) > 0 {
		t.Errorf("the other service is left running: %v", pids)
	}
}
