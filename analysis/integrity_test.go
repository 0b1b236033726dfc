package analysis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// TestSummarizeCaseDamagedSamples: a samples file that is cut mid-line,
// short of the count the manifest recorded, or holds a line that does not
// decode gives a warning naming the file and line; with a recorded count
// (or an undecodable line) the case is an error, so it can neither pass
// nor be compared. A killed run's file (torn, no count) stays readable:
// its torn line is dropped with a warning only.
func TestSummarizeCaseDamagedSamples(t *testing.T) {
	var ss []results.Sample
	for i := range 150 {
		ss = append(ss, okSample(0, time.Duration(i)*20*ms, 100*ms, 5))
	}
	whole, err := os.ReadFile(writeSamples(t, t.TempDir(), "w.jsonl", ss))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(whole), "\n")
	lines = lines[:len(lines)-1] // the empty string after the last newline
	cut := strings.Join(lines[:120], "") + lines[120][:len(lines[120])/2]
	short := strings.Join(lines[:120], "")
	corrupt := strings.Join(lines[:60], "") + "{\"seq\": oops}\n" + strings.Join(lines[61:], "")
	for _, tc := range []struct {
		name    string
		content string
		count   int64 // recorded in the manifest; -1 for none
		warn    string
		damaged string // "" when the case is not an error
	}{
		{"whole with count", string(whole), 150, "", ""},
		{"whole without count", string(whole), -1, "", ""},
		{"cut mid-line, count recorded", cut, 150, "samples/chat%2Fu=1.jsonl:121: last line cut short", "holds 120 samples (121 lines), the manifest recorded 150"},
		{"short at a line boundary", short, 150, "", "holds 120 samples (120 lines), the manifest recorded 150"},
		{"line that does not decode", corrupt, 150, "samples/chat%2Fu=1.jsonl:61: line does not decode", "1 lines that do not decode (first at line 61)"},
		{"line that does not decode, no count", corrupt, -1, "samples/chat%2Fu=1.jsonl:61: line does not decode", "1 lines that do not decode"},
		{"killed mid-write, no count", cut, -1, "samples/chat%2Fu=1.jsonl:121: last line cut short (no newline, does not decode): dropped", ""},
		{"garbage after the recorded samples", string(whole) + `{"seq":`, 150, ":151: last line cut short", "a cut line after the 150 samples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), results.SamplesDir)
			os.MkdirAll(dir, 0o755)
			path := filepath.Join(dir, results.CaseFileName("chat/u=1")+".jsonl")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			info := results.CaseInfo{ID: "chat/u=1", Status: results.StatusDone}
			if tc.count >= 0 {
				info.RecordSamples(path, tc.count)
			}
			c, _, err := SummarizeCase(info, []string{path}, Options{})
			if err != nil {
				t.Fatalf("a damaged file must be read, not refused: %v", err)
			}
			warnings := strings.Join(c.Warnings, "\n")
			if tc.warn != "" && !strings.Contains(warnings, tc.warn) {
				t.Errorf("warnings lack %q:\n%s", tc.warn, warnings)
			}
			if tc.warn == "" && strings.Contains(warnings, "samples/") {
				t.Errorf("whole file warned about:\n%s", warnings)
			}
			c.Rollup()
			errs := strings.Join(c.Errors, "\n")
			switch {
			case tc.damaged == "" && c.Verdict != Pass:
				t.Errorf("verdict %q, errors %q; want pass", c.Verdict, c.Errors)
			case tc.damaged != "" && (c.Verdict != Error || !strings.Contains(errs, tc.damaged) || !strings.Contains(errs, "samples damaged: samples/")):
				t.Errorf("verdict %q, errors %q; want error saying %q", c.Verdict, c.Errors, tc.damaged)
			}
		})
	}
}

// TestSummarizeCaseWorkerCounts: each worker file of a SLURM case is
// checked against its own count.
func TestSummarizeCaseWorkerCounts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), results.SamplesDir, "chat%2Fu=2")
	os.MkdirAll(dir, 0o755)
	a := writeSamples(t, dir, "node1-0.jsonl", []results.Sample{okSample(0, 0, 100*ms, 3), okSample(0, 50*ms, 100*ms, 3)})
	b := writeSamples(t, dir, "node2-1.jsonl", []results.Sample{okSample(0, 0, 100*ms, 3)})
	info := results.CaseInfo{ID: "chat/u=2", Status: results.StatusDone}
	info.RecordSamples(a, 2)
	info.RecordSamples(b, 2) // one sample of node2's is missing
	c, _, err := SummarizeCase(info, []string{a, b}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Errors) != 1 || !strings.Contains(c.Errors[0], "samples/chat%2Fu=2/node2-1.jsonl holds 1 samples (1 lines), the manifest recorded 2") {
		t.Errorf("errors %q", c.Errors)
	}
}
