package ci

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCPUProfileEnv: BENCHRUN_CPUPROFILE makes a command write a CPU
// profile (gzipped protobuf) to its path; a path that cannot be created is
// a warning and the command still runs.
func TestCPUProfileEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.prof")
	t.Setenv(ProfileEnv, path)
	var out, errb bytes.Buffer
	if code := Run(context.Background(), []string{"benchrun", "version"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("%s is not a gzipped profile: % x", path, b[:min(len(b), 8)])
	}

	t.Setenv(ProfileEnv, filepath.Join(t.TempDir(), "missing", "cpu.prof"))
	errb.Reset()
	if code := Run(context.Background(), []string{"benchrun", "version"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d with an unwritable profile path: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), ProfileEnv) {
		t.Errorf("no warning about the profile path: %q", errb.String())
	}
}
