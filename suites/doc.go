// Package suites turns a suite file into work for package runner.
//
// It loads TOML suites strictly (every unknown key, wrong type, number
// outside its bounds (bounds.go), missing dataset file or dangling
// reference is reported with file:line, all at once), expands sweeps into
// cases with stable ids, and holds the protocol drivers (OpenAI/vLLM,
// Ollama) and datasets that cases drive their services with.
//
// Data flow: suite TOML → suites → runner (execution) and slurm (job
// scripts); package ci orchestrates the pipeline.
package suites
