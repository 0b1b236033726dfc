package ci

import (
	"errors"
	"io"

	"github.com/urfave/cli/v2"
)

func reportCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "re-render every report of a results directory from its samples",
		ArgsUsage: "DIR",
		Description: "Re-analyses DIR/samples with the suite as run (DIR/suite.toml), compares with\n" +
			"the baselines as they are now, and rewrites summary.json, report.html,\n" +
			"report.md, junit.xml and metrics.txt, with each case's trend over the suite's\n" +
			"history up to this run (--history, --trend-runs). Nothing is re-run. The exit code is\n" +
			"the run's verdict, as for `benchrun suite`.\n\n" +
			"Example:\n   benchrun report results/nightly/20261123T020000Z",
		Flags: []cli.Flag{ignoreFingerprintFlag(), trendRunsFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return withExitCode(errors.New("report: name exactly one results directory"), ExitUsage)
			}
			ignore, err := ignoredFingerprint(c)
			if err != nil {
				return err
			}
			p := &pipeline{e: newEnv(c, stdout, stderr), dir: c.Args().First(), baselines: c.String("baselines"), ignoreFingerprint: ignore,
				history: c.String("history"), trendRuns: c.Int("trend-runs")}
			return p.conclude(nil)
		},
	}
}
