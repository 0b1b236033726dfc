// Package promql runs a suite's PromQL queries over a case's window
// against a Prometheus server, through client_golang's api/prometheus/v1
// (QueryRange), and writes the series as telemetry points
// (telemetry/<case>/promql.jsonl, results.TelemetryPromQL).
//
// Data flow: package ci calls Run after each case; analysis reads the
// file back (the GPU and node tables, energy per output token). A query
// that fails or returns nothing is counted in Stats, never an error: GPU
// telemetry explains a run, it does not decide it.
package promql
