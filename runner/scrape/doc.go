// Package scrape reads a Prometheus exposition endpoint (a vLLM server's
// /metrics, or any URL a suite names) at an interval during a case and
// stores every series it finds as telemetry points (results.Point) in the
// case's telemetry file. Parsing is prometheus/common's expfmt (text and
// protobuf); histograms and summaries are stored flat, as Prometheus
// stores them (name_bucket{le}, name_sum, name_count).
//
// A scrape that fails (no answer, an HTTP error, a body that is not an
// exposition, an exposition with no series) is counted, never a Go error:
// telemetry explains a run, it does not decide it.
//
// Data flow: package ci runs a Scraper beside each case's load and records
// the file in the manifest (results.TelemetryFile); package analysis reads
// the points back and derives the server-side figures.
package scrape
