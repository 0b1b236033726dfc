package ci

import (
	"context"
	"errors"
	"fmt"
	"github.com/benchrun/benchrun/report"
	"github.com/benchrun/benchrun/runner/live"
	"github.com/benchrun/benchrun/runner/results"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// version and commit are set at build time with
// -ldflags "-X github.com/benchrun/benchrun/ci.version=v1.2.3 -X ...ci.commit=abc".
// Without them, Version reads the module version and VCS revision that the
// go command stamps into the binary.
var version, commit string

// Version returns benchrun's version and commit.
func Version() (string, string) {
	v, c := version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
			}
			if s.Key == "vcs.modified" && s.Value == "true" && c != "" && !strings.HasSuffix(c, "-dirty") {
				c += "-dirty"
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	return v, c
}

// env is what every command gets: where to write and how to log.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	color          bool
	quiet          bool
	json           bool // --log-format json: stderr carries JSON records only
	// ttyProgress: stderr is a terminal and CI is not "true", so the
	// progress display redraws in place.
	ttyProgress bool
	// ttyWidth is the terminal's width in columns when ttyProgress (0:
	// unknown); progressEvery how often plain progress lines come.
	ttyWidth      int
	progressEvery time.Duration
	tty           io.Writer // stderr itself, not through the lineWriter, when ttyProgress
	insideJob     bool      // the submit side prints the final table, not the job
	// live holds benchrun's live metrics while a run serves them
	// (caseRun.serveLive); nil otherwise.
	live *live.Metrics
	// probe is the watch of the capacity-search probe running now
	// (runSearch), by case id; nil otherwise.
	probe map[string]func(*results.Sample)
}

func newEnv(c *cli.Context, stdout, stderr io.Writer) *env {
	e := &env{stdout: stdout, stderr: stderr, quiet: c.Bool("quiet")}
	_, noColorEnv := os.LookupEnv("NO_COLOR")
	e.color = !c.Bool("no-color") && !noColorEnv && isTerminal(stdout)
	level := logLevel(c.String("log-level"))
	if e.quiet && level < slog.LevelWarn {
		level = slog.LevelWarn
	}
	e.json = c.String("log-format") == "json"
	// One lock for every line on stderr: log records and progress lines
	// never interleave mid-line.
	e.ttyProgress = isTerminal(stderr) && os.Getenv("CI") != "true"
	if e.ttyProgress {
		e.ttyWidth, _, _ = term.GetSize(int(stderr.(*os.File).Fd()))
		e.tty = stderr
	}
	e.progressEvery = c.Duration("progress-interval")
	e.stderr = &lineWriter{w: stderr}
	opts := &slog.HandlerOptions{Level: level}
	if e.json {
		e.log = slog.New(slog.NewJSONHandler(e.stderr, opts))
	} else {
		e.log = slog.New(slog.NewTextHandler(e.stderr, opts))
	}
	return e
}

var logLevels = map[string]*slog.Level{
	"debug": ptr(slog.LevelDebug), "info": ptr(slog.LevelInfo),
	"warn": ptr(slog.LevelWarn), "error": ptr(slog.LevelError),
}

func ptr[T any](v T) *T { return &v }

// logLevel is the slog level of a --log-level value; info for an unknown
// one (Before rejects those).
func logLevel(name string) slog.Level {
	if l := logLevels[name]; l != nil {
		return *l
	}
	return slog.LevelInfo
}

// lineWriter serialises writes to w: each Write (a log record, a progress
// line) reaches w whole.
type lineWriter struct {
	mu     sync.Mutex
	w      io.Writer
	divert io.Writer // not nil: writes go there (divertTo)
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.divert != nil {
		return l.divert.Write(p)
	}
	return l.w.Write(p)
}

// divertTo sends what is written to l to w instead (a terminal progress
// display, which prints it above itself) until the returned func is
// called.
func (l *lineWriter) divertTo(w io.Writer) (restore func()) {
	l.mu.Lock()
	l.divert = w
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		l.divert = nil
		l.mu.Unlock()
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// NewApp builds the benchrun CLI writing to stdout and stderr. It never
// calls os.Exit; run it with Run.
func NewApp(stdout, stderr io.Writer) *cli.App {
	v, _ := Version()
	app := &cli.App{
		Name:  "benchrun",
		Usage: "benchmark AI services end to end and catch performance regressions",
		Description: "benchrun runs a TOML suite — start services, wait until ready, drive load, stop\n" +
			"everything — then compares latency percentiles and throughput with stored\n" +
			"baselines and writes HTML, markdown, JUnit and JSON reports.\n\n" +
			"Exit codes: 0 all checks passed, 1 a threshold or regression failed,\n" +
			"2 an execution error, 3 invalid suite or usage, 130 interrupted.",
		Version:         v,
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "results directory (default results/<suite>/<UTC timestamp>)", EnvVars: []string{"BENCHRUN_OUTPUT"}},
			&cli.StringFlag{Name: "baselines", Usage: "baselines directory (default: the suite's, else baselines/)", EnvVars: []string{"BENCHRUN_BASELINES"}},
			&cli.StringFlag{Name: "history", Usage: "directory of the suites' histories, `DIR`/<suite>.jsonl (default: history/ in the baselines directory)", EnvVars: []string{"BENCHRUN_HISTORY"}},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json", EnvVars: []string{"BENCHRUN_LOG_FORMAT"}},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "least severe log records shown: debug, info, warn or error", EnvVars: []string{"BENCHRUN_LOG_LEVEL"}},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only warnings, errors and the final summary", EnvVars: []string{"BENCHRUN_QUIET"}},
			&cli.DurationFlag{Name: "progress-interval", Value: report.ProgressInterval, Usage: "time between a running case's progress lines when they are plain lines (no terminal, or CI=true) or JSON records", EnvVars: []string{"BENCHRUN_PROGRESS_INTERVAL"}},
			&cli.BoolFlag{Name: "no-color", Usage: "no colors in terminal output (NO_COLOR is honoured too)", EnvVars: []string{"BENCHRUN_NO_COLOR"}},
		},
		Before: func(c *cli.Context) error {
			if f := c.String("log-format"); f != "text" && f != "json" {
				return withExitCode(fmt.Errorf("--log-format %q: want text or json", f), ExitUsage)
			}
			if d := c.Duration("progress-interval"); d <= 0 {
				return withExitCode(fmt.Errorf("--progress-interval %v: want a positive duration", d), ExitUsage)
			}
			if l := c.String("log-level"); logLevels[l] == nil {
				return withExitCode(fmt.Errorf("--log-level %q: want debug, info, warn or error", l), ExitUsage)
			}
			if c.String("log-format") == "json" {
				c.App.Metadata = map[string]any{"json": true} // runApp's last error is a record too
			}
			return nil
		},
		// Reached only when no command is named, or an unknown one:
		// commands run their own actions.
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				fmt.Fprintf(stderr, "benchrun: unknown command %q; see benchrun --help\n", c.Args().First())
				return errSilent{ExitUsage}
			}
			w := c.App.Writer
			c.App.Writer = stderr
			defer func() { c.App.Writer = w }()
			_ = cli.ShowAppHelp(c)
			return errSilent{ExitUsage}
		},
		ExitErrHandler: func(*cli.Context, error) {}, // only main exits
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return withExitCode(err, ExitUsage)
		},
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(stderr, "benchrun: unknown command %q; see benchrun --help\n", name)
		},
	}
	app.Commands = commands(stdout, stderr)
	for _, cmd := range app.Commands {
		cmd.OnUsageError = app.OnUsageError
		for _, sub := range cmd.Subcommands {
			sub.OnUsageError = app.OnUsageError
		}
	}
	return app
}

// commands is the one list of subcommands.
func commands(stdout, stderr io.Writer) []*cli.Command {
	return []*cli.Command{
		suiteCommand(stdout, stderr),
		validateCommand(stdout, stderr),
		initCommand(stdout, stderr),
		planCommand(stdout, stderr),
		reportCommand(stdout, stderr),
		ingestCommand(stdout, stderr),
		compareCommand(stdout, stderr),
		historyCommand(stdout, stderr),
		pagesCommand(stdout, stderr),
		baselineCommand(stdout, stderr),
		exportCommand(stdout, stderr),
		emulateCommand(stdout, stderr),
		schemaCommand(stdout, stderr),
		versionCommand(stdout, stderr),
		workerCommand(stdout, stderr),
		reapCommand(),
	}
}

// Run runs the CLI with args (args[0] is the program name) and returns the
// exit code. ctx is cancelled on SIGINT/SIGTERM by main.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if stop := startCPUProfile(os.Getenv, stderr); stop != nil {
		defer stop()
	}
	return runApp(ctx, NewApp(stdout, stderr), args, stderr)
}

// runApp runs app as Run does.
func runApp(ctx context.Context, app *cli.App, args []string, stderr io.Writer) int {
	// urfave/cli only reports an unknown (sub)command through
	// CommandNotFound and returns no error.
	notFound := false
	printNotFound := app.CommandNotFound
	app.CommandNotFound = func(c *cli.Context, name string) {
		notFound = true
		printNotFound(c, name)
	}
	err := app.RunContext(ctx, rewriteArgs(app, args))
	if err == nil && notFound {
		return ExitUsage
	}
	if err != nil {
		var s errSilent
		switch msg := err.Error(); {
		case msg == "" || errors.As(err, &s):
		case app.Metadata["json"] == true:
			slog.New(slog.NewJSONHandler(stderr, nil)).Error(msg, "exit", ExitCode(err))
		default:
			fmt.Fprintf(stderr, "benchrun: %s\n", msg)
		}
	}
	return ExitCode(err)
}
