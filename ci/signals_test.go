package ci

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalsHelperProcess is not a test: TestStopOnSignals runs the test
// binary with BENCHRUN_SIGNALS_HELPER=1 to have a process to signal. It
// waits for the stop, says so, waits up to a second for a hard stop and
// says so, takes 500ms to shut down and exits 130.
func TestSignalsHelperProcess(t *testing.T) {
	if os.Getenv("BENCHRUN_SIGNALS_HELPER") != "1" {
		t.Skip("helper process for TestStopOnSignals")
	}
	ctx, stop := StopOnSignals(context.Background())
	defer stop()
	fmt.Println("ready")
	<-ctx.Done()
	fmt.Println("stopping:", context.Cause(ctx))
	hard := hardStop(ctx)
	select {
	case <-hard.Done():
		fmt.Println("hard stop:", context.Cause(hard))
	case <-time.After(time.Second):
	}
	time.Sleep(500 * time.Millisecond)
	os.Exit(ExitInterrupted)
}

// TestStopOnSignals: a second SIGTERM during the shutdown (SLURM and the
// job script each deliver one) is the same stop; a second SIGINT (a
// person pressing Ctrl-C again) is a hard stop, and the process still
// exits 130 on its own; a third SIGINT kills it.
func TestStopOnSignals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sigs   []syscall.Signal
		hard   bool // the hard-stop context was cancelled
		killed bool
	}{
		{"term twice", []syscall.Signal{syscall.SIGTERM, syscall.SIGTERM}, false, false},
		{"usr1 then term", []syscall.Signal{syscall.SIGUSR1, syscall.SIGTERM}, false, false},
		{"interrupt twice", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, true, false},
		{"interrupt three times", []syscall.Signal{syscall.SIGINT, syscall.SIGINT, syscall.SIGINT}, true, true},
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
			cmd.Process.Signal(tc.sigs[0])
			if !lines.Scan() || !strings.HasPrefix(lines.Text(), "stopping:") {
				t.Fatalf("helper did not say it was stopping: %q", lines.Text())
			}
			cmd.Process.Signal(tc.sigs[1])
			hard := false
			if tc.hard {
				hard = lines.Scan() && lines.Text() == "hard stop: "+ErrHardStop.Error()
				if len(tc.sigs) > 2 {
					cmd.Process.Signal(tc.sigs[2])
				}
			}
			for lines.Scan() {
				hard = hard || strings.HasPrefix(lines.Text(), "hard stop")
			}
			if hard != tc.hard {
				t.Errorf("hard stop: %t, want %t", hard, tc.hard)
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("helper ended with %v", err)
			}
			ws := ee.Sys().(syscall.WaitStatus)
			if killed := ws.Signaled(); killed != tc.killed {
				t.Errorf("killed by the last signal: %v (status %v), want %v", killed, ws, tc.killed)
			}
			if !tc.killed && ee.ExitCode() != ExitInterrupted {
				t.Errorf("exit %d, want %d", ee.ExitCode(), ExitInterrupted)
			}
		})
	}
}
