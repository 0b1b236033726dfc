package ci

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// termRepeat is how long after the first stop signal a SIGTERM is taken
// as the same stop.
const termRepeat = 5 * time.Second

// ErrHardStop is the cancellation cause of the hard-stop context
// (hardStop): a second stop signal.
var ErrHardStop = errors.New("interrupted twice")

// hardStopKey is the context key of the hard-stop context.
type hardStopKey struct{}

// hardStop returns the context that a second stop signal cancels (with
// ErrHardStop) when ctx comes from StopOnSignals, else one that is never
// cancelled. Waits that would otherwise run their full course once
// stopping began (a service's stop grace) end when it is done.
func hardStop(ctx context.Context) context.Context {
	if h, ok := ctx.Value(hardStopKey{}).(context.Context); ok {
		return h
	}
	return context.Background()
}

// StopOnSignals returns a context that the first SIGINT or SIGTERM cancels
// with ErrInterrupted, and SIGUSR1 (SLURM's time-limit warning,
// --signal=B:USR1@grace) with ErrTimeLimit: load stops, services are
// stopped and reports are written from what was measured.
//
// A second SIGINT, or a SIGTERM more than termRepeat after the first stop,
// is a hard stop: it cancels the context hardStop(ctx) returns, so that
// services are killed at once (SIGKILL of their process groups) instead of
// being given their stop grace; the run is still marked incomplete and its
// reports are written from the samples on disk. Within termRepeat a
// SIGTERM is the same stop delivered twice (SLURM signals every process of
// the job step, and the job script forwards the signal too), and is
// ignored; so is a repeated SIGUSR1. Only a third stop signal kills the
// process the default way. stop releases the signals.
func StopOnSignals(parent context.Context) (ctx context.Context, stop func()) {
	soft, cancel := context.WithCancelCause(parent)
	hard, cancelHard := context.WithCancelCause(context.WithoutCancel(parent))
	ctx = context.WithValue(soft, hardStopKey{}, hard)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1)
	done := make(chan struct{})
	go func() {
		var s os.Signal
		select {
		case s = <-sigs:
		case <-done:
			return
		}
		first := time.Now()
		if s == syscall.SIGUSR1 {
			cancel(ErrTimeLimit)
		} else {
			cancel(ErrInterrupted)
		}
		for stops := 1; ; {
			select {
			case s = <-sigs:
			case <-done:
				return
			}
			if s == syscall.SIGUSR1 || s == syscall.SIGTERM && time.Since(first) < termRepeat {
				continue
			}
			if stops++; stops == 2 {
				cancelHard(ErrHardStop)
				continue
			}
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			syscall.Kill(os.Getpid(), s.(syscall.Signal))
			return
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}
