package ci

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bgRun is a process of a test running in the background: benchrun
// while the test injects a fault, or a server the test started.
type bgRun struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	exited         chan struct{} // closed when the process has exited; err is then set
	err            error
}

// syncBuffer is a bytes.Buffer that may be read while a process writes it.
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

// startBin starts the benchrun binary in dir with args.
func startBin(t *testing.T, dir string, args ...string) *bgRun {
	t.Helper()
	return startCmd(t, dir, benchrunBinary(t), args...)
}

// startCmd starts name in dir with args and benchrun's environment; the
// process is killed when the test ends, if it is still running.
func startCmd(t *testing.T, dir, name string, args ...string) *bgRun {
	t.Helper()
	b := &bgRun{cmd: exec.Command(name, args...), exited: make(chan struct{})}
	b.cmd.Dir, b.cmd.Env = dir, binEnv()
	b.cmd.Stdout, b.cmd.Stderr = &b.stdout, &b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b.err = b.cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-b.exited:
		default:
			b.cmd.Process.Kill()
			<-b.exited
		}
	})
	return b
}

// wait waits at most within for the process to exit and returns what it
// left. A process killed by a signal has code -1, and its stderr ends
// with a line that names the signal.
func (b *bgRun) wait(t *testing.T, within time.Duration) cliResult {
	t.Helper()
	select {
	case <-b.exited:
	case <-time.After(within):
		b.cmd.Process.Kill()
		<-b.exited
		t.Fatalf("%s still running after %v: killed\n%s\n%s", b.cmd.Args[0], within, b.stdout.String(), b.stderr.String())
	}
	r := cliResult{stdout: b.stdout.String(), stderr: b.stderr.String()}
	var ee *exec.ExitError
	switch {
	case b.err == nil:
	case errors.As(b.err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	case errors.As(b.err, &ee):
		r.code = -1
		r.stderr += fmt.Sprintf("\n[%s: %v]\n", b.cmd.Args[0], ee.Sys().(syscall.WaitStatus).Signal())
	default:
		t.Fatal(b.err)
	}
	return r
}

// waitSamples waits until the results directory dir holds a samples file
// with content: the case is under way.
func (b *bgRun) waitSamples(t *testing.T, dir string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; {
		for _, p := range sampleFiles(t, dir) {
			if st, err := os.Stat(p); err == nil && st.Size() > 0 {
				return
			}
		}
		select {
		case <-b.exited:
			t.Fatalf("benchrun exited before any sample: %v\n%s\n%s", b.err, b.stdout.String(), b.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no samples after 60s\n%s", b.stderr.String())
		}
	}
}

var listeningOn = regexp.MustCompile(`listening on (http://\S+)`)

// listening waits for `benchrun emulate` to say where it listens and
// returns that URL.
func (b *bgRun) listening(t *testing.T) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if m := listeningOn.FindStringSubmatch(b.stdout.String()); m != nil {
			return m[1]
		}
		select {
		case <-b.exited:
			t.Fatalf("the emulator exited: %v\n%s", b.err, b.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("the emulator did not say where it listens\n%s", b.stdout.String())
	return ""
}
