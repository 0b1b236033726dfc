// Package baselines keeps the reference results a run is compared with and
// decides whether a change is a regression. It sits after analysis in the
// data flow:
//
//	analysis (Case, Raw) ─▶ baselines (Compare → regression checks) ─▶ report, ci
//	results dir ─▶ Promote ─▶ <baselines dir>/<suite>.json (kept in git)
//
// A baseline file holds, per benchmark and case, the environment
// fingerprint, the summary metrics, per-repetition statistics and a
// compressed histogram per distribution, enough for a significance test
// without the original samples. Compare turns a case and its baseline entry
// into analysis.Check values of kind analysis.CheckRegression; docs/baselines.md gives
// the statistics, defaults and file format.
package baselines
