package batch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Command is one run of a batch benchmark.
type Command struct {
	Argv    []string      // full argv, launcher included
	Dir     string        // working directory; created if missing
	Env     []string      // KEY=VALUE added to this process's environment
	Timeout time.Duration // 0: none
	Stdout  string        // file receiving stdout (created, truncated)
	Stderr  string        // file receiving stderr
	// Grace is how long the process group has between SIGTERM and SIGKILL
	// once the run is stopped (timeout or ctx); default 10s.
	Grace time.Duration
}

// Result is how a run went.
type Result struct {
	Start, End time.Time
	ExitCode   int // -1 when killed by a signal
}

// ErrTimeout is the cause of a run stopped by its timeout.
var ErrTimeout = errors.New("timed out")

// Run runs c and waits for it. The command is a Go error when it cannot
// start, exits other than 0, is killed by a signal, or outlives its
// timeout or ctx; the whole process group (mpirun and its ranks) is
// stopped then. The Result is filled in every case where it started.
func Run(ctx context.Context, c Command) (Result, error) {
	var r Result
	if len(c.Argv) == 0 {
		return r, errors.New("no command")
	}
	if c.Dir != "" {
		if err := os.MkdirAll(c.Dir, 0o755); err != nil {
			return r, err
		}
	}
	out, err := os.Create(c.Stdout)
	if err != nil {
		return r, err
	}
	defer out.Close()
	errf, err := os.Create(c.Stderr)
	if err != nil {
		return r, err
	}
	defer errf.Close()
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if c.Timeout > 0 {
		rctx, cancel = context.WithTimeoutCause(ctx, c.Timeout, ErrTimeout)
	}
	defer cancel()
	cmd := exec.CommandContext(rctx, c.Argv[0], c.Argv[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = c.Dir, out, errf
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	grace := c.Grace
	if grace == 0 {
		grace = 10 * time.Second
	}
	cmd.WaitDelay = grace
	r.Start = time.Now()
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("starting %s: %w", c.Argv[0], err)
	}
	err = cmd.Wait()
	r.End = time.Now()
	// Whatever is left of the group (ranks that ignored TERM) goes now.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	r.ExitCode = cmd.ProcessState.ExitCode()
	switch {
	case rctx.Err() != nil && errors.Is(context.Cause(rctx), ErrTimeout):
		return r, fmt.Errorf("%s: %w after %s (process group killed)", c.Argv[0], ErrTimeout, c.Timeout)
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s: stopped: %w", c.Argv[0], context.Cause(ctx))
	case err != nil:
		return r, fmt.Errorf("%s %s (stderr: %s)", c.Argv[0], describe(err), tail(c.Stderr))
	}
	return r, nil
}

func describe(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "was killed by " + ws.Signal().String()
		}
		return fmt.Sprintf("exited with status %d", ee.ExitCode())
	}
	return err.Error()
}

// tail returns the last line of the file at path that is not blank, for
// an error message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unreadable"
	}
	ls := strings.Split(strings.TrimSpace(string(b)), "\n")
	last := strings.TrimSpace(ls[len(ls)-1])
	if last == "" {
		return "empty"
	}
	if len(last) > 200 {
		last = last[:200] + "..."
	}
	return fmt.Sprintf("%q, in %s", last, path)
}
