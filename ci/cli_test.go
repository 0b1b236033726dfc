package ci

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// helpCommands is every command and subcommand; TestHelpCoversEveryCommand
// keeps it in step with commands().
var helpCommands = [][]string{
	{},
	{"suite"},
	{"validate"},
	{"init"},
	{"plan"},
	{"report"},
	{"ingest"},
	{"ingest", "io500"},
	{"ingest", "exec"},
	{"compare"},
	{"history"},
	{"history", "import"},
	{"pages"},
	{"baseline"},
	{"baseline", "promote"},
	{"baseline", "list"},
	{"baseline", "show"},
	{"export"},
	{"emulate"},
	{"schema"},
	{"version"},
}

func helpGoldenName(cmd []string) string {
	if len(cmd) == 0 {
		return "help.golden"
	}
	return "help-" + strings.Join(cmd, "-") + ".golden"
}

func TestHelpGolden(t *testing.T) {
	for _, cmd := range helpCommands {
		name := strings.Join(append([]string{"benchrun"}, cmd...), " ")
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, append(slices.Clone(cmd), "--help")...)
			if r.code != ExitOK || r.stderr != "" {
				t.Fatalf("%s --help: %v", name, r)
			}
			golden(t, helpGoldenName(cmd), r.stdout)

			// Every other way of asking prints the same text.
			for _, args := range [][]string{
				append(slices.Clone(cmd), "-h"),
				append([]string{"help"}, cmd...),
				append([]string{"--no-color"}, append(slices.Clone(cmd), "--help")...),
			} {
				other := runCLI(t, args...)
				if other.code != ExitOK || other.stdout != r.stdout {
					t.Errorf("benchrun %s: not the same as %s --help: %v", strings.Join(args, " "), name, other)
				}
			}
		})
	}
}

func TestHelpCoversEveryCommand(t *testing.T) {
	have := map[string]bool{}
	for _, cmd := range helpCommands {
		have[strings.Join(cmd, " ")] = true
	}
	for _, c := range commands(nil, nil) {
		if c.Hidden {
			continue // internal (worker): not part of the documented CLI
		}
		if !have[c.Name] {
			t.Errorf("command %q has no help golden test", c.Name)
		}
		for _, sub := range c.Subcommands {
			if !have[c.Name+" "+sub.Name] {
				t.Errorf("command %q has no help golden test", c.Name+" "+sub.Name)
			}
		}
	}
}

func TestHelpAfterArguments(t *testing.T) {
	// Flags move in front of positional arguments; --help must not then
	// be read as help on a command named after the argument.
	want := runCLI(t, "suite", "--help")
	for _, args := range [][]string{
		{"suite", "nightly.toml", "--help"},
		{"suite", "-o", "out", "nightly.toml", "-h"},
		{"-q", "suite", "nightly.toml", "--help"},
	} {
		r := runCLI(t, args...)
		if r.code != ExitOK || r.stdout != want.stdout || r.stderr != "" {
			t.Errorf("benchrun %s: %v", strings.Join(args, " "), r)
		}
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, "version")
	if r.code != ExitOK || r.stdout != "benchrun v0.0.0-test (commit 0123456789ab)\n" {
		t.Errorf("benchrun version: %v", r)
	}
	r = runCLI(t, "--version")
	if r.code != ExitOK || !strings.Contains(r.stdout, "v0.0.0-test") {
		t.Errorf("benchrun --version: %v", r)
	}
}

func TestPlanGolden(t *testing.T) {
	// A fixed copy of examples/demo.toml: the plan prints its path and
	// the prefix of its sha256.
	r := runCLI(t, "plan", "testdata/plan-demo.toml")
	if r.code != ExitOK || r.stderr != "" {
		t.Fatalf("plan: %v", r)
	}
	golden(t, "plan-demo.golden", r.stdout)
	for _, want := range []string{
		"benchrun emulate vllm --host 127.0.0.1 --port 0 --model demo-model",
		"1. chat/users=4",
		"2. chat/users=16",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan does not show %q", want)
		}
	}
}

func TestPlanMatchesExample(t *testing.T) {
	// The golden copy must not drift from the example it stands for: the
	// two plans differ only in the file name and hash line.
	ex := runCLI(t, "plan", "../examples/demo.toml")
	cp := runCLI(t, "plan", "testdata/plan-demo.toml")
	if ex.code != ExitOK || cp.code != ExitOK {
		t.Fatalf("plan: %v\n%v", ex, cp)
	}
	_, exRest, _ := strings.Cut(ex.stdout, "\n")
	_, cpRest, _ := strings.Cut(cp.stdout, "\n")
	if exRest != cpRest {
		t.Errorf("testdata/plan-demo.toml has drifted from examples/demo.toml:\n%s", lineDiff(exRest, cpRest))
	}
}

var fileLine = regexp.MustCompile(`^[^:\s]+\.toml:\d+: \S`)

func TestValidateThreeMistakes(t *testing.T) {
	r := runCLI(t, "validate", "../suites/testdata/three-mistakes.toml")
	if r.code != ExitUsage {
		t.Errorf("exit %d, want %d: %v", r.code, ExitUsage, r)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want exactly three problems on stderr, got %d:\n%s", len(lines), r.stderr)
	}
	for _, l := range lines {
		if !fileLine.MatchString(l) || !strings.HasPrefix(l, "../suites/testdata/three-mistakes.toml:") {
			t.Errorf("not file:line: message: %q", l)
		}
	}
	if r.stdout != "" {
		t.Errorf("stdout: %q", r.stdout)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // substrings
		problems int      // file:line lines on stderr
	}{
		{"example", []string{"../examples/demo.toml"}, ExitOK, []string{"../examples/demo.toml: ok (1 services, 1 benchmarks, 2 cases)"}, 0},
		{"testdata copies", []string{"testdata/demo-short.toml", "testdata/plan-demo.toml"}, ExitOK, []string{"demo-short.toml: ok", "plan-demo.toml: ok"}, 0},
		{"good and bad", []string{"../examples/demo.toml", "../suites/testdata/three-mistakes.toml"}, ExitUsage, []string{"demo.toml: ok"}, 3},
		{"missing file", []string{"testdata/no-such-suite.toml"}, ExitUsage, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, append([]string{"validate"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d: %v", r.code, tt.code, r)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q: %v", s, r)
				}
			}
			n := 0
			for _, l := range strings.Split(r.stderr, "\n") {
				if fileLine.MatchString(l) {
					n++
				}
			}
			if n != tt.problems {
				t.Errorf("%d file:line problems on stderr, want %d: %v", n, tt.problems, r)
			}
			if tt.code != ExitOK && r.stderr == "" {
				t.Errorf("failed without a word on stderr")
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string // substring
	}{
		{"no arguments", nil, "USAGE:"},
		{"only global flags", []string{"-q", "--no-color"}, "USAGE:"},
		{"unknown command", []string{"bogus"}, `unknown command "bogus"`},
		{"help on unknown command", []string{"help", "bogus"}, `unknown command "bogus"`},
		{"unknown subcommand", []string{"baseline", "bogus"}, `unknown command "bogus"`},
		{"unknown global flag", []string{"--bogus", "version"}, "flag provided but not defined"},
		{"unknown command flag", []string{"plan", "--bogus", "../examples/demo.toml"}, "flag provided but not defined"},
		{"unknown flag after argument", []string{"plan", "../examples/demo.toml", "--bogus"}, "flag provided but not defined"},
		{"flag without value", []string{"-o"}, "flag needs an argument"},
		// After the command the missing value swallows the command name
		// when the flag is hoisted (benchrun -o version): still exit 3.
		{"flag without value after command", []string{"version", "-o"}, "USAGE:"},
		{"bad log format", []string{"--log-format", "xml", "version"}, "want text or json"},
		{"bad log format after command", []string{"version", "--log-format=xml"}, "want text or json"},
		{"suite without file", []string{"suite"}, "name exactly one suite file"},
		{"suite with two files", []string{"suite", "a.toml", "b.toml"}, "name exactly one suite file"},
		{"suite invalid", []string{"suite", "../suites/testdata/three-mistakes.toml"}, "three-mistakes.toml:"},
		{"validate without file", []string{"validate"}, "at least one suite file"},
		{"plan without file", []string{"plan"}, "name exactly one suite file"},
		{"plan invalid", []string{"plan", "../suites/testdata/three-mistakes.toml"}, "three-mistakes.toml:"},
		{"report without dir", []string{"report"}, "name exactly one results directory"},
		{"compare without dir", []string{"compare"}, "or BASE and one or more DIRs compared with it"},
		{"promote without dir", []string{"baseline", "promote"}, "name exactly one results directory"},
		{"show without suite", []string{"baseline", "show"}, "name one suite"},
		{"export bad format", []string{"export", "--format", "xls", "dir"}, `--format "xls"`},
		{"emulate without flavour", []string{"emulate"}, "name the flavour"},
		{"emulate unknown flavour", []string{"emulate", "tgi", "--port", "0"}, `unknown flavour "tgi"`},
		{"emulate bad port value", []string{"emulate", "vllm", "--port", "eighty"}, "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d: %v", r.code, ExitUsage, r)
			}
			if !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("stderr lacks %q: %v", tt.stderr, r)
			}
		})
	}
}

func TestSchema(t *testing.T) {
	r := runCLI(t, "schema")
	if r.code != ExitOK || !strings.HasPrefix(r.stdout, "{") || !strings.Contains(r.stdout, "schema_version") {
		t.Errorf("benchrun schema: %.300s", r)
	}
}

func TestExecutionErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"report", dir},
		{"compare", dir},
		{"export", dir},
		{"baseline", "promote", dir, "--baselines", dir},
		{"baseline", "show", "--baselines", dir, "nosuchsuite"},
	} {
		r := runCLI(t, args...)
		if r.code != ExitError || r.stderr == "" {
			t.Errorf("benchrun %s: want exit %d with a message: %v", strings.Join(args, " "), ExitError, r)
		}
	}
}
