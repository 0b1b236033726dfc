package ci

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
)

const (
	// emptyBaseline is a valid baseline file of the demo suite, before
	// any promote of a case.
	emptyBaseline = `{"version": 1, "suite": "demo", "benchmarks": {}}`
	// corruptBaseline has a syntax error at line 3, column 3.
	corruptBaseline = "{\n  \"version\": 1\n  \"suite\": \"demo\"\n}\n"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBadBaselinesRefusedBeforeRun: a corrupt baseline file of the suite,
// or a --baselines directory that does not exist, is exit 3 before
// anything starts, naming the file and line; nothing is run or written.
func TestBadBaselinesRefusedBeforeRun(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	copySuite(t, work, "demo.toml")
	writeFile(t, filepath.Join(work, "baselines", "demo.json"), corruptBaseline)
	writeFile(t, filepath.Join(work, "good", "demo.json"), emptyBaseline)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"corrupt baseline file", []string{"suite", "-o", "r", "demo.toml"}, "baseline baselines/demo.json:3:3: invalid character"},
		{"corrupt file named by --baselines", []string{"suite", "-o", "r", "--baselines", "baselines", "demo.toml"}, "baseline baselines/demo.json:3:3:"},
		{"missing --baselines directory", []string{"suite", "-o", "r", "--baselines", "no-such-dir", "demo.toml"}, "--baselines no-such-dir: the directory does not exist"},
	}
	for _, tt := range tests {
		r := runBin(t, work, binEnv(), tt.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s: want exit %d naming %q: %v", tt.name, ExitUsage, tt.want, r)
		}
		if strings.Contains(r.stderr, "starting service") {
			t.Errorf("%s: a service was started:\n%s", tt.name, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(work, "r")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the results directory was created (%v)", tt.name, err)
		}
	}
	// The check reads the suite's file only, here the good one.
	if r := runBin(t, work, binEnv(), "plan", "demo.toml"); r.code != ExitOK {
		t.Errorf("plan does not read baselines: %v", r)
	}
}

// TestCorruptBaselineOfAnotherSuite: a corrupt baseline file of another
// suite spoils neither this suite's run, report and compare, nor the
// other lines of `baseline list`, which names the bad file and exits 2.
func TestCorruptBaselineOfAnotherSuite(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	copySuite(t, work, "demo.toml")
	writeFile(t, filepath.Join(work, "baselines", "demo.json"), emptyBaseline)
	writeFile(t, filepath.Join(work, "baselines", "other.json"), strings.ReplaceAll(corruptBaseline, "demo", "other"))
	env := binEnv()
	for _, args := range [][]string{{"suite", "-o", "r", "demo.toml"}, {"report", "r"}, {"compare", "r"}} {
		if r := runBin(t, work, env, args...); r.code != ExitOK {
			t.Errorf("benchrun %s next to a corrupt baseline of another suite: %v", strings.Join(args, " "), r)
		}
	}
	r := runBin(t, work, env, "baseline", "list")
	if r.code != ExitError || !strings.Contains(r.stdout, "baselines/demo.json") || !strings.Contains(r.stdout, "(unreadable)") ||
		!strings.Contains(r.stderr, "baseline baselines/other.json:3:3: invalid character") {
		t.Errorf("baseline list: want the good file listed, the bad one named at its line, exit %d: %v", ExitError, r)
	}
}

// TestBaselineCorruptedDuringRun: the baseline file checked before the
// run turns corrupt while it runs; the run still writes every report,
// without comparison and saying why, and exits 2. `report` then does the
// same until the file is repaired.
func TestBaselineCorruptedDuringRun(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	copySuite(t, work, "demo.toml")
	base := filepath.Join(work, "baselines", "demo.json")
	writeFile(t, base, emptyBaseline)

	cmd := exec.Command(benchrunBinary(t), "suite", "-o", "r", "demo.toml")
	cmd.Dir, cmd.Env = work, binEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for !exists(filepath.Join(work, "r", "manifest.json")) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no manifest after a minute\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	writeFile(t, base, corruptBaseline) // the run has started
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitError {
		t.Fatalf("want exit %d: %v\n%s\n%s", ExitError, err, stdout.String(), stderr.String())
	}
	checkNotCompared(t, filepath.Join(work, "r"))
	if !strings.Contains(stderr.String(), "baselines/demo.json:3:3") {
		t.Errorf("stderr does not name the file and line:\n%s", stderr.String())
	}

	if r := runBin(t, work, binEnv(), "report", "r"); r.code != ExitError {
		t.Errorf("report with the corrupt baseline: want exit %d: %v", ExitError, r)
	}
	checkNotCompared(t, filepath.Join(work, "r"))
	// compare goes the same way, printing the table with the reason.
	if r := runBin(t, work, binEnv(), "compare", "r"); r.code != ExitError ||
		!strings.Contains(r.stdout, "not compared with the baselines: baseline ") || !strings.Contains(r.stdout, "demo.json:3:3") {
		t.Errorf("compare with the corrupt baseline: want exit %d and the table saying why it was not compared: %v", ExitError, r)
	}
	writeFile(t, base, emptyBaseline)
	if r := runBin(t, work, binEnv(), "report", "r"); r.code != ExitOK {
		t.Errorf("report once the baseline is repaired: %v", r)
	}
}

// checkNotCompared checks the reports of a run in dir that could not be
// compared because baselines/demo.json is corrupt: written, verdict
// error, every case with the reason, no regression check.
func checkNotCompared(t *testing.T, dir string) {
	t.Helper()
	nonEmpty(t, filepath.Join(dir, "report.md"), filepath.Join(dir, "report.html"), filepath.Join(dir, "junit.xml"), filepath.Join(dir, "metrics.txt"))
	var sum analysis.Summary
	readJSON(t, filepath.Join(dir, "summary.json"), &sum)
	if sum.Verdict != analysis.Error || len(sum.Cases) != 2 {
		t.Errorf("summary: verdict %q with %d cases, want error with 2", sum.Verdict, len(sum.Cases))
	}
	for _, c := range sum.Cases {
		if w := strings.Join(c.Warnings, "\n"); !strings.Contains(w, "not compared with the baselines: baseline ") ||
			!strings.Contains(w, "baselines/demo.json:3:3: invalid character") {
			t.Errorf("case %s does not say why it was not compared: %q", c.ID, c.Warnings)
		}
		for _, ck := range c.Checks {
			if ck.Kind == analysis.CheckRegression {
				t.Errorf("case %s has a regression check: %+v", c.ID, ck)
			}
		}
	}
	if md, _ := os.ReadFile(filepath.Join(dir, "report.md")); !strings.Contains(string(md), "not compared with the baselines") {
		t.Errorf("report.md does not say the run was not compared:\n%.2000s", md)
	}
}
