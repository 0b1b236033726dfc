package runner

import (
	"context"
	"errors"
	"sync"
)

// Services is the set of services one run started, so that a single
// deferred StopAll stops them on every path out of the run: return, error,
// interrupt, or a panic unwinding the goroutine that deferred it. (A panic
// in another goroutine, or SIGKILL, ends the process without deferred
// calls: then the reapers stop the services.) The zero value is empty and
// ready; its methods are safe for concurrent use.
type Services struct {
	mu sync.Mutex
	ps []*Process
}

// Add puts p in the set; nil is ignored.
func (ss *Services) Add(p *Process) {
	if p == nil {
		return
	}
	ss.mu.Lock()
	ss.ps = append(ss.ps, p)
	ss.mu.Unlock()
}

// StopAll stops every service of the set at once (so that stopping takes
// the longest grace, not their sum) and returns when all are stopped, with
// their errors joined. It may be called again, or concurrently: each Stop
// is idempotent.
func (ss *Services) StopAll(ctx context.Context) error {
	ss.mu.Lock()
	ps := append([]*Process(nil), ss.ps...)
	ss.mu.Unlock()
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() { errs[i] = p.Stop(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Watch returns a copy of parent that is cancelled, with the *ExitError as
// its cause (context.Cause), as soon as one of the started services ps
// exits on its own after it was ready, or at once if one already has. A
// service stopped with Stop does not cancel it, and external services are
// not watched (they have no process: use Process.Check). Call cancel to
// release the watch.
//
// A case runs under such a context: when its service dies the load stops
// at once, and errors.As(context.Cause(ctx), new(*ExitError)) tells that
// apart from an interrupt.
func Watch(parent context.Context, ps ...*Process) (ctx context.Context, cancel context.CancelFunc) {
	wctx, cancelCause := context.WithCancelCause(parent)
	for _, p := range ps {
		if p == nil || p.cmd == nil {
			continue
		}
		go func() {
			select {
			case <-p.exited:
				if p.exitErr != nil {
					cancelCause(p.exitErr)
				}
			case <-wctx.Done():
			}
		}()
	}
	return wctx, func() { cancelCause(context.Canceled) }
}
