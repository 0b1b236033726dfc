package suites

import (
	"slices"
	"strings"
	"testing"
)

// TestIgnoreFingerprint: suite.ignore_fingerprint is read, and a name
// that is not a field name, or one listed twice, is a problem at its line.
func TestIgnoreFingerprint(t *testing.T) {
	ok := strings.Replace(minimal, `name = "s"`, "name = \"s\"\nignore_fingerprint = [\"cpu\", \"driver\"]", 1)
	s, err := Parse("s.toml", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Suite.IgnoreFingerprint, []string{"cpu", "driver"}) {
		t.Errorf("ignore_fingerprint read as %q", s.Suite.IgnoreFingerprint)
	}
	for _, tc := range []struct{ list, want string }{
		{`["cpu", ""]`, `s.toml:4: suite.ignore_fingerprint: "" is not a fingerprint field name`},
		{`["gpu model"]`, `s.toml:4: suite.ignore_fingerprint: "gpu model" is not a fingerprint field name`},
		{`["cpu", "cpu"]`, `s.toml:4: suite.ignore_fingerprint: "cpu" is listed twice`},
	} {
		src := strings.Replace(minimal, `name = "s"`, "name = \"s\"\nignore_fingerprint = "+tc.list, 1)
		got := problems(t, src)
		if len(got) != 1 || !strings.Contains(got[0], tc.want) {
			t.Errorf("ignore_fingerprint = %s: problems %q, want one containing %q", tc.list, got, tc.want)
		}
	}
}
