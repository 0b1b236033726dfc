package ci

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// termRepeat is how long after the first stop signal a SIGTERM is taken
// as the same stop.
const termRepeat = 5 * time.Second

// StopOnSignals returns a context that the first SIGINT or SIGTERM cancels
// with ErrInterrupted, and SIGUSR1 (SLURM's time-limit warning,
// --signal=B:USR1@grace) with ErrTimeLimit: load stops, services are
// stopped and reports are written from what was measured. A second SIGINT
// then kills the process the default way, and so does a SIGTERM more than
// termRepeat after the first; within that window a SIGTERM is the same
// stop delivered twice (SLURM signals every process of the job step, and
// the job script forwards the signal too), and is ignored. stop releases
// the signals.
func StopOnSignals(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
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
		for {
			select {
			case s = <-sigs:
			case <-done:
				return
			}
			if s == syscall.SIGUSR1 || s == syscall.SIGTERM && time.Since(first) < termRepeat {
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
