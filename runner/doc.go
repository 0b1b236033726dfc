// Package runner is the bottom of benchrun's data flow: it starts services,
// waits for them to be ready, drives load against them and streams every
// operation as a Sample to a JSONL file.
//
// runner knows nothing about suite files: package suites turns a suite into
// services and cases built from runner's types, and package analysis reads the
// samples runner wrote. Execution and analysis are joined only by files, so a
// killed run still leaves every sample that completed.
package runner
