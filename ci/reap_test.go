package ci

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
)

// reapers returns the pids of the reapers that the binary bin runs in
// the directory dir (a benchrun's, which its reapers inherit): other
// tests run the binary at the same time, in their own directories.
func reapers(bin, dir string) []int {
	dir, _ = filepath.EvalSymlinks(dir)
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, _ := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		b, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if argv := strings.Split(string(b), "\x00"); exe == bin && cwd == dir && len(argv) > 1 && argv[1] == runner.ReaperCommand {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestKilledRunLeavesNoService: SIGKILL gives benchrun no chance to stop
// its services; the reaper it started beside the emulator (the binary's
// hidden _reap command) stops it.
func TestKilledRunLeavesNoService(t *testing.T) {
	t.Parallel()
	bin := benchrunBinary(t)
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		t.Skip("no /proc")
	}
	work := t.TempDir()
	model := fmt.Sprintf("sigkill-test-%d", os.Getpid())
	copySuite(t, work, "long.toml", `duration = "2s"`, `duration = "60s"`, `model = "demo-model"`, `model = "`+model+`"`)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "suite", "long.toml", "-o", "r")
	cmd.Dir = work
	cmd.Env = binEnv()
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	dir := filepath.Join(work, "r")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if files := sampleFiles(t, dir); len(files) > 0 {
			if st, err := os.Stat(files[0]); err == nil && st.Size() > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no samples after 60s\n%s", stderr.String())
		}
	}
	emulator := findProcess(t, model)
	if emulator == 0 {
		t.Fatal("no emulator to watch")
	}
	t.Cleanup(func() { syscall.Kill(emulator, syscall.SIGKILL) }) // only if the test failed to see it stop
	if len(reapers(bin, work)) == 0 {
		t.Fatal("no reaper runs beside the emulator")
	}
	var m manifestFile
	readJSON(t, filepath.Join(dir, "manifest.json"), &m)
	addr := strings.TrimPrefix(m.Services[0].URL, "http://")

	cmd.Process.Kill()
	cmd.Wait()
	if !gone(emulator, 15*time.Second) {
		t.Fatalf("emulator pid %d still running after benchrun was killed\n%s", emulator, stderr.String())
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("something still listens at %s after benchrun was killed", addr)
	}
	for deadline := time.Now().Add(10 * time.Second); len(reapers(bin, work)) > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if pids := reapers(bin, work); len(pids) > 0 {
		t.Errorf("reapers %v still run after the emulator stopped", pids)
	}
	b, _ := os.ReadFile(filepath.Join(dir, m.Services[0].Log))
	if !strings.Contains(string(b), "# benchrun reaper: benchrun is gone; stopping process group") {
		t.Errorf("the service log does not say the reaper stopped it:\n%s", b)
	}
}

func TestReapCommandNotByHand(t *testing.T) {
	r := runCLI(t, runner.ReaperCommand)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "not by hand") {
		t.Errorf("%v", r)
	}
}
