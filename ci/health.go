package ci

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/benchrun/benchrun/runner"
)

// This file watches the health of a case's service while the case runs
// (docs/reliability.md, Service health): a service that dies stops its
// case at once, and the case is an execution error that names it.

// connectProbeInterval is how often, at most, a case's service is probed
// while connect failures keep appearing in the case.
const connectProbeInterval = 250 * time.Millisecond

// serviceDown is the cause of a case stopped because its service, probed
// after connect failures appeared, did not answer its readiness probe.
type serviceDown struct{ err error }

func (e *serviceDown) Error() string {
	return e.err.Error() + " (probed after connect failures in the case)"
}

func (e *serviceDown) Unwrap() error { return e.err }

// watchCase returns the context a case of service runs under, and its
// release. It is cancelled, with a cause naming the service:
//   - at once when a process benchrun started for the service (the server
//     or a helper) exits on its own: a *runner.ExitError with the exit
//     status and the log tail (runner.Watch);
//   - when connect failures appear in the case's counters and the server
//     then fails one readiness probe (Process.Check): a *serviceDown. This
//     is the only health signal of an external service, and it catches a
//     started one that runs but no longer accepts connections.
//
// Only connect failures trigger the probe: client failures (the client out
// of file descriptors) would fail the probe too and blame the service;
// they are judged by the infrastructure share. Inside a SLURM allocation
// the load runs in worker processes, whose counters are not seen here:
// there the processes are watched, and the share judges the rest.
func (r *caseRun) watchCase(ctx context.Context, service string, counters *runner.Progress) (context.Context, func()) {
	procs := r.procs[service]
	wctx, unwatch := runner.Watch(ctx, procs...)
	if len(procs) == 0 {
		return wctx, unwatch
	}
	pctx, stop := context.WithCancelCause(wctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		probeOnConnectFailures(pctx, stop, procs[len(procs)-1], counters)
	}()
	return pctx, func() {
		stop(context.Canceled)
		<-done
		unwatch()
	}
}

// probeOnConnectFailures probes p, at most every connectProbeInterval,
// whenever counters show new connect failures, until ctx is done; a
// failed probe stops the case with a *serviceDown cause.
func probeOnConnectFailures(ctx context.Context, stop context.CancelCauseFunc, p *runner.Process, counters *runner.Progress) {
	t := time.NewTicker(connectProbeInterval)
	defer t.Stop()
	var seen int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := counters.Snapshot().Connect
		if n == seen {
			continue
		}
		seen = n
		if err := p.Check(ctx); err != nil && ctx.Err() == nil {
			stop(&serviceDown{err: err})
			return
		}
	}
}

// serviceFailure returns why the service of a case failed during it, from
// the case's context c: the *runner.ExitError of a process that exited or
// the *serviceDown of a failed probe; nil when it did not, or when the run
// itself (run) was stopped, which is not the service's failure.
func serviceFailure(run, c context.Context) error {
	if run.Err() != nil {
		return nil
	}
	cause := context.Cause(c)
	var exited *runner.ExitError
	var down *serviceDown
	if errors.As(cause, &exited) || errors.As(cause, &down) {
		return cause
	}
	return nil
}

// serviceFailed records that service failed during case id: it is not
// started again, and its later cases are errors naming it.
func (r *caseRun) serviceFailed(service, id string, err error) {
	r.e.log.Error("service failed during a case: the case stopped; the service's later cases are errors, the other services' cases run",
		"service", service, "case", id, "err", err)
	if r.failed == nil {
		r.failed = map[string]error{}
	}
	r.failed[service] = err
}

// failedErr is the execution error of the services that failed during a
// case, nil when none did.
func (r *caseRun) failedErr() error {
	if len(r.failed) == 0 {
		return nil
	}
	names := slices.Sorted(maps.Keys(r.failed))
	return fmt.Errorf("%d service(s) failed during the run (%s): their cases are errors", len(names), strings.Join(names, ", "))
}
