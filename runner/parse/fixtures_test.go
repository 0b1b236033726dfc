package parse

import (
	"os"
	"path/filepath"
	"testing"
)

// fixtures returns ../shared/fixtures/io500 (the real IO500 outputs),
// looked for beside the repository or any directory above it; without
// them the test is skipped, unless CI=true, where it fails.
func fixtures(t testing.TB) string {
	t.Helper()
	if d := fixturesIfPresent(); d != "" {
		return d
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("the IO500 fixtures (../shared/fixtures/io500) are missing; set BENCHRUN_IO500_FIXTURES")
	}
	t.Skip("skipped: the IO500 fixtures ../shared/fixtures/io500 are not here (set BENCHRUN_IO500_FIXTURES; CI=true makes this a failure)")
	return ""
}

// fixturesIfPresent is the fixtures directory, or "" when it is absent.
func fixturesIfPresent() string {
	if d := os.Getenv("BENCHRUN_IO500_FIXTURES"); d != "" {
		return d
	}
	dir, _ := filepath.Abs(".")
	for {
		p := filepath.Join(dir, "shared", "fixtures", "io500")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return ""
}

func readIfPresent(p string) ([]byte, error) { return os.ReadFile(p) }

func readFixture(t testing.TB, rel string) (string, []byte) {
	t.Helper()
	p := filepath.Join(fixtures(t), rel)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}
