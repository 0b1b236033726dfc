// Package runner is the bottom of benchrun's data flow: it starts services,
// waits for them to be ready, drives load against them through a Driver
// and streams every operation as a Sample to a JSONL file (the format is
// package runner/results).
//
// A started service never outlives benchrun: a reaper process beside it
// (the program re-executed, see RunReaper) stops its process group if
// benchrun dies without stopping it. Watch and Process.Check tell the case
// runner at once when a service it drives has gone (see
// docs/reliability.md).
//
// It also holds what every protocol driver shares: the Driver interface,
// the kernel receive stamps that time each response chunk (ReceiveTime),
// for HTTP drivers the Exchange that sends one request and classifies its
// failure, the redaction of credentials from every error detail (Redact),
// and the line framing of streamed responses.
//
// Under it, one package per protocol implements Driver (runner/openai,
// runner/ollama), runner/dataset hands out the prompts they send, and
// runner/emulate imitates the servers for dry runs and tests.
//
// runner knows nothing about suite files: package suites turns a suite into
// services and cases built from runner's types, package ci builds each
// case's driver, and package analysis reads the samples runner wrote.
// Execution and analysis are joined only by files, so a killed run still
// leaves every sample that completed.
package runner
