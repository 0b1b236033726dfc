package ci

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

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
