package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateBadSuites: benchrun validate refuses each suite of
// suites/testdata/bad with exit code 3 and prints one file:line: message
// for each of its "# want:" comments (suites.TestBadSuites checks the
// messages and lines themselves).
func TestValidateBadSuites(t *testing.T) {
	files, _ := filepath.Glob("../suites/testdata/bad/*.toml")
	if len(files) < 25 {
		t.Fatalf("%d bad suites, want at least 25", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Count(string(src), "# want: ")
			r := runCLI(t, "validate", file)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d: %v", r.code, ExitUsage, r)
			}
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if len(lines) != want {
				t.Errorf("%d problems on stderr, want %d:\n%s", len(lines), want, r.stderr)
			}
			for _, l := range lines {
				if !fileLine.MatchString(l) || !strings.HasPrefix(l, file+":") {
					t.Errorf("not %s:line: message: %q", file, l)
				}
			}
		})
	}
}
