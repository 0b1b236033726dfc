// Package analysis turns the samples package runner wrote into the numbers
// benchrun reports: it sits between execution and reporting, joined to
// runner only by the results files (package runner/results: samples/*.jsonl
// and manifest.json).
//
//	runner (samples/*.jsonl, manifest.json) ─▶ analysis ─▶ baselines, report, ci
//
// It is the only place numbers are computed. It owns the one percentile
// definition (Percentile: linear interpolation between closest ranks,
// numpy's default), the one list of statistics (DistStats,
// StatPercentile), bounded-memory distributions (Dist, exact up to a limit,
// then a Histogram with relative error ≤ 1%), order-statistic confidence
// intervals, the per-operation values of a sample (SampleValues, which the
// samples export uses too), the per-case summary (SummarizeCase) and, from
// the same pass, what reports draw (Raw: distributions, the per-second
// Timeline and its Series, error classes), warnings, saturation labels
// (saturated, backpressure, client_lag, with their evidence; saturation.go,
// and PlateauLabels across a users sweep), threshold expressions
// (ParseThreshold), the significance tests package baselines decides
// regressions with (MannWhitney, BootstrapPValue, TwoProportionPValue,
// RateRatioPValue, WelchZPValue, ZPValue), the formatting
// of values for people (FormatValue) and the summary.json types, files and
// verdict rollup. docs/analysis.md explains the statistics.
package analysis
