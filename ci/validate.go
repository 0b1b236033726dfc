package ci

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/suites"
)

func validateCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check suites without running anything",
		ArgsUsage: "FILE...",
		Description: "Decodes each suite strictly and reports every problem as file:line: message.\n" +
			"Nothing is started. Exit code 3 when any suite is invalid.\n\n" +
			"Example:\n   benchrun validate examples/*.toml",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return withExitCode(errors.New("validate: name at least one suite file"), ExitUsage)
			}
			bad := 0
			for _, f := range c.Args().Slice() {
				s, err := suites.Load(f)
				if err != nil {
					bad++
					printLoadError(stderr, err)
					continue
				}
				fmt.Fprintf(stdout, "%s: ok (%d services, %d benchmarks, %d cases)\n", f, len(s.Services), len(s.Benchmarks), len(s.Cases()))
			}
			if bad > 0 {
				return errSilent{ExitUsage}
			}
			return nil
		},
	}
}

// printLoadError prints a suite's problems one per line.
func printLoadError(w io.Writer, err error) {
	var ps suites.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(w, p.String())
		}
		return
	}
	fmt.Fprintf(w, "benchrun: %v\n", err)
}

// loadSuite loads a suite for a command, mapping problems to exit code 3.
func loadSuite(stderr io.Writer, path string) (*suites.Suite, error) {
	s, err := suites.Load(path)
	if err != nil {
		printLoadError(stderr, err)
		return nil, errSilent{ExitUsage}
	}
	return s, nil
}

func schemaCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the JSON Schema of the suite format",
		Description: "For editors with TOML schema support (Taplo / Even Better TOML): put\n" +
			"   #:schema ./benchrun-suite.schema.json\n" +
			"at the top of a suite.\n\n" +
			"Example:\n   benchrun schema > benchrun-suite.schema.json",
		Action: func(c *cli.Context) error {
			b, err := suites.JSONSchema()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "%s\n", b)
			return err
		},
	}
}

func versionCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:        "version",
		Usage:       "print benchrun's version and commit",
		Description: "Example:\n   benchrun version",
		Action: func(c *cli.Context) error {
			v, commit := Version()
			if commit == "" {
				commit = "unknown"
			}
			_, err := fmt.Fprintf(stdout, "benchrun %s (commit %s)\n", v, commit)
			return err
		},
	}
}
