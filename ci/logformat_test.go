package ci

import (
	"encoding/json"
	"strings"
	"testing"
)

// Under --log-format json every line on stderr is a JSON record, the
// progress lines included, and DEBUG records are hidden at the default
// level; --log-level debug shows them, in both formats. The flags are
// written after the command, as users do.
func TestLogFormatJSONOnly(t *testing.T) {
	dir := t.TempDir()
	suite := copySuite(t, dir, "demo.toml", `users = [4, 16]`, `users = [4]`, `duration = "2s"`, `duration = "1s"`)
	levels := func(r cliResult) map[string]int {
		t.Helper()
		seen := map[string]int{}
		for _, line := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("stderr line is not JSON: %q (%v)\n%v", line, err, r)
			}
			lvl, _ := rec["level"].(string)
			seen[lvl]++
			if rec["msg"] == "case progress" {
				seen["progress"]++
			}
		}
		return seen
	}
	r := runBin(t, dir, binEnv("CI=true", "GITLAB_CI=true"), "suite", suite, "-o", "run1", "--log-format", "json")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	seen := levels(r)
	if seen["DEBUG"] != 0 || seen["progress"] < 2 {
		t.Errorf("default level: %v, want no DEBUG and the case's progress records\n%v", seen, r)
	}
	r = runBin(t, dir, binEnv(), "suite", suite, "-o", "run2", "--log-format=json", "--log-level", "debug")
	if seen := levels(r); r.code != 0 || seen["DEBUG"] == 0 {
		t.Errorf("--log-level debug: %v, want DEBUG records\n%v", seen, r)
	}
	r = runBin(t, dir, binEnv("BENCHRUN_LOG_LEVEL=error"), "suite", suite, "-o", "run3")
	if r.code != 0 || strings.Contains(r.stderr, "level=INFO") || strings.Contains(r.stderr, "level=DEBUG") {
		t.Errorf("BENCHRUN_LOG_LEVEL=error shows INFO or DEBUG records:\n%v", r)
	}
	r = runBin(t, dir, binEnv(), "suite", suite, "-o", "run4")
	if r.code != 0 || strings.Contains(r.stderr, "level=DEBUG") || !strings.Contains(r.stderr, "level=INFO") {
		t.Errorf("text, default level: want INFO and no DEBUG:\n%v", r)
	}
	// A usage error is a record too.
	r = runBin(t, dir, binEnv(), "suite", "missing.toml", "--log-format", "json")
	levels(r)
	if r.code != ExitUsage {
		t.Errorf("missing suite: exit %d, want %d\n%v", r.code, ExitUsage, r)
	}
}

func TestLogLevelRejected(t *testing.T) {
	r := runCLI(t, "validate", "x.toml", "--log-level", "verbose")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--log-level \"verbose\"") {
		t.Errorf("%v", r)
	}
}
