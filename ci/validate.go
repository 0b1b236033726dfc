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
