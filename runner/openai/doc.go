// Package openai is the protocol driver for OpenAI-compatible completions
// and chat APIs as vLLM serves them: a runner.Driver that sends each
// operation's prompt (from runner/dataset) and records the response as a
// results.Sample, time to first token and inter-token latencies included.
//
// Streamed responses are Server-Sent Events (SSEReader); each chunk is
// decoded by a scanner that allocates nothing for chunks as servers write
// them and falls back to encoding/json for anything else.
//
// Data flow: package ci builds a Driver from a case's validated tables,
// runner's load generator calls Do, and the samples go to the results
// file. See docs/metrics.md for what each sample field means.
package openai
