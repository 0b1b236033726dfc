// Package report is the last step of benchrun's data flow before the CLI:
// it renders what the earlier steps left in a results directory —
// manifest.json (package runner), summary.json (packages analysis and
// baselines) and what package analysis measures from the samples files —
// for people and machines: report.html (self-contained, charts inlined),
// report.md (an MR comment or job log), junit.xml and metrics.txt (GitLab
// reports), CSV or JSON exports for spreadsheets and notebooks, the terminal
// table with its verdict line, and the progress display shown while a suite
// runs.
//
// report computes no numbers and no verdicts: tables show summary.json, and
// the charts (latency CDFs and histograms, time series, error classes,
// server timings) are drawn from the analysis.Raw that
// analysis.SummarizeCaseIn returns for each case, from the same pass and by
// the same rules as the summary, so a number on a chart and the same number
// in a table agree. The samples export is the one place report reads sample
// files itself, to copy them out. Every output is deterministic for a given
// results directory: fixed chart ids, sorted keys, no render-time
// timestamps.
package report
