package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a service: run with BENCHRUN_SERVICE_HELPER set,
// TestServiceHelperProcess becomes the process (see serviceHelperCommand).
const serviceHelperEnv = "BENCHRUN_SERVICE_HELPER"

// serviceHelperCommand returns the argv and env that run the test binary as
// a helper service in the given mode.
func serviceHelperCommand(mode string, env ...string) ([]string, []string) {
	return []string{os.Args[0], "-test.run=^TestServiceHelperProcess$"},
		append([]string{serviceHelperEnv + "=" + mode}, env...)
}

// TestServiceHelperProcess is not a test: it is the helper service.
// Modes: "http" (listen on HELPER_ADDR after HELPER_DELAY, /health answers
// 200; with HELPER_EXIT_AFTER, log "fatal: engine died" and exit 4 that
// long after listening), "sse" (like http, plus /stream trickling
// HELPER_CHUNKS events every HELPER_EVERY), "never" (log lines, never
// listen), "exit" (log, exit 3), "owner" (play benchrun: see
// serviceOwner).
func TestServiceHelperProcess(t *testing.T) {
	mode := os.Getenv(serviceHelperEnv)
	if mode == "" {
		return
	}
	switch mode {
	case "owner":
		serviceOwner()
	case "never":
		for i := range 30 {
			fmt.Printf("loading shard %d\n", i)
		}
		time.Sleep(time.Hour)
	case "exit":
		fmt.Fprintln(os.Stderr, "fatal: CUDA out of memory")
		os.Exit(3)
	case "http", "sse":
		d, _ := time.ParseDuration(os.Getenv("HELPER_DELAY"))
		time.Sleep(d)
		chunks, _ := strconv.Atoi(os.Getenv("HELPER_CHUNKS"))
		every, _ := time.ParseDuration(os.Getenv("HELPER_EVERY"))
		mux := http.NewServeMux()
		mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {})
		mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			f := w.(http.Flusher)
			f.Flush()
			tm := time.NewTimer(every)
			defer tm.Stop()
			for i := range chunks {
				select {
				case <-tm.C:
				case <-r.Context().Done():
					return
				}
				tm.Reset(every)
				fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":\"tok%d\"}}]}\n\n", i)
				f.Flush()
			}
			w.Write([]byte("data: [DONE]\n\n"))
		})
		ln, err := net.Listen("tcp", os.Getenv("HELPER_ADDR"))
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		fmt.Println("listening on", ln.Addr())
		if d, err := time.ParseDuration(os.Getenv("HELPER_EXIT_AFTER")); err == nil {
			time.AfterFunc(d, func() {
				fmt.Println("fatal: engine died")
				os.Exit(4)
			})
		}
		srv := &http.Server{Handler: mux, ErrorLog: nil}
		srv.Serve(ln)
	}
	os.Exit(0)
}

// freeLoopbackAddr returns a 127.0.0.1 address that was free a moment ago.
func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestStartServiceReady(t *testing.T) {
	addr := freeLoopbackAddr(t)
	cmd, env := serviceHelperCommand("http", "HELPER_ADDR="+addr, "HELPER_DELAY=300ms")
	logPath := filepath.Join(t.TempDir(), "logs", "sub", "helper.log")
	s := Service{
		Name: "helper", Command: cmd, Env: env, URL: "http://" + addr, LogPath: logPath,
		Probe: Probe{URL: "http://" + addr + "/health", Interval: 50 * time.Millisecond, Timeout: time.Minute},
	}
	p, err := StartService(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(context.Background())
	resp, err := http.Get(s.URL + "/health")
	if err != nil {
		t.Fatalf("service said ready but: %v", err)
	}
	resp.Body.Close()
	if p.Pid() <= 0 {
		t.Errorf("pid %d", p.Pid())
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	default:
		t.Error("Exited not closed after Stop")
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	b, _ := os.ReadFile(logPath)
	if !strings.Contains(string(b), "listening on "+addr) || !strings.Contains(string(b), "# benchrun: starting") {
		t.Errorf("log %q lacks the service's output", b)
	}
}

func TestStartServiceNotReady(t *testing.T) {
	addr := freeLoopbackAddr(t)
	cmd, env := serviceHelperCommand("never")
	logPath := filepath.Join(t.TempDir(), "never.log")
	s := Service{
		Name: "vllm", Command: cmd, Env: env, URL: "http://" + addr, LogPath: logPath, StopGrace: time.Second,
		// 5s, not 1s: under make unit the helper process may take over a
		// second just to start and print its log.
		Probe: Probe{Interval: 50 * time.Millisecond, Timeout: 5 * time.Second},
	}
	_, err := StartService(context.Background(), s)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		`service "vllm": not ready after 5s (GET http://` + addr + `: connection refused)`,
		"last lines of " + logPath + ":\n",
		"loading shard 29",
		"loading shard 10\n",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "loading shard 9\n") {
		t.Errorf("error quotes more than %d lines:\n%s", logTailLines, msg)
	}
}

func TestStartServiceExitsEarly(t *testing.T) {
	cmd, env := serviceHelperCommand("exit")
	logPath := filepath.Join(t.TempDir(), "exit.log")
	s := Service{
		Name: "ollama", Command: cmd, Env: env, URL: "http://" + freeLoopbackAddr(t), LogPath: logPath,
		Probe: Probe{Interval: 50 * time.Millisecond, Timeout: 10 * time.Minute},
	}
	began := time.Now()
	_, err := StartService(context.Background(), s)
	if err == nil {
		t.Fatal("no error")
	}
	if time.Since(began) > 5*time.Minute {
		t.Errorf("took %v: did not notice the exit", time.Since(began))
	}
	for _, want := range []string{`service "ollama": exited (exit status 3)`, "before it was ready", "fatal: CUDA out of memory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestStartServiceBadCommand(t *testing.T) {
	_, err := StartService(context.Background(), Service{Name: "x", Command: []string{"/nonexistent/benchrun-no-such-binary"}})
	if err == nil || !strings.Contains(err.Error(), `service "x": start`) {
		t.Errorf("error %v", err)
	}
	if _, err := StartService(context.Background(), Service{Name: "y"}); err == nil {
		t.Error("no error without a command")
	}
}

// processGone reports whether pid no longer runs (gone or a zombie).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// "pid (comm) S ..." — the state follows the last ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

func TestStopKillsProcessGroup(t *testing.T) {
	tests := []struct {
		name   string
		script string
	}{
		{"SIGTERM", `sleep 1000 & echo $! > "$PIDFILE"; wait`},
		// Ignoring SIGTERM (inherited by the grandchild) forces SIGKILL.
		{"SIGKILL after grace", `trap "" TERM; sleep 1000 & echo $! > "$PIDFILE"; wait`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			s := Service{
				Name: "group", Command: []string{"sh", "-c", tc.script}, Env: []string{"PIDFILE=" + pidFile},
				StopGrace: 300 * time.Millisecond,
			}
			p, err := StartService(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			var grandchild int
			for deadline := time.Now().Add(time.Minute); grandchild == 0 && time.Now().Before(deadline); {
				b, _ := os.ReadFile(pidFile)
				grandchild, _ = strconv.Atoi(strings.TrimSpace(string(b)))
				time.Sleep(10 * time.Millisecond)
			}
			if grandchild == 0 {
				t.Fatal("grandchild did not start")
			}
			if err := p.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !processGone(p.Pid()) {
				t.Errorf("leader %d still runs", p.Pid())
			}
			// SIGKILL is delivered asynchronously: give the kernel a moment.
			for deadline := time.Now().Add(5 * time.Second); !processGone(grandchild) && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			if !processGone(grandchild) {
				syscall.Kill(grandchild, syscall.SIGKILL)
				t.Errorf("grandchild %d still runs", grandchild)
			}
		})
	}
}

func TestServiceWrapAndEnv(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	s := Service{
		Name: "wrapped", Command: []string{"sh", "-c", `echo "$WRAPPED $OWN" > "$OUT"`},
		Env:  []string{"OWN=own", "OUT=" + out},
		Wrap: func(cmd []string) []string { return append([]string{"env", "WRAPPED=wrapped"}, cmd...) },
	}
	p, err := StartService(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	case <-time.After(time.Minute):
		t.Fatal("did not exit")
	}
	if p.Err() != nil {
		t.Errorf("exit: %v", p.Err())
	}
	if b, _ := os.ReadFile(out); string(b) != "wrapped own\n" {
		t.Errorf("output %q, want the wrapper's and the service's environment", b)
	}
	if s.Command[0] != "sh" {
		t.Error("Wrap changed the caller's Command")
	}
	p.Stop(context.Background()) // after exit: must return at once
}

func TestStartServiceExternal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/heartbeat" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ok := Service{Name: "chroma", External: true, URL: srv.URL, Probe: Probe{URL: srv.URL + "/api/v2/heartbeat", Timeout: time.Minute}}
	p, err := StartService(context.Background(), ok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Exited() != nil || p.Stop(context.Background()) != nil || p.Pid() != 0 {
		t.Error("external service has a process")
	}
	bad := ok
	bad.Probe = Probe{URL: srv.URL + "/missing", Timeout: 300 * time.Millisecond, Interval: 50 * time.Millisecond}
	_, err = StartService(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), "status 404, want 200") || !strings.Contains(err.Error(), "external") {
		t.Errorf("error %v, want the probe's status", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	bad.Probe.Timeout = time.Hour
	if _, err := StartService(ctx, bad); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled probe: %v", err)
	}
}
