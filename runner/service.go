package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults for zero Probe and Service fields.
const (
	DefaultProbeTimeout  = 5 * time.Minute
	DefaultProbeInterval = 500 * time.Millisecond
	DefaultStopGrace     = 10 * time.Second
)

// logTailLines is how many lines of a service log an error quotes.
const logTailLines = 20

// Service is a process benchrun starts and stops around cases (vLLM, Ollama,
// Chroma, ...), or an external one it only probes.
type Service struct {
	Name    string
	Kind    string
	Command []string // argv; ignored when External
	Env     []string // "K=V" added to benchrun's own environment
	Dir     string   // working directory; "" = benchrun's
	URL     string   // base URL clients use
	// External services are given by URL: probed, never started or stopped.
	External bool
	Probe    Probe
	// LogPath receives the process's stdout and stderr, appended; parent
	// directories are created. "" discards the output.
	LogPath string
	// Wrap, if set, rewrites Command before it runs (srun, apptainer exec).
	Wrap func(cmd []string) []string
	// StopGrace is how long Stop (and the reaper, when benchrun dies)
	// waits after SIGTERM before SIGKILL; 0 means DefaultStopGrace.
	StopGrace time.Duration
	// Log receives an error record, at once, when the service exits on
	// its own after it was ready; nil means slog.Default().
	Log *slog.Logger
}

// Probe says how to tell that a service is ready: GET URL until it answers
// Status.
type Probe struct {
	URL      string        // "" = the service URL; both empty = ready once started
	Timeout  time.Duration // give up after; 0 = DefaultProbeTimeout
	Interval time.Duration // between attempts; 0 = DefaultProbeInterval
	Status   int           // expected HTTP status; 0 = 200
}

// Process is a started (or external) service. Its methods are safe for
// concurrent use.
type Process struct {
	Service Service
	cmd     *exec.Cmd // nil for external services
	pgid    int
	reaper  *reaper // stops the group if benchrun dies; nil for external services

	exited  chan struct{} // closed when the leader has been reaped
	waitErr error         // the leader's exit status; valid after exited
	exitErr *ExitError    // set before exited is closed if the exit was unexpected

	mu         sync.Mutex // guards state, leaderDone, readyAt
	state      procState
	leaderDone bool
	readyAt    time.Time

	stopMu  sync.Mutex
	stopped bool
	stopErr error
}

// procState is where a started service is in its life.
type procState int

const (
	starting procState = iota // started, not yet ready
	running                   // ready: an exit now is unexpected
	stopping                  // Stop was called: an exit now is expected
)

// ExitError is what a started service that exited on its own after it was
// ready turns into: the cause of a Watch context, the result of Check, and
// the text of the record logged when it happened. It names the service and
// quotes the last lines of its log.
type ExitError struct {
	Service string
	Pid     int
	Status  error         // the leader's exit status from wait; nil for status 0
	Ran     time.Duration // from ready to exit
	tail    string        // logTail of the service log
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("service %q exited (%s) %s after it was ready%s", e.Service, exitStatus(e.Status), e.Ran.Round(time.Millisecond), e.tail)
}

// Unwrap returns the exit status (an *exec.ExitError, or nil).
func (e *ExitError) Unwrap() error { return e.Status }

// exitStatus spells a wait result: "exit status 3", "signal: killed".
func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// StartService starts s in its own process group, with stdout and stderr
// appended to s.LogPath, and waits until s.Probe succeeds. For an external
// service it only probes. It fails early if the process exits before it is
// ready; on any failure it stops what it started and returns an error that
// names the service, the cause and the last lines of its log.
//
// Beside the service it starts a reaper (see RunReaper) that stops the
// service's process group if this process dies without calling Stop.
// Once the service is ready, an exit of its own is logged at once to
// s.Log and reported by Watch and Check.
//
// ctx bounds the start and the readiness wait only: a started service runs
// until Stop, which the caller must call.
func StartService(ctx context.Context, s Service) (*Process, error) {
	p := &Process{Service: s, exited: make(chan struct{})}
	if s.External {
		if err := waitReady(ctx, s, nil); err != nil {
			return nil, fmt.Errorf("service %q (external, %s): %w", s.Name, s.URL, err)
		}
		return p, nil
	}
	if len(s.Command) == 0 {
		return nil, fmt.Errorf("service %q: no command", s.Name)
	}
	argv := s.Command
	if s.Wrap != nil {
		argv = s.Wrap(slices.Clone(argv))
		if len(argv) == 0 {
			return nil, fmt.Errorf("service %q: wrapping %q left no command", s.Name, s.Command)
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	if len(s.Env) > 0 {
		cmd.Env = append(os.Environ(), s.Env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var logFile *os.File
	if s.LogPath != "" {
		if err := os.MkdirAll(filepath.Dir(s.LogPath), 0o755); err != nil {
			return nil, fmt.Errorf("service %q: log: %w", s.Name, err)
		}
		f, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("service %q: log: %w", s.Name, err)
		}
		defer f.Close() // the child has its own copy
		fmt.Fprintf(f, "# benchrun: starting %q at %s\n", argv, time.Now().Format(time.RFC3339))
		// An *os.File is handed to the child as is: no copying goroutine, and
		// Wait does not hang on grandchildren that keep the file open.
		cmd.Stdout, cmd.Stderr = f, f
		logFile = f
	}
	// The reaper first: it guards the service from its first instant.
	rp, err := startReaper(ctx, logFile)
	if err != nil {
		return nil, fmt.Errorf("service %q: %w", s.Name, err)
	}
	if err := cmd.Start(); err != nil {
		rp.release()
		return nil, fmt.Errorf("service %q: start %q: %w", s.Name, argv, err)
	}
	p.cmd, p.pgid, p.reaper = cmd, cmd.Process.Pid, rp
	if target, _ := probeTarget(s); target == "" {
		// No probe: started is ready, so an exit from now on is an exit
		// of a running service (Watch, ExitError), not a failed start.
		p.state, p.readyAt = running, time.Now()
	}
	go p.wait()
	if err := rp.guard(p.pgid, p.grace()); err != nil {
		p.Stop(context.Background())
		return nil, fmt.Errorf("service %q: %w", s.Name, err)
	}

	began := time.Now()
	err = waitReady(ctx, s, p.exited)
	if err == nil {
		p.mu.Lock()
		switch {
		case p.leaderDone && p.state == starting:
			err = errExited // it answered the probe, then exited at once
		case p.state == starting:
			p.state, p.readyAt = running, time.Now()
		}
		p.mu.Unlock()
	}
	if err != nil {
		if errors.Is(err, errExited) {
			<-p.exited
			err = fmt.Errorf("exited (%v) %s after starting, before it was ready", p.waitErr, time.Since(began).Round(time.Millisecond))
		}
		p.Stop(context.Background())
		return nil, fmt.Errorf("service %q: %w%s", s.Name, err, logTail(s.LogPath))
	}
	return p, nil
}

// wait reaps the leader and, if it exited while running, logs it and
// records the ExitError before closing exited.
func (p *Process) wait() {
	err := p.cmd.Wait()
	p.mu.Lock()
	p.waitErr, p.leaderDone = err, true
	unexpected := p.state == running
	ran := time.Since(p.readyAt)
	p.mu.Unlock()
	if unexpected {
		s := p.Service
		p.exitErr = &ExitError{Service: s.Name, Pid: p.pgid, Status: err, Ran: ran, tail: logTail(s.LogPath)}
		log := s.Log
		if log == nil {
			log = slog.Default()
		}
		log.Error("service exited", "service", s.Name, "pid", p.pgid, "status", exitStatus(err),
			"ran", ran.Round(time.Millisecond), "log", s.LogPath, "log_tail", strings.TrimPrefix(p.exitErr.tail, "; "))
	}
	close(p.exited)
}

func (p *Process) grace() time.Duration {
	if p.Service.StopGrace > 0 {
		return p.Service.StopGrace
	}
	return DefaultStopGrace
}

var errExited = errors.New("process exited")

// waitReady polls the probe until it answers the expected status, the
// timeout passes, ctx is done or exited is closed (errExited).
func waitReady(ctx context.Context, s Service, exited <-chan struct{}) error {
	target, want := probeTarget(s)
	if target == "" {
		return nil
	}
	timeout, interval := s.Probe.Timeout, s.Probe.Interval
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	if interval <= 0 {
		interval = DefaultProbeInterval
	}
	deadline := time.Now().Add(timeout)
	client := probeClient()
	t := time.NewTimer(0)
	defer t.Stop()
	last := "no attempt finished"
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (GET %s: %s)", ctx.Err(), target, last)
		case <-exited:
			return errExited
		case <-t.C:
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return fmt.Errorf("not ready after %v (GET %s: %s)", timeout, target, last)
		}
		attempt := min(max(interval, 2*time.Second), remaining)
		actx, cancel := context.WithTimeout(ctx, attempt)
		status, err := probeOnce(actx, client, target)
		cancel()
		switch {
		case err != nil:
			last = err.Error()
		case status == want:
			return nil
		default:
			last = fmt.Sprintf("status %d, want %d", status, want)
		}
		t.Reset(interval)
	}
}

// probeTarget returns the URL the probe GETs ("" when there is none: ready
// once started) and the status it expects.
func probeTarget(s Service) (string, int) {
	target := s.Probe.URL
	if target == "" {
		target = s.URL
	}
	want := s.Probe.Status
	if want == 0 {
		want = http.StatusOK
	}
	return target, want
}

// probeClient is the HTTP client of probes: no keep-alive, so that each
// probe tests a new connection; no proxy, since services live on the
// cluster network.
func probeClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

// CheckTimeout bounds Check's probe when its context has no earlier
// deadline.
const CheckTimeout = 10 * time.Second

// Check tells whether the service still serves, with one attempt of its
// readiness probe (bounded by ctx and CheckTimeout). It returns nil if the
// probe answers as it did when the service became ready (or the service has
// no probe and still runs); else an error naming the service: the
// *ExitError of a started service that exited on its own, or the probe's
// failure ("connection refused", a wrong status). The load side calls it
// when connect errors appear, to tell a dead service (an execution error)
// from a client-side failure; it is the only health signal of an external
// service.
func (p *Process) Check(ctx context.Context) error {
	s := p.Service
	if p.cmd != nil {
		select {
		case <-p.exited:
			if p.exitErr != nil {
				return p.exitErr
			}
			return fmt.Errorf("service %q: stopped (%s)", s.Name, exitStatus(p.waitErr))
		default:
		}
	}
	target, want := probeTarget(s)
	if target == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	status, err := probeOnce(ctx, probeClient(), target)
	if err == nil && status != want {
		err = fmt.Errorf("status %d, want %d", status, want)
	}
	if err == nil {
		return nil
	}
	what := fmt.Sprintf("service %q", s.Name)
	if s.External {
		what = fmt.Sprintf("service %q (external, %s)", s.Name, s.URL)
	}
	return fmt.Errorf("%s: not serving: GET %s: %w", what, target, err)
}

// probeOnce performs one GET and returns the status; errors are reduced to
// their cause ("connection refused"), since the caller names the URL.
func probeOnce(ctx context.Context, c *http.Client, target string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return 0, errors.New("connection refused")
		}
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// logTail formats the last lines of a log for an error message, or "" when
// there is nothing to show.
func logTail(path string) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const window = 16 << 10
	size, _ := f.Seek(0, io.SeekEnd)
	off := max(size-window, 0)
	b := make([]byte, size-off)
	if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
		return ""
	}
	b = bytes.TrimRight(b, "\n")
	lines := strings.Split(string(b), "\n")
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // the first one is probably cut
	}
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	if len(lines) == 0 || (len(lines) == 1 && lines[0] == "") {
		return fmt.Sprintf("; %s is empty", path)
	}
	return fmt.Sprintf("; last lines of %s:\n%s", path, strings.Join(lines, "\n"))
}

// Exited is closed when the service's main process has exited; nil (never
// ready) for an external service.
func (p *Process) Exited() <-chan struct{} {
	if p.cmd == nil {
		return nil
	}
	return p.exited
}

// Err returns the main process's exit status (nil for a clean exit) once
// Exited is closed, and nil before or for an external service.
func (p *Process) Err() error {
	if p.cmd == nil {
		return nil
	}
	select {
	case <-p.exited:
		return p.waitErr
	default:
		return nil
	}
}

// Pid returns the main process id, which is also its process group id; 0
// for an external service.
func (p *Process) Pid() int { return p.pgid }

// Stop ends the service's whole process group: SIGTERM, then SIGKILL after
// Service.StopGrace (or as soon as ctx is done). It returns once the group is
// gone or killed, nil unless the group could not be signaled; then it
// releases the reaper. It is idempotent: a later or concurrent call waits
// for the first one and returns its result, so a second stop (a second
// signal) cannot leave the group behind. External services are left alone.
func (p *Process) Stop(ctx context.Context) error {
	if p.cmd == nil {
		return nil
	}
	p.mu.Lock()
	p.state = stopping // from now on an exit is expected: not logged, not an ExitError
	p.mu.Unlock()
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	if p.stopped {
		return p.stopErr
	}
	p.stopped = true
	p.stopErr = p.stopGroup(ctx)
	if p.stopErr == nil {
		p.reaper.release()
	} // else the reaper keeps guarding: it tries again when benchrun exits
	return p.stopErr
}

func (p *Process) stopGroup(ctx context.Context) error {
	grace := p.grace()
	if err := syscall.Kill(-p.pgid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			<-p.exited // the whole group is already gone
			return nil
		}
		return fmt.Errorf("service %q: SIGTERM to process group %d: %w", p.Service.Name, p.pgid, err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	// Wait for the leader, then for the rest of the group: a grandchild
	// may outlive the leader and keep a GPU or a port.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	exited := p.exited
wait:
	for {
		select {
		case <-exited:
			exited = nil
		case <-tick.C:
		case <-t.C:
			break wait
		case <-ctx.Done():
			break wait
		}
		if exited == nil && syscall.Kill(-p.pgid, 0) != nil {
			return nil
		}
	}
	if err := syscall.Kill(-p.pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("service %q: SIGKILL to process group %d: %w", p.Service.Name, p.pgid, err)
	}
	<-p.exited
	return nil
}
