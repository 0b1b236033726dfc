package ci

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/benchrun/benchrun/report"
)

// The terminal tests run the real binary on a short duration-bound suite
// (two cases against the emulator) as a person at a terminal and a CI job
// see it, and compare what they saw with golden files after
// normaliseTerminal.

// terminalSuite writes the suite the terminal tests run: two cases of
// 500ms warm-up and 2s each.
func terminalSuite(t *testing.T, dir string) string {
	return copySuite(t, dir, "demo.toml", `users = [4, 16]`, `users = [2, 4]`)
}

// runTTY runs the binary with stdout and stderr on a pseudo-terminal of
// 120 columns and returns everything written to it, as written.
func runTTY(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, benchrunBinary(t), args...)
	cmd.Dir, cmd.Env = dir, env
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&out, f); close(copied) }() // ends with EIO when the child exits
	err = cmd.Wait()
	<-copied
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

var (
	ansiRE = regexp.MustCompile(`\x1b\[([0-9;?]*)([A-Za-z])`)
	// runningRE is a running case's line on a terminal: elapsed/total,
	// count, rate, TTFT p50/p99 and errors.
	runningRE = regexp.MustCompile(`\d/2 chat/users=\d: \d+s/2\.5s, \d+ errors, \d+ requests, [\d.]+ req/s, ttft p50 [\d.]+[µm]?s p99 [\d.]+[µm]?s`)
)

// screen replays what a program wrote to a terminal and returns the
// screen it leaves: \r, \n (with a carriage return), cursor up (ESC[nA) and erase to end of line
// (ESC[K) are applied; colours and other sequences are dropped.
func screen(raw string) string {
	lines := []string{""}
	row, col := 0, 0
	put := func(r rune) {
		line := []rune(lines[row])
		for len(line) < col {
			line = append(line, ' ')
		}
		if col < len(line) {
			line[col] = r
		} else {
			line = append(line, r)
		}
		lines[row] = string(line)
		col++
	}
	for i := 0; i < len(raw); {
		if m := ansiRE.FindStringSubmatchIndex(raw[i:]); m != nil && m[0] == 0 {
			arg, op := raw[i+m[2]:i+m[3]], raw[i+m[4]:i+m[5]]
			switch op {
			case "A":
				n, err := strconv.Atoi(arg)
				if err != nil {
					n = 1
				}
				row = max(row-n, 0)
			case "K":
				if line := []rune(lines[row]); col < len(line) {
					lines[row] = string(line[:col])
				}
			}
			i += m[1]
			continue
		}
		r, size := rune(raw[i]), 1
		if r >= 0x80 {
			rs := []rune(raw[i:min(i+4, len(raw))])
			r, size = rs[0], len(string(rs[0]))
		}
		i += size
		switch r {
		case '\r':
			col = 0
		case '\n': // as the terminal driver's onlcr makes it: \r\n
			row, col = row+1, 0
			if row == len(lines) {
				lines = append(lines, "")
			}
		default:
			put(r)
		}
	}
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n") + "\n"
}

// normaliseTerminal replaces what differs from run to run in benchrun's
// terminal output, so that golden files hold:
//   - log timestamps (time=T), the emulator's port (PORT) and the test's
//     directory ($DIR);
//   - durations (3s, 47ms, 1.2s: D), progress bars and percentages;
//   - counts and rates of requests and operations (N requests, N req/s,
//     only N successful operations);
//   - measured values in the verdict table (a cell "│ 44.88 ms" becomes
//     "│ N ms"; thresholds, "< 500 ms", are kept), and then the padding
//     and rules whose width follows them: runs of spaces become one,
//     runs of ─ one.
//
// Error counts, case numbers, ids, states and verdicts are kept.
func normaliseTerminal(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "$DIR")
	for _, r := range []struct{ re, with string }{
		{`time=\S+`, `time=T`},
		{`127\.0\.0\.1:\d+`, `127.0.0.1:PORT`},
		{`\b\d+(\.\d+)?(ns|µs|us|ms|s|m|h)(\d+(\.\d+)?(ms|s))*\b`, `D`},
		{`\d+(\.\d+)?%( \[)`, `N%$2`},
		{`\[[#.]+\]`, `[bar]`},
		{`\d+ requests`, `N requests`},
		{`[\d.]+ req/s`, `N req/s`},
		{`only \d+ successful`, `only N successful`},
		{`│ [\d.]+ (ms|µs|s|tokens/s)`, `│ N $1`},
		{` +`, ` `},
		{`─+`, `─`},
	} {
		s = regexp.MustCompile(r.re).ReplaceAllString(s, r.with)
	}
	return s
}

// uniqLines drops a line equal to the one before it: CI mode prints a
// running case's line every interval, and how many fit in a case varies.
func uniqLines(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if len(out) > 0 && out[len(out)-1] == l {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// TestTerminalTTY: on a terminal the progress redraws in place, and the
// running case's line carries live numbers — elapsed/total, requests,
// req/s, TTFT p50/p99, errors — that change while it runs.
func TestTerminalTTY(t *testing.T) {
	dir := t.TempDir()
	suite := terminalSuite(t, dir)
	raw, code := runTTY(t, dir, binEnv("CI=", "GITLAB_CI=", "TERM=xterm"), "suite", suite, "-o", "run")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, raw)
	}
	if !strings.Contains(raw, "\x1b[A\x1b[K") {
		t.Errorf("no in-place redraw (cursor up, erase line) on a terminal:\n%q", raw)
	}
	live := map[string]bool{}
	var last string
	for _, l := range regexp.MustCompile(`[\r\n]+`).Split(ansiRE.ReplaceAllString(raw, ""), -1) {
		if m := runningRE.FindString(l); m != "" {
			live[m] = true
			last = m
		}
	}
	if len(live) < 2 {
		t.Fatalf("the running case's line has no live numbers that refresh (%d distinct, want ≥ 2):\n%q", len(live), raw)
	}
	golden(t, "terminal-tty.txt", "--- a running case's line:\n"+normaliseTerminal(last, dir)+
		"\n--- the screen at the end:\n"+normaliseTerminal(screen(raw), dir))
}

// TestTerminalCI: in CI mode (no terminal, or CI=true on one) progress is
// plain lines — one when a case starts, one every --progress-interval,
// one when it ends — and no ANSI escape or carriage return anywhere.
func TestTerminalCI(t *testing.T) {
	dir := t.TempDir()
	suite := terminalSuite(t, dir)
	r := runBin(t, dir, binEnv("CI=true", "GITLAB_CI="), "suite", suite, "-o", "run1", "--progress-interval", "2s")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	for name, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
		if i := strings.IndexAny(s, "\x1b\r"); i >= 0 {
			t.Errorf("CI mode: ANSI escape or \\r on %s at byte %d:\n%q", name, i, s)
		}
	}
	for _, id := range []string{"1/2 chat/users=2", "2/2 chat/users=4"} {
		for _, state := range []string{": started", ": done in "} {
			if n := strings.Count(r.stderr, "benchrun: case "+id+state); n != 1 {
				t.Errorf("case %s%s: %d lines, want 1\n%s", id, state, n, r.stderr)
			}
		}
		if !regexp.MustCompile(`benchrun: case ` + regexp.QuoteMeta(id) + `: \d+s/2\.5s, \d+ requests, [\d.]+ req/s, ttft p50 \S+ p99 \S+, 0 errors\n`).MatchString(r.stderr) {
			t.Errorf("case %s: no running line with elapsed/total, rate, TTFT and errors\n%s", id, r.stderr)
		}
	}
	golden(t, "terminal-ci.txt", "--- stderr:\n"+uniqLines(normaliseTerminal(r.stderr, dir))+
		"--- stdout:\n"+normaliseTerminal(r.stdout, dir))

	// CI=true on a terminal: still plain lines on stderr, never redrawn.
	raw, code := runTTY(t, dir, binEnv("CI=true", "GITLAB_CI=", "TERM=xterm"), "suite", suite, "-o", "run2", "--progress-interval", "2s", "--no-color")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, raw)
	}
	if plain := strings.ReplaceAll(raw, "\r\n", "\n"); strings.ContainsAny(plain, "\x1b\r") {
		t.Errorf("CI=true on a terminal: ANSI escape or \\r in the output:\n%q", raw)
	}
	if !strings.Contains(raw, "benchrun: case 2/2 chat/users=4: done in ") {
		t.Errorf("CI=true on a terminal: no plain progress line:\n%s", raw)
	}
}

// The normaliser keeps what the tests judge: error counts, case numbers
// and thresholds survive it; volatile numbers do not.
func TestNormaliseTerminal(t *testing.T) {
	in := "time=2026-12-01T17:07:29.888Z level=INFO msg=x url=http://127.0.0.1:35069 dir=/tmp/x/run\n" +
		"benchrun: case 1/2 chat/users=2: 1s/2.5s, 12 requests, 9.6 req/s, ttft p50 47ms p99 1.2s, 3 errors\n" +
		"│ chat │ ttft.p95 │ 44.88 ms   │ < 500 ms │\n" +
		"50.00% [###.....] [1s] ... x\n"
	want := "time=T level=INFO msg=x url=http://127.0.0.1:PORT dir=$DIR/run\n" +
		"benchrun: case 1/2 chat/users=2: D/D, N requests, N req/s, ttft p50 D p99 D, 3 errors\n" +
		"│ chat │ ttft.p95 │ N ms │ < 500 ms │\n" +
		"N% [bar] [D] ... x\n"
	if got := normaliseTerminal(in, "/tmp/x"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := screen("a\r\nold line\rnew\x1b[K\r\n\x1b[32mgreen\x1b[0m\r\n\x1b[A\x1b[Kover\r\n"); got != fmt.Sprint("a\nnew\nover\n") {
		t.Errorf("screen: %q", got)
	}
}

// lockedBuffer is a bytes.Buffer safe for the display's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A log record written while the terminal display runs stays on the
// screen: stderr's writer hands it to the display, which prints it above
// itself, where its redraw (cursor up, erase line) cannot reach it.
func TestTerminalLogAboveProgress(t *testing.T) {
	var term lockedBuffer
	stderr := &lineWriter{w: &term}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	prog := report.NewProgress(&term, 1, report.ProgressOptions{TTY: true, Width: 100})
	restore := stderr.divertTo(prog)
	prog.StartCase("chat/users=4", func() (int64, int64) { return 10, 0 })
	time.Sleep(600 * time.Millisecond) // two refreshes
	log.Warn("scrape failed", "service", "llm")
	time.Sleep(600 * time.Millisecond)
	prog.EndCase("done")
	log.Warn("after the case")
	prog.Stop()
	restore()
	log.Warn("after the display")
	got := screen(term.String())
	for _, want := range []string{`msg="scrape failed" service=llm`, `msg="after the case"`, `msg="after the display"`, "1/1 chat/users=4: done in"} {
		if !strings.Contains(got, want) {
			t.Errorf("the screen lacks %q:\n%s", want, got)
		}
	}
}
