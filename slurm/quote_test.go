package slurm

import (
	"os/exec"
	"strings"
	"testing"
)

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"plain-word_1.2/x:y,z=w@h%+", "plain-word_1.2/x:y,z=w@h%+"},
		{"two words", "'two words'"},
		{"it's", `'it'\''s'`},
		{"$(reboot)", "'$(reboot)'"},
		{"a;b", "'a;b'"},
		{"~", "'~'"},
		{"line\nbreak", "'line\nbreak'"},
	}
	for _, tt := range tests {
		if got := ShellQuote(tt.in); got != tt.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func shRoundTrip(t *testing.T, s string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", "printf %s "+ShellQuote(s)).Output()
	if err != nil {
		t.Fatalf("sh -c printf %%s %s: %v", ShellQuote(s), err)
	}
	return string(out)
}

func TestShellQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "a b", "'", "''", `"\$x`, "$(id)`id`", "a\nb", "*", "%s", "-n", "ü ✓"} {
		if got := shRoundTrip(t, s); got != s {
			t.Errorf("sh read %s back as %q, want %q", ShellQuote(s), got, s)
		}
	}
}

// FuzzShellQuote checks that sh reads every quoted string back unchanged.
func FuzzShellQuote(f *testing.F) {
	for _, s := range []string{"", "a b", "it's", "$(reboot)", "a\nb", "\\'\"", "%d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			t.Skip("NUL cannot be in an argument")
		}
		if got := shRoundTrip(t, s); got != s {
			t.Fatalf("sh read %s back as %q, want %q", ShellQuote(s), got, s)
		}
	})
}
