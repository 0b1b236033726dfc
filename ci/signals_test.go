package ci

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestSignalsHelperProcess is not a test: TestStopOnSignals runs the test
// binary with BENCHRUN_SIGNALS_HELPER=1 to have a process to signal. It
// waits for the stop, says so, takes 500ms to shut down and exits 130.
func TestSignalsHelperProcess(t *testing.T) {
	if os.Getenv("BENCHRUN_SIGNALS_HELPER") != "1" {
		t.Skip("helper process for TestStopOnSignals")
	}
	ctx, stop := StopOnSignals(context.Background())
	defer stop()
	fmt.Println("ready")
	<-ctx.Done()
	fmt.Println("stopping:", context.Cause(ctx))
	time.Sleep(500 * time.Millisecond)
	os.Exit(ExitInterrupted)
}

// TestStopOnSignals: a second SIGTERM during the shutdown (SLURM and the
// job script each deliver one) does not kill the process; a second SIGINT
// (a person pressing Ctrl-C again) does.
func TestStopOnSignals(t *testing.T) {
	for _, tc := range []struct {
		name          string
		first, second syscall.Signal
		killed        bool
	}{
		{"term twice", syscall.SIGTERM, syscall.SIGTERM, false},
		{"usr1 then term", syscall.SIGUSR1, syscall.SIGTERM, false},
		{"interrupt twice", syscall.SIGINT, syscall.SIGINT, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSignalsHelperProcess$")
			cmd.Env = append(os.Environ(), "BENCHRUN_SIGNALS_HELPER=1")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := bufio.NewScanner(out)
			if !lines.Scan() || lines.Text() != "ready" {
				t.Fatalf("helper said %q", lines.Text())
			}
			cmd.Process.Signal(tc.first)
			if !lines.Scan() {
				t.Fatal("helper did not say it was stopping")
			}
			cmd.Process.Signal(tc.second)
			for lines.Scan() {
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("helper ended with %v", err)
			}
			ws := ee.Sys().(syscall.WaitStatus)
			if killed := ws.Signaled(); killed != tc.killed {
				t.Errorf("killed by the second signal: %v (status %v), want %v", killed, ws, tc.killed)
			}
			if !tc.killed && ee.ExitCode() != ExitInterrupted {
				t.Errorf("exit %d, want %d", ee.ExitCode(), ExitInterrupted)
			}
		})
	}
}
