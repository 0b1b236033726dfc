package ci

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/suites"
)

func compareCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "compare a results directory with the baselines or with other results directories",
		ArgsUsage: "DIR | BASE DIR...",
		Description: "One rule, benchstat's `old new` order: the FIRST directory is the reference.\n\n" +
			"With one directory, compares it with the stored baselines (--baselines or the\n" +
			"suite's). With two, compares DIR against BASE as if BASE were the baseline\n" +
			"and prints the verdict table. With three or more, each DIR is compared with\n" +
			"BASE and all are printed in one table (a column per run). Nothing is written.\n" +
			"The exit code is the worst of the runs' (2 an error, 1 a regression or failed\n" +
			"threshold). A BASE that started after a DIR is warned about on stderr: the\n" +
			"arguments may be the wrong way round.\n\n" +
			"Examples:\n   benchrun compare results/nightly/today\n   benchrun compare results/nightly/yesterday results/nightly/today\n" +
			"   benchrun compare results/vllm-0.8 results/vllm-0.9 results/vllm-0.10",
		Flags: []cli.Flag{ignoreFingerprintFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return withExitCode(errors.New("compare: name one results directory (compared with the baselines), or BASE and one or more DIRs compared with it"), ExitUsage)
			}
			ignore, err := ignoredFingerprint(c)
			if err != nil {
				return err
			}
			args := c.Args().Slice()
			if len(args) == 1 {
				p := &pipeline{e: newEnv(c, stdout, stderr), dir: args[0], baselines: c.String("baselines"), ignoreFingerprint: ignore, tableOnly: true}
				return p.conclude(nil)
			}
			if err := checkCompareOrder(stderr, args[0], args[1:]); err != nil {
				return err
			}
			if len(args) > 2 {
				return compareMany(newEnv(c, stdout, stderr), args, c.String("baselines"), ignore)
			}
			p := &pipeline{e: newEnv(c, stdout, stderr), dir: args[1], baselines: c.String("baselines"),
				baseDir: args[0], ignoreFingerprint: ignore, tableOnly: true}
			return p.conclude(nil)
		},
	}
}

// checkCompareOrder checks `compare BASE DIR...` before anything is
// analysed: BASE must be a results directory (a usage error naming it as
// the reference otherwise), and a BASE that started after one of the DIRs
// is warned about, since the order used to be the other way round for two
// directories.
func checkCompareOrder(stderr io.Writer, base string, dirs []string) error {
	bm, err := results.ReadManifest(base)
	if err != nil {
		return withExitCode(fmt.Errorf("compare BASE DIR...: the first directory is the reference, and %s is not a results directory: %w", base, err), ExitUsage)
	}
	for _, d := range dirs {
		if m, err := results.ReadManifest(d); err == nil && !bm.Start.IsZero() && m.Start.Before(bm.Start) {
			fmt.Fprintf(stderr, "compare: warning: the reference %s (the first directory) started after %s; the first directory is the baseline (benchstat's old new order)\n", base, d)
		}
	}
	return nil
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
