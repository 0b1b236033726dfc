package ci

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestHoistGlobalFlags(t *testing.T) {
	global := flagArity(NewApp(io.Discard, io.Discard).Flags)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"nothing", "benchrun", "benchrun"},
		{"already in front", "benchrun -o D suite F", "benchrun -o D suite F"},
		{"after the command", "benchrun suite -o D F", "benchrun -o D suite F"},
		{"after the argument", "benchrun suite F -o D", "benchrun -o D suite F"},
		{"long with =", "benchrun suite F --output=D", "benchrun --output=D suite F"},
		{"bools and values", "benchrun suite -q F --baselines B --no-color", "benchrun -q --baselines B --no-color suite F"},
		{"mixed with command flags", "benchrun suite --local -o D F --log-format json", "benchrun -o D --log-format json suite --local F"},
		{"front and back", "benchrun -q suite F -o D", "benchrun -q -o D suite F"},
		{"front value is not the command", "benchrun -o suite plan F", "benchrun -o suite plan F"},
		{"subcommand", "benchrun baseline promote R --baselines B", "benchrun --baselines B baseline promote R"},
		{"after --", "benchrun suite F -- -o D", "benchrun suite F -- -o D"},
		{"-- before the command", "benchrun -- suite -o D", "benchrun -- suite -o D"},
		{"command flags stay", "benchrun emulate vllm --port 8000 --model m", "benchrun emulate vllm --port 8000 --model m"},
		{"only flags", "benchrun -q --no-color", "benchrun -q --no-color"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(hoistGlobalFlags(global, strings.Fields(tt.in)), " ")
			if got != tt.want {
				t.Errorf("hoistGlobalFlags(%s)\n got  %s\n want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestInterspersed(t *testing.T) {
	app := NewApp(io.Discard, io.Discard)
	global := flagArity(app.Flags)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"flags after the flavour", "benchrun emulate vllm --port 0 --slots 4", "benchrun emulate --port 0 --slots 4 vllm"},
		{"already in order", "benchrun emulate --port 0 vllm", "benchrun emulate --port 0 vllm"},
		{"= form", "benchrun emulate vllm --port=0", "benchrun emulate --port=0 vllm"},
		{"bool flag takes no value", "benchrun suite F --local", "benchrun suite --local F"},
		{"bool flag before argument", "benchrun suite --local F", "benchrun suite --local F"},
		{"value that looks like an argument", "benchrun export D --format csv --to T", "benchrun export --format csv --to T D"},
		{"global flags skipped", "benchrun -o D --baselines B suite F --local", "benchrun -o D --baselines B suite --local F"},
		{"subcommand flags", "benchrun baseline promote R --force", "benchrun baseline promote --force R"},
		{"unknown flag kept for urfave", "benchrun plan F --bogus", "benchrun plan --bogus F"},
		{"after --", "benchrun compare A -- --weird-dir", "benchrun compare A -- --weird-dir"},
		{"stdin dash is an argument", "benchrun validate - --help", "benchrun validate --help"},
		{"help drops the arguments", "benchrun suite F --help", "benchrun suite --help"},
		{"-h drops the arguments", "benchrun baseline promote R -h", "benchrun baseline promote --help"},
		{"unknown command untouched", "benchrun bogus x --port 1", "benchrun bogus x --port 1"},
		{"no command", "benchrun -q", "benchrun -q"},
		{"negative value", "benchrun emulate vllm --max-queue -1", "benchrun emulate --max-queue -1 vllm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(interspersed(app, global, strings.Fields(tt.in)), " ")
			if got != tt.want {
				t.Errorf("interspersed(%s)\n got  %s\n want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestHelpTopic(t *testing.T) {
	global := flagArity(NewApp(io.Discard, io.Discard).Flags)
	tests := []struct{ in, want string }{
		{"benchrun help", "benchrun --help"},
		{"benchrun help suite", "benchrun suite --help"},
		{"benchrun help baseline promote", "benchrun baseline promote --help"},
		{"benchrun -o D help suite", "benchrun -o D suite --help"},
		{"benchrun -o help suite F", "benchrun -o help suite F"}, // help is -o's value
		{"benchrun suite help", "benchrun suite help"},           // a file named help
		{"benchrun -- help", "benchrun -- help"},
		{"benchrun", "benchrun"},
	}
	for _, tt := range tests {
		got := strings.Join(helpTopic(global, strings.Fields(tt.in)), " ")
		if got != tt.want {
			t.Errorf("helpTopic(%s)\n got  %s\n want %s", tt.in, got, tt.want)
		}
	}
}

func TestArgumentRewritesLeaveInputAlone(t *testing.T) {
	app := NewApp(io.Discard, io.Discard)
	in := strings.Fields("benchrun help suite F -o D --local")
	orig := slices.Clone(in)
	rewriteArgs(app, in)
	if !slices.Equal(in, orig) {
		t.Errorf("args changed in place: %q, was %q", in, orig)
	}
}

// TestNewGlobalFlagAfterCommand adds global flags to the app and nowhere
// else: they work after the command name and after its arguments.
func TestNewGlobalFlagAfterCommand(t *testing.T) {
	for _, args := range [][]string{
		{"--added-value", "v", "--added-bool", "plan", "testdata/plan-demo.toml"},
		{"plan", "--added-value", "v", "--added-bool", "testdata/plan-demo.toml"},
		{"plan", "testdata/plan-demo.toml", "--added-bool", "--added-value=v"},
		{"plan", "testdata/plan-demo.toml", "-B", "-A", "v"},
	} {
		var stdout, stderr strings.Builder
		app := NewApp(&stdout, &stderr)
		app.Flags = append(app.Flags,
			&cli.StringFlag{Name: "added-value", Aliases: []string{"A"}},
			&cli.BoolFlag{Name: "added-bool", Aliases: []string{"B"}})
		var value string
		var set bool
		before := app.Before
		app.Before = func(c *cli.Context) error {
			value, set = c.String("added-value"), c.Bool("added-bool")
			return before(c)
		}
		code := runApp(context.Background(), app, append([]string{"benchrun"}, args...), &stderr)
		if code != ExitOK || value != "v" || !set || !strings.HasPrefix(stdout.String(), "suite demo") {
			t.Errorf("benchrun %s: exit %d, --added-value %q, --added-bool %t\n%s", strings.Join(args, " "), code, value, set, stderr.String())
		}
	}
}

// TestGlobalFlagPositions runs real commands with the global flags before
// and after the command; all spellings must behave the same.
func TestGlobalFlagPositions(t *testing.T) {
	for _, args := range [][]string{
		{"--log-format", "json", "-q", "-o", "D", "plan", "testdata/plan-demo.toml"},
		{"plan", "--log-format", "json", "-q", "-o", "D", "testdata/plan-demo.toml"},
		{"plan", "testdata/plan-demo.toml", "--log-format=json", "-q", "--output=D"},
		{"-q", "plan", "testdata/plan-demo.toml", "--log-format", "json", "-o", "D"},
	} {
		r := runCLI(t, args...)
		if r.code != ExitOK || !strings.HasPrefix(r.stdout, "suite demo (testdata/plan-demo.toml") {
			t.Errorf("benchrun %s: %v", strings.Join(args, " "), r)
		}
	}
	// A bad value is caught wherever the flag is written.
	for _, args := range [][]string{
		{"--log-format", "yaml", "plan", "testdata/plan-demo.toml"},
		{"plan", "testdata/plan-demo.toml", "--log-format", "yaml"},
	} {
		if r := runCLI(t, args...); r.code != ExitUsage {
			t.Errorf("benchrun %s: want exit %d: %v", strings.Join(args, " "), ExitUsage, r)
		}
	}
}
