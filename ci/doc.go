// Package ci is the top of benchrun's data flow: the command-line
// interface, the `suite` pipeline (validate → plan → execute → analyse →
// compare → report), the placement of services and load clients (here, or
// on the nodes of a SLURM allocation), and the mapping from outcomes to
// exit codes.
//
// Only package main calls os.Exit: Run returns the exit code.
package ci
