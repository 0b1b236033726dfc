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
	// The first SIGINT/SIGTERM cancels the context: load stops, services
	// are stopped and reports are written from what was measured. A
	// second signal kills the process the default way.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := ci.Run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
