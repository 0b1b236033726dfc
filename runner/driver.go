package runner

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// Driver performs operations against one service. Implementations live in
// their own packages, one per protocol (runner/openai, runner/ollama, ...),
// registered by benchmark kind in one explicit map in package ci.
type Driver interface {
	// Do performs one operation and records it in s. The caller has set
	// s.Seq, s.Rep, s.Worker, s.Warmup, s.Scheduled and s.Sent (taken just
	// before calling Do); Do sets the other timestamps as offsets from
	// op.Start (time.Since(op.Start)), the token
	// counts, the status and, when the operation failed, the error class.
	// Do never returns an error: a failed operation is a sample.
	Do(ctx context.Context, op Op, s *results.Sample)
}

// Op is what a Driver needs to know about the operation it performs.
type Op struct {
	Start time.Time  // the case start; every results.Sample offset is relative to it
	Seq   int64      // operation number, stable for a given seed: use it to pick prompts
	Rand  *rand.Rand // seeded per worker; not safe for use by other goroutines
}

// Preparer is an optional extra a Driver may implement: Prepare runs once
// before the case starts (model discovery, collection creation, ...).
type Preparer interface {
	Prepare(ctx context.Context) error
}
