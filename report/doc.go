// Package report is the last step of benchrun's data flow before the CLI:
// it reads what the earlier steps left in a results directory —
// manifest.json (package runner), summary.json (packages analysis and
// baselines) and the samples/<case>.jsonl files — and renders it for people
// and machines: report.html (self-contained, charts inlined), report.md (an
// MR comment or job log), junit.xml and metrics.txt (GitLab reports), CSV or
// JSON exports for spreadsheets and notebooks, the terminal table with its
// verdict line, and the progress display shown while a suite runs.
//
// report computes no verdicts: it shows the ones in summary.json. The
// charts are drawn from the samples with analysis.Percentile, so a number on
// a chart and the same number in a table agree. Every output is
// deterministic for a given results directory: fixed chart ids, sorted keys,
// no render-time timestamps.
package report
