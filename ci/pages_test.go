package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPagesCommand: a results directory, a directory of them and a killed
// run (no summary.json) give an index of the runs that have reports;
// a second pipeline's run joins those already in the site.
func TestPagesCommand(t *testing.T) {
	work := t.TempDir()
	src := filepath.Join("..", "report", "testdata", "nightly")
	run := filepath.Join(work, "results", "a")
	if err := copyTree(src, run); err != nil {
		t.Fatal(err)
	}
	killed := filepath.Join(work, "results", "killed")
	if err := copyTree(src, killed); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(killed, "summary.json")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(work, "public")
	r := runCLI(t, "pages", "-o", out, filepath.Join(work, "results"))
	if r.code != ExitOK || !strings.Contains(r.stdout, "pages: 1 runs") || !strings.Contains(r.stderr, "killed left out") {
		t.Fatalf("pages: %v", r)
	}
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := filepath.Glob(filepath.Join(out, "runs", "*", "summary.json"))
	if len(runs) != 1 || !strings.Contains(string(index), filepath.Base(filepath.Dir(runs[0]))+"/report.html") {
		t.Fatalf("runs %v; index:\n%s", runs, index)
	}
	if !strings.Contains(string(index), `class="badge`) {
		t.Errorf("index has no verdict badge:\n%s", index)
	}
}
