package ci

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

// brokenSuite writes testdata/demo-short.toml into dir with a second
// service, "broken", declared first and started first, running command,
// and a benchmark "other" of two cases that uses it.
func brokenSuite(t *testing.T, dir, command string, port int) string {
	t.Helper()
	broken := fmt.Sprintf(`[[service]]
name = "broken"
kind = "command"
port = %d
command = %q
  [service.readiness]
  timeout = "2s"
  interval = "100ms"

[[service]]`, port, command)
	path := copySuite(t, dir, "two.toml", "[[service]]", broken)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprint(f, `
[[benchmark]]
name = "other"
service = "broken"
kind = "openai"
  [benchmark.workload]
  users = [1, 2]
  duration = "1s"
  [benchmark.dataset]
  prompt_tokens = 16
  output_tokens = 4
`)
	return path
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestFailedServiceIsolated: a service that fails to start (it exits at
// once, or it never becomes ready) makes errors of its own cases only,
// with its name and its log tail; the healthy service's cases run and
// pass; the run exits 2 with every report written, and nothing it
// started is left running.
func TestFailedServiceIsolated(t *testing.T) {
	t.Parallel()
	marker := fmt.Sprintf("60.%d", os.Getpid()%100000) // a sleep nobody else runs
	tests := []struct {
		name, command, logLine, cause string
	}{
		{"exits at once", "echo loading weights; echo 'fatal: out of memory' >&2; exit 3", "fatal: out of memory", "exited (exit status 3)"},
		{"never ready", "echo loading weights; sleep " + marker, "loading weights", "2s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			brokenSuite(t, work, tt.command, closedPort(t))
			r := runBin(t, work, binEnv(), "suite", "-o", "r", "two.toml")
			if r.code != ExitError {
				t.Fatalf("want exit %d: %v", ExitError, r)
			}
			if !strings.Contains(r.stderr, "did not start (broken)") {
				t.Errorf("stderr does not name the service that did not start:\n%s", r.stderr)
			}
			dir := filepath.Join(work, "r")
			nonEmpty(t, filepath.Join(dir, "summary.json"), filepath.Join(dir, "report.md"), filepath.Join(dir, "report.html"),
				filepath.Join(dir, "junit.xml"), filepath.Join(dir, "logs", "broken.log"), filepath.Join(dir, "logs", "llm.log"))
			checkIsolatedManifest(t, dir, tt.logLine, tt.cause)
			var sum analysis.Summary
			readJSON(t, filepath.Join(dir, "summary.json"), &sum)
			for _, c := range sum.Cases {
				want := analysis.Pass
				if c.Benchmark == "other" {
					want = analysis.Error
				}
				if c.Verdict != want {
					t.Errorf("summary: case %s verdict %q, want %q (errors %q)", c.ID, c.Verdict, want, c.Errors)
				}
			}
			if sum.Verdict != analysis.Error || len(sum.Cases) != 4 {
				t.Errorf("summary: verdict %q with %d cases, want error with 4", sum.Verdict, len(sum.Cases))
			}
			if md, _ := os.ReadFile(filepath.Join(dir, "report.md")); !strings.Contains(string(md), `service \"broken\"`) && !strings.Contains(string(md), `service "broken"`) {
				t.Errorf("report.md does not name the service:\n%.2000s", md)
			}
		})
	}
	// Both runs are over: the never-ready service's shell and sleep are gone.
	t.Cleanup(func() {
		if pids := processesWith(marker); len(pids) > 0 {
			t.Errorf("processes of the never-ready service left running: %v", pids)
		}
	})
}

// checkIsolatedManifest checks the manifest of a run with a healthy
// service "llm" (benchmark chat) and one that did not start, "broken"
// (benchmark other): chat's cases done, other's cases errors naming
// broken, its cause and its log tail, and never llm.
func checkIsolatedManifest(t *testing.T, dir, logLine, cause string) {
	t.Helper()
	m, err := results.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Cases) != 4 {
		t.Fatalf("manifest: %d cases, want 4", len(m.Cases))
	}
	for _, c := range m.Cases {
		switch c.Benchmark {
		case "chat":
			if c.Status != results.StatusDone || c.Error != "" {
				t.Errorf("healthy service's case %s: %s %q, want done", c.ID, c.Status, c.Error)
			}
			if st, err := os.Stat(filepath.Join(dir, c.Samples)); err != nil || st.Size() == 0 {
				t.Errorf("healthy service's case %s has no samples: %v", c.ID, err)
			}
		case "other":
			if c.Status != results.StatusError || !strings.Contains(c.Error, `service "broken"`) ||
				!strings.Contains(c.Error, cause) || !strings.Contains(c.Error, logLine) || strings.Contains(c.Error, `"llm"`) {
				t.Errorf("failed service's case %s: %s %q; want error naming \"broken\", %q and the log line %q", c.ID, c.Status, c.Error, cause, logLine)
			}
		}
	}
}

// processesWith returns the pids of processes whose command line
// contains s (none where there is no /proc).
func processesWith(s string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), s) {
			pids = append(pids, pid)
		}
	}
	return pids
}
