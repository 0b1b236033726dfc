package ci

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/runner/results"
)

// TestIntegrityEndToEnd runs the demo once, then: the manifest holds each
// samples file's count; a baseline whose fingerprint differs is shown as
// incomparable with the differing field, and --ignore-fingerprint compares
// it anyway, saying so; a samples file cut mid-line afterwards makes
// `benchrun report` an execution error naming file and line, never a PASS.
func TestIntegrityEndToEnd(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	copySuite(t, work, "demo.toml")
	env := binEnv()
	if r := runBin(t, work, env, "suite", "-o", "r1", "demo.toml"); r.code != ExitOK {
		t.Fatalf("run: %v", r)
	}
	r1 := filepath.Join(work, "r1")

	m, err := results.ReadManifest(r1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.Cases {
		path := filepath.Join(r1, c.Samples)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := c.RecordedSamples(path); !ok || n != int64(bytes.Count(b, []byte("\n"))) || n == 0 {
			t.Errorf("case %s: manifest records %d samples (%v), the file has %d lines", c.ID, n, ok, bytes.Count(b, []byte("\n")))
		}
	}

	// A baseline taken on another CPU.
	if r := runBin(t, work, env, "baseline", "promote", "r1", "--baselines", "B"); r.code != ExitOK {
		t.Fatalf("promote: %v", r)
	}
	editJSON(t, filepath.Join(work, "B", "demo.json"), func(f map[string]any) {
		for _, cases := range f["benchmarks"].(map[string]any) {
			for _, e := range cases.(map[string]any) {
				e.(map[string]any)["fingerprint"].(map[string]any)["cpu"] = "Other CPU 9000"
			}
		}
	})
	r := runBin(t, work, env, "compare", "r1", "--baselines", "B")
	if r.code != ExitOK || !strings.Contains(r.stdout, "≠ incomparable") || !strings.Contains(r.stdout, "cpu: Other CPU 9000 → ") ||
		!strings.Contains(r.stdout, "2 incomparable baselines") {
		t.Errorf("compare with a baseline from another CPU: want the incomparable baselines shown with the field: %v", r)
	}
	r = runBin(t, work, env, "compare", "r1", "--baselines", "B", "--ignore-fingerprint", "cpu")
	if r.code != ExitOK || strings.Contains(r.stdout, "incomparable") || !strings.Contains(r.stdout, "fingerprint fields differ (ignored): cpu: Other CPU 9000 → ") {
		t.Errorf("compare --ignore-fingerprint cpu: want compared, with a warning naming the field: %v", r)
	}
	if r = runBin(t, work, env, "compare", "r1", "--ignore-fingerprint", "a b"); r.code != ExitUsage {
		t.Errorf("--ignore-fingerprint with a bad name: exit %d, want %d: %v", r.code, ExitUsage, r)
	}

	// A samples file cut mid-line after the run.
	damaged := filepath.Join(work, "damaged")
	copyDir(t, r1, damaged)
	path := filepath.Join(damaged, m.Cases[0].Samples)
	b, _ := os.ReadFile(path)
	lines := bytes.Count(b, []byte("\n"))
	cut := bytes.LastIndexByte(b[:len(b)-1], '\n') + 10
	if err := os.WriteFile(path, b[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, work, env, "report", "damaged")
	name := filepath.ToSlash(m.Cases[0].Samples)
	if r.code != ExitError || strings.Contains(r.stdout, "PASS") ||
		!strings.Contains(r.stdout, name+":"+strconv.Itoa(lines)+": last line cut short") || !strings.Contains(r.stdout, "samples damaged") {
		t.Errorf("report on a cut samples file: want exit %d naming %s:%d, no PASS: %v", ExitError, name, lines, r)
	}
	if junit, _ := os.ReadFile(filepath.Join(damaged, "junit.xml")); !bytes.Contains(junit, []byte("samples damaged")) {
		t.Errorf("junit.xml does not carry the damage:\n%s", junit)
	}
}

// TestRecordWorkerCounts: the counts SLURM workers leave beside their
// samples files go into the case's manifest entry and the count files go
// away; a worker that left none (killed) gets no count.
func TestRecordWorkerCounts(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "node1-0.jsonl"), filepath.Join(dir, "node2-1.jsonl")
	for _, f := range []string{a, b} {
		if err := os.WriteFile(f, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := results.WriteSampleCount(a, 1); err != nil {
		t.Fatal(err)
	}
	e := &env{stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil)), quiet: true}
	var info results.CaseInfo
	recordWorkerCounts(e, &info, dir)
	if n, ok := info.RecordedSamples(a); !ok || n != 1 {
		t.Errorf("node1-0: recorded %d, %v; want 1", n, ok)
	}
	if _, ok := info.RecordedSamples(b); ok {
		t.Error("node2-1 left no count but has one")
	}
	if _, err := os.Stat(a + results.CountSuffix); err == nil {
		t.Error("the count file is still there")
	}
}
