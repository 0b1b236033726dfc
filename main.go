// Command benchrun benchmarks AI services end to end — vLLM, Ollama,
// Chroma, IO500 — locally or inside one SLURM job, compares the results
// with stored baselines and fails the pipeline on a regression.
//
// See README.md and docs/ for the suite format and the outputs.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/benchrun/benchrun/ci"
)

func main() {
	// The first SIGINT or SIGTERM cancels the run: load stops, services
	// are stopped and reports are written from what was measured (exit
	// 130). A second one kills the process the default way. SIGUSR1 is
	// SLURM's time-limit warning (--signal=B:USR1@grace): the same drain,
	// reported as an execution error.
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1)
	go func() {
		s := <-sigs
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		if s == syscall.SIGUSR1 {
			cancel(ci.ErrTimeLimit)
			return
		}
		cancel(ci.ErrInterrupted)
	}()
	code := ci.Run(ctx, os.Args, os.Stdout, os.Stderr)
	cancel(nil)
	os.Exit(code)
}
