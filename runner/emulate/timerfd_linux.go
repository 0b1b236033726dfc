package emulate

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// tokenClock paces one request's tokens with a timerfd(2) read through
// Go's netpoller: the kernel's high-resolution timer wakes the poller at
// the deadline (no millisecond rounding, no timer slack) and no thread or
// P is held while waiting, so 10,000 waiting streams cost 10,000 file
// descriptors and nothing else. Timers are pooled: a request that ends
// normally hands its timer, disarmed, to the next.
type tokenClock struct {
	e     *Emulator
	ctx   context.Context
	t     *timerFD // nil: timerfd unavailable, fall back to sleepUntil
	stops [2]func() bool
	armed bool // set, not yet read
}

type timerFD struct {
	f   *os.File
	fd  int
	buf [8]byte
}

// timers holds idle timers. One the pool drops is closed by its
// *os.File's finalizer.
var timers sync.Pool

func (e *Emulator) newTokenClock(ctx context.Context) *tokenClock {
	c := &tokenClock{e: e, ctx: ctx}
	t, _ := timers.Get().(*timerFD)
	if t == nil {
		fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
		if err != nil {
			return c
		}
		t = &timerFD{f: os.NewFile(uintptr(fd), "timerfd"), fd: fd}
	}
	c.t = t
	// A read blocked on the timer ends at once when the request or the
	// emulator ends: a deadline in the past makes it fail.
	wake := func() { t.f.SetReadDeadline(time.Unix(1, 0)) }
	c.stops[0] = context.AfterFunc(ctx, wake)
	c.stops[1] = context.AfterFunc(e.closeCtx, wake)
	return c
}

// close returns the timer to the pool, unless a wake-up ran (or may be
// running) and left its deadline set; that one is closed.
func (c *tokenClock) close() {
	t := c.t
	if t == nil {
		return
	}
	stopped0, stopped1 := c.stops[0](), c.stops[1]()
	if !stopped0 || !stopped1 {
		t.f.Close()
		return
	}
	if c.armed {
		var none unix.ItimerSpec
		if unix.TimerfdSettime(t.fd, 0, &none, nil) != nil {
			t.f.Close()
			return
		}
		unix.Read(t.fd, t.buf[:]) // drop an expiry that came meanwhile
	}
	timers.Put(t)
}

// until waits until t; it fails when the request's context ends or the
// emulator closes.
func (c *tokenClock) until(due time.Time) error {
	t := c.t
	if t == nil {
		return c.e.sleepUntil(c.ctx, due)
	}
	if err := c.ended(); err != nil {
		return err
	}
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(t.fd, 0, &spec, nil); err != nil {
		return c.e.sleepUntil(c.ctx, due)
	}
	c.armed = true
	if _, err := t.f.Read(t.buf[:]); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if err := c.ended(); err != nil {
				return err
			}
		}
		return err
	}
	c.armed = false
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
