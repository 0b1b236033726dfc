// Package results is the results directory format: the one thing execution
// (runner, slurm, ci) and analysis (analysis, baselines, report) share.
//
// It holds the Sample (one operation, streamed as one JSONL line), the
// Manifest (what ran, where, how each case ended), the Load a case ran with,
// the paths inside a results directory, the JSONL encoder and decoder, and
// atomic file writes. It is a leaf: it imports nothing of benchrun's and
// executes nothing, so reports can be re-rendered from files alone.
// The layout is documented in docs/results-format.md.
package results
