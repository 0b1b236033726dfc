// Package ci is benchrun as CI runs it, the top of the data flow:
//
//   - one file per command (suite.go, validate.go, plan.go, report.go,
//     compare.go, baseline.go, export.go, emulate.go, schema.go,
//     version.go, and the hidden worker.go), wired in app.go; args.go lets
//     flags follow the command and its arguments;
//   - the pipeline (pipeline.go): validate → plan → execute → analyse →
//     compare → render → exit code, one method per step, shared by
//     `suite`, `report` and `compare`; the verdict is decided in judge;
//   - the execute step: here or inside a SLURM allocation (execute.go,
//     with the manifest recorder and case state machine in recorder.go and
//     the placement of services and load clients in placement.go, and
//     the watch of each case's service in health.go), or as a submitted
//     SLURM job (slurmjob.go);
//   - exit codes (exit.go) and stop signals (signals.go).
//
// Only package main calls os.Exit: Run returns the exit code. The
// project's own CI scripts are in .ci/, not here.
package ci
