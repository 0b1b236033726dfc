package ci

import (
	"errors"

	"github.com/benchrun/benchrun/suites"
)

// jobScript renders the sbatch script of a suite with a [slurm] section.
func jobScript(s *suites.Suite) (string, error) {
	return "", errors.New("slurm: not yet wired")
}
