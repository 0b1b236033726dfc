//go:build !linux

package emulate

import (
	"context"
	"time"
)

// tokenClock paces one request's tokens; without timerfd(2) it sleeps
// with sleepUntil.
type tokenClock struct {
	e   *Emulator
	ctx context.Context
}

func (e *Emulator) newTokenClock(ctx context.Context) *tokenClock { return &tokenClock{e: e, ctx: ctx} }

func (c *tokenClock) close() {}

func (c *tokenClock) until(t time.Time) error { return c.e.sleepUntil(c.ctx, t) }
