package runner

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// tokenClock paces one request's tokens with a timerfd(2) read through
// Go's netpoller: the kernel's high-resolution timer wakes the poller at
// the deadline (no millisecond rounding, no timer slack) and no thread or
// P is held while waiting, so 10,000 waiting streams cost 10,000 file
// descriptors and nothing else.
type tokenClock struct {
	e     *Emulator
	ctx   context.Context
	f     *os.File // nil: timerfd unavailable, fall back to sleepUntil
	fd    int
	stops [2]func() bool
	buf   [8]byte
}

func (e *Emulator) newTokenClock(ctx context.Context) *tokenClock {
	c := &tokenClock{e: e, ctx: ctx}
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return c
	}
	c.f, c.fd = os.NewFile(uintptr(fd), "timerfd"), fd
	// A read blocked on the timer ends at once when the request or the
	// emulator ends: a deadline in the past makes it fail.
	wake := func() { c.f.SetReadDeadline(time.Unix(1, 0)) }
	c.stops[0] = context.AfterFunc(ctx, wake)
	c.stops[1] = context.AfterFunc(e.closeCtx, wake)
	return c
}

func (c *tokenClock) close() {
	if c.f != nil {
		c.stops[0]()
		c.stops[1]()
		c.f.Close()
	}
}

// until waits until t; it fails when the request's context ends or the
// emulator closes.
func (c *tokenClock) until(t time.Time) error {
	if c.f == nil {
		return c.e.sleepUntil(c.ctx, t)
	}
	if err := c.ended(); err != nil {
		return err
	}
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(c.fd, 0, &spec, nil); err != nil {
		return c.e.sleepUntil(c.ctx, t)
	}
	if _, err := c.f.Read(c.buf[:]); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if err := c.ended(); err != nil {
				return err
			}
		}
		return err
	}
	return nil
}

func (c *tokenClock) ended() error {
	if err := c.ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.e.closed:
		return errClosed
	default:
		return nil
	}
}
