package slurm

import "strings"

// ShellQuote returns s quoted for a POSIX shell: unchanged when it is made
// only of characters no shell treats specially ([A-Za-z0-9_@%+=:,./-], not
// empty), otherwise in single quotes, where each single quote in s becomes
// quote, backslash, quote, quote (close, escaped quote, reopen). The shell
// reads the result back as exactly s. s must not contain NUL, which no shell
// word can hold; Config.Validate and RenderScript reject it.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !isShellSafe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func isShellSafe(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("_@%+=:,./-", r)
}

// ShellJoin quotes each word with ShellQuote and joins them with spaces.
func ShellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = ShellQuote(a)
	}
	return strings.Join(q, " ")
}
