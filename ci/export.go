package ci

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/report"
)

func exportCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write per-case statistics and raw samples for spreadsheets and notebooks",
		ArgsUsage: "DIR",
		Description: "CSV writes cases.csv and samples.csv; JSON writes cases.json and samples.jsonl.\n" +
			"Values are in base units (seconds, tokens, bytes).\n\n" +
			"Example:\n   benchrun export --format csv --to /tmp/nightly-csv results/nightly/today",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "csv", Usage: "csv or json"},
			&cli.StringFlag{Name: "to", Usage: "directory to write into (default DIR/export)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return withExitCode(errors.New("export: name exactly one results directory"), ExitUsage)
			}
			f := c.String("format")
			if f != "csv" && f != "json" {
				return withExitCode(fmt.Errorf("export: --format %q: want csv or json", f), ExitUsage)
			}
			dir := c.Args().First()
			in, err := report.Load(dir)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			to := c.String("to")
			if to == "" {
				to = filepath.Join(dir, "export")
			}
			paths, err := report.Export(in, to, f)
			if err != nil {
				return withExitCode(err, ExitError)
			}
			for _, p := range paths {
				fmt.Fprintln(stdout, p)
			}
			return nil
		},
	}
}
