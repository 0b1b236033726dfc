package ci

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/runner"
)

// reapCommand is the reaper that runner.StartService runs beside every
// service it starts (see runner.RunReaper): it stops the service's process
// group if benchrun dies without stopping it. People do not call it.
func reapCommand() *cli.Command {
	return &cli.Command{
		Name:   runner.ReaperCommand,
		Hidden: true,
		Usage:  "stop a service's process group when benchrun dies (started by benchrun)",
		Action: func(c *cli.Context) error {
			if !runner.IsReaper() {
				return withExitCode(errors.New(runner.ReaperCommand+": started by benchrun beside each service, not by hand"), ExitUsage)
			}
			if code := runner.RunReaper(); code != 0 {
				return errSilent{code}
			}
			return nil
		},
	}
}
