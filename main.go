// Command benchrun benchmarks AI and HPC services end to end, locally or
// inside one SLURM job: it drives load against vLLM and Ollama (streaming
// chat and completions, embeddings) and Chroma (load, query, mixed), runs
// batch benchmarks — IO500 and any command — once per repetition (here,
// under mpirun or as srun steps) and parses their output into metrics,
// compares the results with stored baselines and fails the pipeline on a
// regression.
//
// See README.md and docs/ for the suite format and the outputs.
package main

import (
	"context"
	"os"

	"github.com/benchrun/benchrun/ci"
)

func main() {
	// SIGINT and SIGTERM stop the run and keep what was measured (exit
	// 130); SIGUSR1 is SLURM's time-limit warning. See ci.StopOnSignals.
	ctx, stop := ci.StopOnSignals(context.Background())
	code := ci.Run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
