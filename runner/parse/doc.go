// Package parse reads the output of batch benchmarks (IO500, IOR,
// mdtest, or anything through the json and regex parsers) into metrics
// in base units, each with its unit and direction.
//
// Its place in the data flow: the exec and io500 benchmark kinds run a
// command (package runner/batch), and `benchrun ingest` reads an existing
// output file; both hand the output to a parser here and record the
// metrics in results.Sample.Values, declaring their units and directions
// in the case's results.CaseInfo.Metrics.
//
// A parser never guesses: output it does not recognise is an error that
// names the file and the line, never a metric of zero. Every parser has a
// fuzz target.
package parse
