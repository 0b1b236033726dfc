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

// Repeater is an optional extra a Driver may implement: BeginRep runs
// before each repetition of a case and EndRep after it (a Chroma load
// empties its collection before and checks it after; a mixed run's
// writer runs between the two). What they measure they write to
// Rep.Samples as side samples (results.Sample.Op set). An error makes
// the case an error: a check that failed must not pass.
type Repeater interface {
	BeginRep(ctx context.Context, r Rep) error
	EndRep(ctx context.Context, r Rep) error
}

// Rep is one repetition of a case, as a Repeater sees it.
type Rep struct {
	Index   int                   // results.Sample.Rep
	Start   time.Time             // the case start: offset zero of every sample
	Samples *results.SampleWriter // the case's samples file
	Worker  string                // results.Sample.Worker of the case's samples
}

// Cleaner is an optional extra a Driver may implement: Cleanup runs once
// after the case, whatever happened (it deletes what Prepare created).
type Cleaner interface {
	Cleanup(ctx context.Context) error
}
