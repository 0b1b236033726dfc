// Package slurm runs a benchrun suite as one SLURM job. It sits between
// package suites, which decodes a suite's [slurm] section into a Config and
// its services into roles, and package runner, which does the work inside
// the allocation:
//
//	suite TOML ─▶ suites ─▶ slurm.Job ─▶ RenderScript ─▶ sbatch (Submit) ─▶ Follow ─▶ State
//	                                         │
//	           inside the job: AllocationNodes ─▶ Job.Steps / StepCommand ─▶ srun steps (services, workers)
//
// On the submit side, RenderScript writes the batch script, Submit hands it
// to sbatch and Follow polls the job, streams its output file and returns
// the final State, which maps to benchrun's exit status (State.ExitStatus).
// Inside the job, the script runs `benchrun suite --inside-job`, which uses
// AllocationNodes and Job.Steps to start each service as an
// `srun --overlap` step pinned to its node and the load clients as
// `benchrun worker` steps. Samples flow from there through runner's files,
// never through this package.
//
// Host lists (ExpandHostlist, CompressHostlist) follow scontrol's rules.
// Every SLURM command goes through a Commander so parsing is tested against
// outputs recorded from a real cluster (testdata/recorded); the integration
// tests run against .ci/slurm-cluster.sh only when BENCHRUN_SLURM=1.
package slurm
