package runner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stubbornGroup is a service whose whole group ignores SIGTERM (the
// ignored disposition is inherited by its child): only SIGKILL ends it.
const stubbornGroup = `trap "" TERM; sleep 1000 & echo $! > "$PIDFILE"; wait`

// waitPid reads the pid a service wrote to path, waiting up to d; 0 if none.
func waitPid(path string, d time.Duration) int {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, _ := os.ReadFile(path)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}

// serviceOwner plays benchrun in TestServicesDieWithTheirOwner: it starts
// stubbornGroup (StopGrace OWNER_GRACE, log OWNER_LOG), prints
// "pids LEADER CHILD REAPER", then by OWNER_MODE waits to be killed
// ("kill"), panics in a goroutine, which runs no deferred call ("panic"),
// or prints "stopping" and stops the service while it waits to be killed
// ("stopping": the second signal that kills benchrun while it stops).
func serviceOwner() {
	grace, _ := time.ParseDuration(os.Getenv("OWNER_GRACE"))
	s := Service{Name: "orphan", Command: []string{"sh", "-c", stubbornGroup}, StopGrace: grace, LogPath: os.Getenv("OWNER_LOG")}
	p, err := StartService(context.Background(), s)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	child := waitPid(os.Getenv("PIDFILE"), time.Minute)
	fmt.Printf("pids %d %d %d\n", p.Pid(), child, p.reaper.cmd.Process.Pid)
	switch os.Getenv("OWNER_MODE") {
	case "panic":
		go func() { panic("owner: boom") }()
	case "stopping":
		fmt.Println("stopping")
		p.Stop(context.Background())
	}
	time.Sleep(time.Hour)
}

// waitGone waits up to d for every pid to be gone (or a zombie) and
// returns those that still run.
func waitGone(d time.Duration, pids ...int) []int {
	deadline := time.Now().Add(d)
	for {
		var alive []int
		for _, pid := range pids {
			if !processGone(pid) {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 || time.Now().After(deadline) {
			return alive
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServicesDieWithTheirOwner(t *testing.T) {
	tests := []struct {
		mode  string
		grace time.Duration
	}{
		{"kill", 300 * time.Millisecond},
		{"panic", 300 * time.Millisecond},
		{"stopping", 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			dir := t.TempDir()
			logPath := filepath.Join(dir, "orphan.log")
			argv, env := serviceHelperCommand("owner", "OWNER_MODE="+tc.mode, "OWNER_GRACE="+tc.grace.String(),
				"PIDFILE="+filepath.Join(dir, "pid"), "OWNER_LOG="+logPath)
			owner := exec.Command(argv[0], argv[1:]...)
			owner.Env = append(os.Environ(), env...)
			var stderr bytes.Buffer
			owner.Stderr = &stderr
			out, err := owner.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := owner.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { owner.Process.Kill() })
			lines := bufio.NewScanner(out)
			var leader, child, reaperPid int
			for lines.Scan() {
				if _, err := fmt.Sscanf(lines.Text(), "pids %d %d %d", &leader, &child, &reaperPid); err == nil {
					break
				}
				t.Log(lines.Text())
			}
			if leader <= 1 || child <= 1 || reaperPid <= 1 {
				owner.Process.Kill()
				owner.Wait()
				t.Fatalf("owner did not start the service: %s", stderr.String())
			}
			t.Cleanup(func() { // whatever the test found, leave nothing behind
				syscall.Kill(-leader, syscall.SIGKILL)
				syscall.Kill(child, syscall.SIGKILL)
				syscall.Kill(-reaperPid, syscall.SIGKILL)
			})

			switch tc.mode {
			case "kill":
				owner.Process.Kill()
			case "stopping":
				for lines.Scan() && lines.Text() != "stopping" {
				}
				time.Sleep(300 * time.Millisecond) // SIGTERM sent, grace running
				if processGone(leader) {
					t.Fatal("the service stopped before the owner was killed: nothing tested")
				}
				owner.Process.Kill()
			}
			err = owner.Wait()
			if tc.mode == "panic" && !strings.Contains(stderr.String(), "panic: owner: boom") {
				t.Fatalf("owner did not panic (%v): %s", err, stderr.String())
			}
			killed := time.Now()

			if alive := waitGone(tc.grace+10*time.Second, leader, child, reaperPid); len(alive) > 0 {
				t.Fatalf("%v still run %v after the owner died (leader %d, child %d, reaper %d)",
					alive, time.Since(killed).Round(time.Millisecond), leader, child, reaperPid)
			}
			b, _ := os.ReadFile(logPath)
			for _, want := range []string{
				fmt.Sprintf("# benchrun reaper: benchrun is gone; stopping process group %d", leader),
				fmt.Sprintf("# benchrun reaper: SIGKILL to process group %d after %v", leader, tc.grace),
			} {
				if !strings.Contains(string(b), want) {
					t.Errorf("service log lacks %q:\n%s", want, b)
				}
			}
		})
	}
}

func TestStopReleasesReaper(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	s := Service{Name: "calm", Command: []string{"sh", "-c", `sleep 1000 & echo $! > "$PIDFILE"; wait`},
		Env: []string{"PIDFILE=" + pidFile}, StopGrace: 5 * time.Second}
	p, err := StartService(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if waitPid(pidFile, time.Minute) == 0 {
		t.Fatal("child did not start")
	}
	if processGone(p.reaper.cmd.Process.Pid) {
		t.Fatal("no reaper runs beside the service")
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.reaper.done:
	case <-time.After(10 * time.Second):
		t.Fatal("reaper still runs 10s after Stop")
	}
	if code := p.reaper.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("reaper exit code %d, want 0 (released)", code)
	}
}

func TestStartServiceNeedsReaper(t *testing.T) {
	argv, timeout := reaperArgv, reaperStartTimeout
	t.Cleanup(func() { reaperArgv, reaperStartTimeout = argv, timeout })
	// A program that does not call RunReaper: it never answers ready.
	reaperArgv = func() []string { return []string{"sh", "-c", "sleep 60"} }
	reaperStartTimeout = 300 * time.Millisecond

	mark := filepath.Join(t.TempDir(), "started")
	began := time.Now()
	_, err := StartService(context.Background(), Service{Name: "unguarded", Command: []string{"touch", mark}})
	if err == nil || !strings.Contains(err.Error(), `service "unguarded": reaper`) || !strings.Contains(err.Error(), "runner.RunReaper") {
		t.Fatalf("error %v, want the missing reaper named", err)
	}
	if time.Since(began) > 10*time.Second {
		t.Errorf("took %v", time.Since(began))
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(mark); err == nil {
		t.Error("the service was started without a reaper")
	}
}

// TestReapRefusesBadGroup: a pgid of 1 or less would signal init or every
// process the reaper may signal.
func TestReapRefusesBadGroup(t *testing.T) {
	for _, req := range []string{"group 1 0\n", "group -1 0\n", "group 0 0\n", "group x 0\n", "group 4242 -1\n"} {
		var ack, logw bytes.Buffer
		if code := reap(strings.NewReader(req), &ack, &logw); code != 2 {
			t.Errorf("%q: exit %d, want 2", req, code)
		}
		if ack.String() != "ready\n" || !strings.Contains(logw.String(), "bad request") {
			t.Errorf("%q: ack %q, log %q", req, ack.String(), logw.String())
		}
	}
	var ack, logw bytes.Buffer
	if code := reap(strings.NewReader(""), &ack, &logw); code != 0 || logw.Len() != 0 {
		t.Errorf("closed before a group: exit %d, log %q", code, logw.String())
	}
}

// startStubborn starts stubbornGroup and returns it with its child's pid.
func startStubborn(t *testing.T, name string, grace time.Duration) (*Process, int) {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "pid")
	p, err := StartService(context.Background(), Service{Name: name, Command: []string{"sh", "-c", stubbornGroup},
		Env: []string{"PIDFILE=" + pidFile}, StopGrace: grace})
	if err != nil {
		t.Fatal(err)
	}
	child := waitPid(pidFile, time.Minute)
	if child == 0 {
		p.Stop(context.Background())
		t.Fatal("child did not start")
	}
	t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })
	return p, child
}

// TestStopConcurrent is a second signal while stopping, at the runner
// level: a second Stop, impatient (its context already done), arrives while
// the first waits out the grace of a service that ignores SIGTERM.
func TestStopConcurrent(t *testing.T) {
	p, child := startStubborn(t, "stubborn", time.Second)
	hurry, cancel := context.WithCancel(context.Background())
	cancel()
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = p.Stop(context.Background()) })
	time.Sleep(100 * time.Millisecond)
	wg.Go(func() { errs[1] = p.Stop(hurry) })
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("Stop: %v, %v", errs[0], errs[1])
	}
	if alive := waitGone(5*time.Second, p.Pid(), child); len(alive) > 0 {
		t.Errorf("%v still run after both Stops returned", alive)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("third Stop: %v", err)
	}
}

func TestServicesStopAll(t *testing.T) {
	const grace = time.Second
	var ss Services
	a, childA := startStubborn(t, "a", grace)
	b, childB := startStubborn(t, "b", grace)
	ss.Add(a)
	ss.Add(b)
	ss.Add(nil)
	began := time.Now()
	if err := ss.StopAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 2*grace-100*time.Millisecond {
		t.Errorf("StopAll took %v: the graces ran one after the other", took)
	}
	if alive := waitGone(5*time.Second, a.Pid(), childA, b.Pid(), childB); len(alive) > 0 {
		t.Errorf("%v still run after StopAll", alive)
	}
	if err := ss.StopAll(context.Background()); err != nil {
		t.Errorf("second StopAll: %v", err)
	}
}

// syncBuffer is a bytes.Buffer for a logger written from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startHTTPHelper starts the "http" helper service, logging to log.
func startHTTPHelper(t *testing.T, log *slog.Logger, env ...string) *Process {
	t.Helper()
	addr := freeLoopbackAddr(t)
	cmd, env := serviceHelperCommand("http", append(env, "HELPER_ADDR="+addr)...)
	p, err := StartService(context.Background(), Service{
		Name: "engine", Command: cmd, Env: env, URL: "http://" + addr, Log: log,
		LogPath: filepath.Join(t.TempDir(), "engine.log"), StopGrace: time.Second,
		Probe: Probe{URL: "http://" + addr + "/health", Interval: 20 * time.Millisecond, Timeout: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(context.Background()) })
	return p
}

func TestWatchServiceExit(t *testing.T) {
	var logs syncBuffer
	p := startHTTPHelper(t, slog.New(slog.NewTextHandler(&logs, nil)), "HELPER_EXIT_AFTER=500ms")
	if err := p.Check(context.Background()); err != nil {
		t.Fatalf("Check of a running service: %v", err)
	}
	ctx, cancel := Watch(context.Background(), p)
	defer cancel()
	select {
	case <-ctx.Done():
	case <-time.After(time.Minute):
		t.Fatal("Watch did not notice the exit")
	}
	var ee *ExitError
	if !errors.As(context.Cause(ctx), &ee) {
		t.Fatalf("cause %v, want an *ExitError", context.Cause(ctx))
	}
	msg := ee.Error()
	for _, want := range []string{`service "engine" exited (exit status 4)`, "after it was ready", "fatal: engine died"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	var xe *exec.ExitError
	if !errors.As(ee, &xe) || xe.ExitCode() != 4 || ee.Pid != p.Pid() || ee.Ran < 400*time.Millisecond {
		t.Errorf("ExitError %+v: want exit code 4, pid %d, ran about 500ms", ee, p.Pid())
	}
	if err := p.Check(context.Background()); !errors.Is(err, ee) {
		t.Errorf("Check after the exit: %v, want the ExitError", err)
	}
	for _, want := range []string{"level=ERROR", `msg="service exited"`, "service=engine", `status="exit status 4"`, "fatal: engine died"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	// A watch started after the exit is cancelled at once.
	late, cancelLate := Watch(context.Background(), p)
	defer cancelLate()
	select {
	case <-late.Done():
	case <-time.After(10 * time.Second):
		t.Error("a late Watch did not see the exit")
	}
}

func TestWatchIgnoresStop(t *testing.T) {
	var logs syncBuffer
	p := startHTTPHelper(t, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx, cancel := Watch(context.Background(), p)
	defer cancel()
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if ctx.Err() != nil {
		t.Errorf("Stop cancelled the watch: %v", context.Cause(ctx))
	}
	if strings.Contains(logs.String(), "service exited") {
		t.Errorf("a stopped service logged as exited:\n%s", logs.String())
	}
	err := p.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), `service "engine": stopped`) {
		t.Errorf("Check after Stop: %v", err)
	}
	cancel()
	if !errors.Is(context.Cause(ctx), context.Canceled) {
		t.Errorf("cause after cancel: %v", context.Cause(ctx))
	}
}

func TestCheckExternal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/heartbeat" {
			http.NotFound(w, r)
		}
	}))
	s := Service{Name: "chroma", External: true, URL: srv.URL, Probe: Probe{URL: srv.URL + "/api/v2/heartbeat", Timeout: time.Minute}}
	p, err := StartService(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	wrong := &Process{Service: s}
	wrong.Service.Probe.URL = srv.URL + "/missing"
	if err := wrong.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "status 404, want 200") {
		t.Errorf("Check of a wrong status: %v", err)
	}
	srv.Close()
	err = p.Check(context.Background())
	want := `service "chroma" (external, ` + srv.URL + `): not serving: GET ` + srv.URL + `/api/v2/heartbeat: connection refused`
	if err == nil || err.Error() != want {
		t.Errorf("Check of a dead service: %v\nwant %s", err, want)
	}
	ctx, cancel := Watch(context.Background(), p) // nothing to watch
	cancel()
	if !errors.Is(context.Cause(ctx), context.Canceled) {
		t.Errorf("cause %v", context.Cause(ctx))
	}
}
