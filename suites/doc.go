// Package suites is the suite file format: it loads TOML suites strictly
// (every unknown key, wrong type or dangling reference is reported with
// file:line, all at once), validates them before anything runs, expands
// sweeps into cases with stable ids, plans the services and cases a run
// needs, and derives the JSON schema of the format from its Go types.
//
// Each benchmark kind's tables have their own file (llm.go: the workload
// and dataset of the openai and ollama kinds). suites holds no protocol
// code: the drivers, datasets and emulators live under runner/.
//
// Numbers are checked against the bounds of bounds.go, and dataset files
// must exist (relative to the suite file).
//
// Data flow: suite TOML → suites → runner (services, load) and slurm (job
// scripts); package ci orchestrates the pipeline and builds each case's
// driver from its validated tables.
package suites
