package ci

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
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

// TestInterruptedTwice: Ctrl-C twice while benchrun waits out the stop
// grace of a service that ignores SIGTERM (before: the second one killed
// benchrun, without reports, the manifest not marked incomplete). The
// second is a hard stop: the service's process group is killed at once,
// the manifest says the run was interrupted twice, the reports are
// written from the samples on disk, and benchrun exits 130 well within
// the 10 s stop grace, leaving no process of the service behind.
func TestInterruptedTwice(t *testing.T) {
	t.Parallel()
	bin := benchrunBinary(t)
	work := t.TempDir()
	port := closedPort(t)
	marker := fmt.Sprintf("62.%d", os.Getpid()%100000) // the sleep that ignores SIGTERM
	command := fmt.Sprintf("trap '' TERM; sleep %s & exec %s emulate vllm --host 127.0.0.1 --port %d --model demo-model", marker, bin, port)
	writeFile(t, filepath.Join(work, "twice.toml"), fmt.Sprintf(`schema_version = 1
[suite]
name = "twice"
[[service]]
name = "llm"
kind = "command"
port = %d
command = %q
  [service.readiness]
  path = "/health"
  timeout = "30s"
[[benchmark]]
name = "chat"
service = "llm"
kind = "openai"
  [benchmark.workload]
  users = [4, 16]
  duration = "60s"
  [benchmark.dataset]
  prompt_tokens = 64
  output_tokens = 16
`, port, command))
	t.Cleanup(func() {
		for _, pid := range processesWith(marker) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	r := startRun(t, work, "twice.toml")
	emulator := findProcess(t, strconv.Itoa(port))
	if len(processesWith(marker)) == 0 {
		t.Fatal("the service's sleep that ignores SIGTERM does not run")
	}
	first := time.Now()
	r.cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(500 * time.Millisecond) // benchrun now waits out the stop grace
	r.cmd.Process.Signal(syscall.SIGINT)
	second := time.Now()
	code := r.wait(t, 30*time.Second)
	if code != ExitInterrupted {
		t.Errorf("exit %d, want %d\n%s", code, ExitInterrupted, r.stderr.String())
	}
	if took := time.Since(second); took > 5*time.Second || time.Since(first) > 8*time.Second {
		t.Errorf("benchrun exited %v after the second SIGINT (%v after the first): the 10s stop grace was waited out", took, time.Since(first))
	}
	if pids := processesWith(marker); len(pids) > 0 {
		t.Errorf("processes of the service group left running: %v", pids)
	}
	if emulator != 0 && !gone(emulator, time.Second) {
		t.Errorf("emulator pid %d left running", emulator)
	}
	for deadline := time.Now().Add(5 * time.Second); len(reapers(bin, work)) > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if pids := reapers(bin, work); len(pids) > 0 {
		t.Errorf("reapers left running: %v", pids)
	}
	checkInterruptedTwice(t, r.dir)
}

// checkInterruptedTwice checks the results directory of a run stopped by
// two SIGINTs during its first case.
func checkInterruptedTwice(t *testing.T, dir string) {
	t.Helper()
	m, err := results.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Incomplete || m.Reason != reasonHardStop {
		t.Errorf("manifest: incomplete %t, reason %q; want %q", m.Incomplete, m.Reason, reasonHardStop)
	}
	if c := m.Cases; c[0].Status != results.StatusDone || c[0].Error != results.Interrupted || c[1].Status != results.StatusSkipped {
		t.Errorf("cases: %+v", c)
	}
	canceled := 0
	results.ReadSampleFile(filepath.Join(dir, m.Cases[0].Samples), func(s *results.Sample) error {
		if s.Error == results.ErrCanceled {
			canceled++
		}
		return nil
	})
	if canceled == 0 {
		t.Error("no in-flight request recorded as canceled")
	}
	nonEmpty(t, filepath.Join(dir, "summary.json"), filepath.Join(dir, "report.md"), filepath.Join(dir, "report.html"), filepath.Join(dir, "junit.xml"))
	if md, _ := os.ReadFile(filepath.Join(dir, "report.md")); !bytes.Contains(bytes.ToLower(md), []byte("incomplete")) {
		t.Errorf("report.md does not say the run is incomplete")
	}
}
