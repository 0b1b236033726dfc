package ci

import (
	"context"
	"errors"
)

// Exit codes, documented in README.md (one table, the same as here).
const (
	ExitOK          = 0   // every check passed
	ExitFailed      = 1   // a threshold or regression check failed
	ExitError       = 2   // an execution or infrastructure error (service did not start, SLURM job failed)
	ExitUsage       = 3   // invalid suite or usage
	ExitInterrupted = 130 // interrupted (SIGINT/SIGTERM)
)

// exitError carries the exit code of a failure whose meaning is understood
// where it happens.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExitCode attaches code to err unless err already carries one.
func withExitCode(err error, code int) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: code, err: err}
}

// errSilent is an error whose message was already printed.
type errSilent struct{ code int }

func (e errSilent) Error() string { return "" }

// ExitCode maps an error returned by the CLI to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var s errSilent
	if errors.As(err, &s) {
		return s.code
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	return ExitError
}
