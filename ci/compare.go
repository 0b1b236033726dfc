package ci

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/suites"
)

func compareCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "compare a results directory with the baselines or with another results directory",
		ArgsUsage: "DIR [BASE_DIR] | REF DIR DIR...",
		Description: "With one directory, compares it with the stored baselines (--baselines or the\n" +
			"suite's). With two, compares DIR against BASE_DIR as if BASE_DIR were the\n" +
			"baseline. Prints the verdict table; exit code 1 on a regression or failed\n" +
			"threshold. Nothing is written.\n\n" +
			"With three or more, the FIRST is the reference: each other run is compared\n" +
			"with it and all are printed in one table (a column per run); the exit code\n" +
			"is the worst of the runs' (2 an error, 1 a regression).\n\n" +
			"Examples:\n   benchrun compare results/nightly/today\n   benchrun compare results/nightly/today results/nightly/yesterday\n" +
			"   benchrun compare results/vllm-0.8 results/vllm-0.9 results/vllm-0.10",
		Flags: []cli.Flag{ignoreFingerprintFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return withExitCode(errors.New("compare: name one results directory or more"), ExitUsage)
			}
			ignore, err := ignoredFingerprint(c)
			if err != nil {
				return err
			}
			if c.NArg() > 2 {
				return compareMany(newEnv(c, stdout, stderr), c.Args().Slice(), c.String("baselines"), ignore)
			}
			p := &pipeline{e: newEnv(c, stdout, stderr), dir: c.Args().Get(0), baselines: c.String("baselines"),
				baseDir: c.Args().Get(1), ignoreFingerprint: ignore, tableOnly: true}
			return p.conclude(nil)
		},
	}
}

// ignoreFingerprintFlag is --ignore-fingerprint of suite, report and
// compare: fingerprint fields allowed to differ from the baseline's, on top
// of the suite's ignore_fingerprint.
func ignoreFingerprintFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "ignore-fingerprint", Usage: "compare with the baseline even though fingerprint field `KEY` differs (repeatable)"}
}

// ignoredFingerprint returns the --ignore-fingerprint keys, checked.
func ignoredFingerprint(c *cli.Context) ([]string, error) {
	keys := c.StringSlice("ignore-fingerprint")
	for _, k := range keys {
		if !suites.FingerprintKeyRE.MatchString(k) {
			return nil, withExitCode(fmt.Errorf("--ignore-fingerprint %q: not a fingerprint field name (letters, digits, '.', '_', '-')", k), ExitUsage)
		}
	}
	return keys, nil
}
