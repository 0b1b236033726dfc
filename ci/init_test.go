package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// writeInitSuite runs `benchrun init --kind kind FILE` into a fresh
// directory and returns the file's path.
func writeInitSuite(t *testing.T, kind string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), kind+".toml")
	if r := runCLI(t, "init", "--kind", kind, path); r.code != ExitOK {
		t.Fatalf("init --kind %s: %v", kind, r)
	}
	return path
}

func TestInitValidates(t *testing.T) {
	for _, kind := range initKindNames() {
		t.Run(kind, func(t *testing.T) {
			path := writeInitSuite(t, kind)
			r := runCLI(t, "validate", path)
			if r.code != ExitOK || !strings.Contains(r.stdout, ": ok (") {
				t.Fatalf("validate of init --kind %s: %v", kind, r)
			}
			b, _ := os.ReadFile(path)
			if !strings.Contains(string(b), "docs/suite-format.md") {
				t.Errorf("init --kind %s does not point to docs/suite-format.md", kind)
			}
		})
	}
}

func TestInitDefaultIsVLLMOnStdout(t *testing.T) {
	r := runCLI(t, "init")
	if r.code != ExitOK || r.stdout != initVLLM {
		t.Fatalf("benchrun init: not the vllm suite on stdout: %v", r)
	}
}

func TestInitRefusesOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.toml")
	if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "init", path)
	if b, _ := os.ReadFile(path); r.code != ExitUsage || string(b) != "keep me" || !strings.Contains(r.stderr, "--force") {
		t.Fatalf("init over an existing file: %v; file now %q", r, b)
	}
	r = runCLI(t, "init", "--force", "--kind", "ollama", path)
	if b, _ := os.ReadFile(path); r.code != ExitOK || string(b) != initOllama {
		t.Fatalf("init --force: %v; file now %.80q", r, b)
	}
}

func TestInitUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"init", "--kind", "vlm"}, {"init", "a.toml", "b.toml"}} {
		if r := runCLI(t, args...); r.code != ExitUsage || r.stdout != "" {
			t.Errorf("benchrun %s: want exit %d and nothing written: %v", strings.Join(args, " "), ExitUsage, r)
		}
	}
}

func TestInitIO500Plans(t *testing.T) {
	path := writeInitSuite(t, "io500")
	r := runCLI(t, "plan", path)
	if r.code != ExitOK || !strings.Contains(r.stdout, "/opt/io500/io500") || !strings.Contains(r.stdout, "#SBATCH") {
		t.Fatalf("plan of init --kind io500: %v", r)
	}
}

// The LLM suites run as generated, against the emulator, and pass.
func TestInitLLMSuitesRun(t *testing.T) {
	for _, kind := range []string{"vllm", "ollama"} {
		t.Run(kind, func(t *testing.T) {
			path := writeInitSuite(t, kind)
			r := runBin(t, filepath.Dir(path), binEnv(), "suite", path)
			if r.code != ExitOK || !strings.Contains(r.stderr+r.stdout, "PASS") {
				t.Fatalf("benchrun suite on init --kind %s: %v", kind, r)
			}
			var sum summaryFile
			matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "results", "my-"+kind, "*", "summary.json"))
			if len(matches) != 1 {
				t.Fatalf("want one summary.json, got %v", matches)
			}
			readJSON(t, matches[0], &sum)
			if len(sum.Cases) == 0 || sum.Incomplete {
				t.Fatalf("summary: %+v", sum)
			}
			for _, c := range sum.Cases {
				if c.Verdict != "pass" {
					t.Errorf("case %s: verdict %q", c.ID, c.Verdict)
				}
			}
		})
	}
}

// The chroma suite runs when chroma is installed.
func TestInitChromaRuns(t *testing.T) {
	if _, err := exec.LookPath("chroma"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chroma is not on PATH (CI=true): npm install -g chromadb@3.0.11 chromadb-js-bindings-linux-x64-gnu@1.0.5")
		}
		t.Skip("chroma is not on PATH: npm install -g chromadb@3.0.11 chromadb-js-bindings-linux-x64-gnu@1.0.5 (as root)")
	}
	path := writeInitSuite(t, "chroma")
	r := runBin(t, filepath.Dir(path), binEnv(), "suite", path)
	if r.code != ExitOK {
		t.Fatalf("benchrun suite on init --kind chroma: %v", r)
	}
}
