// Package ci is the top of benchrun's data flow: the command-line
// interface, the `suite` pipeline (validate → plan → execute → analyse →
// compare → report), the mapping from outcomes to exit codes, and the
// GitLab CI templates under ci/templates.
//
// Only package main calls os.Exit: Run returns the exit code.
package ci
