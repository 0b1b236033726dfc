package ci

import (
	"errors"
	"io"

	"github.com/urfave/cli/v2"
)

func suiteCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "suite",
		Usage:     "run a suite end to end: services, load, analysis, baselines, reports",
		ArgsUsage: "FILE",
		Description: "Validates the suite, starts its services, waits until they are ready, runs\n" +
			"every case, stops the services, then analyses the samples, compares them with\n" +
			"the baselines and writes the reports. The exit code says how it went.\n\n" +
			"Example:\n   benchrun suite -o results/nightly nightly.toml",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "local", Usage: "run here even when the suite has a [slurm] section"},
			&cli.BoolFlag{Name: "inside-job", Hidden: true, Usage: "run inside the SLURM allocation (the job script's command)"},
			&cli.StringFlag{Name: "results", Hidden: true, Usage: "results directory (the job script's spelling of -o)"},
			ignoreFingerprintFlag(),
			trendRunsFlag(),
			&cli.StringFlag{Name: "metrics-listen", Usage: "serve benchrun's live metrics at http://`ADDR`/metrics during the run (host:port; overrides [monitoring] listen)", EnvVars: []string{"BENCHRUN_METRICS_LISTEN"}},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return withExitCode(errors.New("suite: name exactly one suite file"), ExitUsage)
			}
			ignore, err := ignoredFingerprint(c)
			if err != nil {
				return err
			}
			p := &pipeline{e: newEnv(c, stdout, stderr), baselines: c.String("baselines"), ignoreFingerprint: ignore,
				metricsListen: c.String("metrics-listen"), push: true,
				history: c.String("history"), recordRun: true, trendRuns: c.Int("trend-runs")}
			s, err := p.validate(c.Args().First())
			if err != nil {
				return err
			}
			f := planFlags{output: c.String("output"), local: c.Bool("local"), insideJob: c.Bool("inside-job")}
			if r := c.String("results"); r != "" {
				f.output = r
			}
			ex, err := p.plan(s, f)
			if err != nil {
				return err
			}
			x, err := ex.execute(c.Context)
			if err != nil {
				return err
			}
			return p.conclude(x)
		},
	}
}
