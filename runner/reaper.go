package runner

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// The reaper is a small process that StartService runs beside every
// service it starts, so that the service's whole process group dies with
// benchrun on every path: SIGKILL, a panic, a second signal while stopping.
// A parent-death signal alone would reach only the group leader (not the
// workers vLLM or Ray spawn), and Go ties it to the OS thread that forked.
// The reaper instead reads a pipe whose only writer is benchrun: the kernel
// closes it when benchrun dies, however it dies, and the reaper then stops
// the group as Stop would (SIGTERM, the grace, SIGKILL). Stop releases the
// reaper first, so a service stopped normally is never signaled twice.
//
// The reaper is the running program itself (/proc/self/exe) started as
// `PROG _reap` with BENCHRUN_REAPER=1 in its environment: a program that
// calls StartService must call RunReaper when IsReaper reports true
// (benchrun: the hidden `_reap` command; tests: TestMain).
//
// Protocol on the reaper's stdin, one line each: "group PGID GRACE_NS"
// once the service runs, then "release" when benchrun stopped it. End of
// input before "release" means benchrun is gone. The reaper answers
// "ready" on stdout as soon as it ignores signals, before the service is
// started.

// ReaperCommand is the hidden command under which the program runs
// RunReaper.
const ReaperCommand = "_reap"

// reaperEnv marks the reaper's environment (see IsReaper).
const reaperEnv = "BENCHRUN_REAPER"

// Reaper protocol lines.
const (
	reaperReady   = "ready"
	reaperRelease = "release"
)

// reaperArgv returns the reaper's command line; tests replace it.
var reaperArgv = func() []string {
	exe := "/proc/self/exe" // the running binary, even if its file was replaced
	if _, err := os.Stat(exe); err != nil {
		if e, err := os.Executable(); err == nil {
			exe = e
		}
	}
	return []string{exe, ReaperCommand}
}

// reaperStartTimeout bounds the wait for the reaper's "ready"; tests
// shorten it.
var reaperStartTimeout = 30 * time.Second

// IsReaper reports whether this process was started by StartService as a
// reaper; it must then call RunReaper and exit with its result.
func IsReaper() bool { return os.Getenv(reaperEnv) == "1" }

// RunReaper is the reaper's main function (see IsReaper): it ignores the
// signals that stop benchrun (so that a Ctrl-C or scancel reaching both
// cannot take the reaper first), waits until benchrun releases it or dies,
// and in the latter case stops the service's process group. It returns the
// exit code.
func RunReaper() int {
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	return reap(os.Stdin, os.Stdout, os.Stderr)
}

// reap runs the reaper protocol: ctl is benchrun's pipe, ack the answer
// channel, logw the service log (where the reaper says what it did).
func reap(ctl io.Reader, ack, logw io.Writer) int {
	if _, err := fmt.Fprintln(ack, reaperReady); err != nil {
		return 1 // benchrun is already gone, before any service started
	}
	sc := bufio.NewScanner(ctl)
	if !sc.Scan() {
		return 0 // benchrun closed the pipe before starting the service
	}
	var pgid int
	var grace int64
	if _, err := fmt.Sscanf(sc.Text(), "group %d %d", &pgid, &grace); err != nil || pgid <= 1 || grace < 0 {
		// pgid 1 or less would signal init or every process: never.
		fmt.Fprintf(logw, "# benchrun reaper: bad request %q\n", sc.Text())
		return 2
	}
	for sc.Scan() {
		if sc.Text() == reaperRelease {
			return 0
		}
	}
	// End of input without release: benchrun died.
	fmt.Fprintf(logw, "# benchrun reaper: benchrun is gone; stopping process group %d at %s\n", pgid, time.Now().Format(time.RFC3339))
	killGroup(pgid, time.Duration(grace), logw)
	return 0
}

// killGroup sends SIGTERM to process group pgid, waits up to grace for the
// group to be gone, then sends SIGKILL.
func killGroup(pgid int, grace time.Duration, logw io.Writer) {
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil {
		return // ESRCH: nothing left
	}
	for deadline := time.Now().Add(grace); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		// A zombie leader (no one reaps it) still counts: then the wait
		// lasts the whole grace, and SIGKILL finds only the zombie.
		if syscall.Kill(-pgid, 0) != nil {
			return
		}
	}
	if syscall.Kill(-pgid, syscall.SIGKILL) == nil {
		fmt.Fprintf(logw, "# benchrun reaper: SIGKILL to process group %d after %v\n", pgid, grace)
	}
}

// reaper is benchrun's side of one reaper process.
type reaper struct {
	cmd  *exec.Cmd
	ctl  *os.File      // write end of the reaper's stdin
	done chan struct{} // closed when the reaper has exited
}

// startReaper starts a reaper and waits until it answers ready. logw, if
// not nil, becomes its stderr.
func startReaper(ctx context.Context, logw *os.File) (*reaper, error) {
	if IsReaper() {
		// A program that ignores IsReaper would otherwise start reapers
		// from reapers.
		return nil, errors.New("this process is a reaper (" + reaperEnv + "=1): it must call runner.RunReaper, not start services")
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("reaper: %w", err)
	}
	ackR, ackW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return nil, fmt.Errorf("reaper: %w", err)
	}
	defer ackR.Close()
	argv := reaperArgv()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), reaperEnv+"=1")
	cmd.Stdin, cmd.Stdout = ctlR, ackW
	if logw != nil {
		cmd.Stderr = logw
	}
	// Its own group: a terminal's Ctrl-C, or a CI runner killing
	// benchrun's group, does not reach it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	ctlR.Close()
	ackW.Close()
	if err != nil {
		ctlW.Close()
		return nil, fmt.Errorf("reaper: start %q: %w", argv, err)
	}
	r := &reaper{cmd: cmd, ctl: ctlW, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(r.done)
	}()

	ackR.SetReadDeadline(time.Now().Add(reaperStartTimeout))
	stop := context.AfterFunc(ctx, func() { ackR.SetReadDeadline(time.Now()) })
	line, err := bufio.NewReader(ackR).ReadString('\n')
	stop()
	if strings.TrimSpace(line) != reaperReady {
		r.kill()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("reaper: %w", ctx.Err())
		}
		return nil, fmt.Errorf("reaper %q did not answer %q (%v, read %q): the program must call runner.RunReaper when runner.IsReaper", argv, reaperReady, err, line)
	}
	return r, nil
}

// guard tells the reaper which group to stop if benchrun dies.
func (r *reaper) guard(pgid int, grace time.Duration) error {
	if _, err := fmt.Fprintf(r.ctl, "group %d %d\n", pgid, grace.Nanoseconds()); err != nil {
		return fmt.Errorf("reaper (pid %d) is gone: %w", r.cmd.Process.Pid, err)
	}
	return nil
}

// release tells the reaper that benchrun stopped the group itself. It does
// not wait for the reaper to exit (a goroutine reaps it): "release" is in
// the pipe before its end, so the reaper exits without acting even if
// benchrun exits at once.
func (r *reaper) release() {
	fmt.Fprintln(r.ctl, reaperRelease)
	r.ctl.Close()
}

// kill ends a reaper that must not act (it never answered, or hangs).
func (r *reaper) kill() {
	syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	r.ctl.Close()
	<-r.done
}
