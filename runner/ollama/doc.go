// Package ollama is the protocol driver for Ollama's native /api/chat and
// /api/generate: a runner.Driver that sends each operation's prompt (from
// runner/dataset), reads the NDJSON stream (NDJSONReader) and records the
// response as a results.Sample, with Ollama's own timings and cold starts
// in Sample.Server.
//
// Data flow: package ci builds a Driver from a case's validated tables,
// runner's load generator calls Do, and the samples go to the results
// file.
package ollama
