package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func files(t *testing.T) (string, string) {
	d := t.TempDir()
	return filepath.Join(d, "out"), filepath.Join(d, "err")
}

func TestRun(t *testing.T) {
	out, errf := files(t)
	dir := filepath.Join(t.TempDir(), "work")
	r, err := Run(context.Background(), Command{Argv: []string{"sh", "-c", "pwd; echo $BENCH_X; echo warn >&2"}, Dir: dir, Env: []string{"BENCH_X=42"}, Stdout: out, Stderr: errf})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if got := string(b); got != dir+"\n42\n" {
		t.Errorf("stdout %q", got)
	}
	if b, _ := os.ReadFile(errf); string(b) != "warn\n" {
		t.Errorf("stderr %q", b)
	}
	if r.ExitCode != 0 || !r.End.After(r.Start) {
		t.Errorf("%+v", r)
	}
}

func TestRunFailures(t *testing.T) {
	for _, c := range []struct {
		name    string
		argv    []string
		timeout time.Duration
		want    string
	}{
		{"exit status", []string{"sh", "-c", "echo broken >&2; exit 3"}, 0, `exited with status 3 (stderr: "broken"`},
		{"signal", []string{"sh", "-c", "kill -9 $$"}, 0, "was killed by killed"},
		{"not found", []string{"/nonexistent/io500"}, 0, "starting /nonexistent/io500"},
		{"timeout", []string{"sh", "-c", "sleep 30 & sleep 30; wait"}, 200 * time.Millisecond, "timed out after 200ms"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errf := files(t)
			start := time.Now()
			_, err := Run(context.Background(), Command{Argv: c.argv, Timeout: c.timeout, Stdout: out, Stderr: errf, Grace: time.Second})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if c.timeout > 0 && (!errors.Is(err, ErrTimeout) || time.Since(start) > 5*time.Second) {
				t.Errorf("timeout took %s: %v", time.Since(start), err)
			}
		})
	}
}

// A stopped run stops the whole process group, children included.
func TestRunStopsGroup(t *testing.T) {
	out, errf := files(t)
	pidFile := filepath.Join(t.TempDir(), "child")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if _, err := os.Stat(pidFile); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	_, err := Run(ctx, Command{Argv: []string{"sh", "-c", "sleep 60 & echo $! > " + pidFile + "; wait"}, Stdout: out, Stderr: errf, Grace: time.Second})
	if err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("%v", err)
	}
	b, _ := os.ReadFile(pidFile)
	pid := strings.TrimSpace(string(b))
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat("/proc/" + pid); err != nil {
			return
		}
		st, _ := os.ReadFile("/proc/" + pid + "/stat")
		if strings.Contains(string(st), ") Z ") {
			return // a zombie: killed, not yet reaped by init
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("child %s still runs", pid)
}
