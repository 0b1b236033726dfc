// Package analysis turns the samples package runner wrote into the numbers
// benchrun reports: it sits between execution and reporting, joined to
// runner only by the samples files and manifest.json.
//
//	runner (samples/*.jsonl, manifest.json) ─▶ analysis ─▶ baselines, report, ci
//
// It owns the one percentile definition (Percentile: linear interpolation
// between closest ranks, numpy's default), bounded-memory distributions
// (Dist, exact up to a limit, then a Histogram with relative error ≤ 1%),
// order-statistic confidence intervals, the per-case summary
// (SummarizeCase), warnings, threshold expressions (ParseThreshold) and the
// summary.json types and verdict rollup. Package baselines adds regression
// checks to the Cases analysis produces. docs/analysis.md explains the
// statistics.
package analysis
