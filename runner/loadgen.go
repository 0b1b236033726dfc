package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// Think-time distributions for Load.ThinkDist.
const (
	ThinkFixed       = "fixed"
	ThinkExponential = "exponential"
)

// spinWindow is how early the open-loop dispatcher wakes from its timer
// before a scheduled send; it yields in a loop for the rest. On Linux an
// idle Go program's timers fire up to ~1 ms late (the poller waits in whole
// milliseconds), which would show up as queue delay; measured with
// BenchmarkOpenLoop2000. The cost is CPU: above ~1,000 req/s the
// dispatcher spins continuously on one core.
const spinWindow = time.Millisecond

// spinFor returns the spin window for this process: none when it has one
// P (GOMAXPROCS=1, e.g. a load generator pinned to one core). There a
// dispatcher that yields in a loop is always runnable, so the scheduler
// never finds the run queue empty and never polls the network itself:
// responses wait for sysmon's poll, up to 10 ms, and every request's
// latency with them (TestOpenLoopOneP: 1,000 req/s to an instant server
// measured a median of milliseconds instead of microseconds). With one P the
// dispatcher sleeps on its timer instead and sends what fell due when it
// wakes, up to about a millisecond late: queue delay, not lost rate.
func spinFor() time.Duration {
	if runtime.GOMAXPROCS(0) < 2 {
		return 0
	}
	return spinWindow
}

// defaultMaxInFlight is the in-flight bound of an open loop without
// max_concurrency: results.DefaultMaxInFlight (Load.InFlightBound), lowered
// only by a test that must stay under the race detector's goroutine limit.
var defaultMaxInFlight = results.DefaultMaxInFlight

// Case is one case as runner executes it: a load against one driver.
type Case struct {
	ID     string // case id, used in error messages
	Load   results.Load
	Driver Driver
	Rep    int    // repetition index, copied to results.Sample.Rep
	Worker string // label copied to results.Sample.Worker, e.g. "node2/0"
	// Observe, when set, is called with every sample once it is written
	// (benchrun's live metrics); it must be quick and safe for concurrent
	// use, and must not keep the sample.
	Observe func(*results.Sample)
	// Schedule is the arrival offset of every operation of the whole case
	// (all workers), for an open-loop Load with Arrival
	// results.ArrivalTrace: operation k is sent at Schedule[k] and
	// scheduling stops after the last; warm-up and ramp-up do not apply.
	Schedule []time.Duration
}

// Backoff of a closed-loop user after an infrastructure failure
// (results.Infrastructure: connection refused, the client out of file
// descriptors): the wait before its next request doubles from backoffMin
// up to backoffMax with every such failure in a row, and is drawn
// uniformly from its upper half (jitter, so users that failed together do
// not retry together). Any other outcome resets it. Without it, users
// facing a dead server would retry as fast as connections are refused
// (~13,000 requests/s), flooding the samples file and the client.
const (
	backoffMin = 5 * time.Millisecond
	backoffMax = time.Second
)

// CaseStats counts what one RunCase did. Counts include warm-up
// operations. Every scheduled operation is written, so Scheduled ==
// Completed unless writing failed; Scheduled − Unsent were sent.
type CaseStats struct {
	Scheduled  int64 // operations scheduled (open loop) or made ready (closed loop)
	Completed  int64 // samples written: finished, failed, unfinished or canceled
	Errors     int64 // samples with an error class, canceled and unfinished ones included
	Canceled   int64 // samples with Error == results.ErrCanceled
	Unfinished int64 // samples with Error == results.ErrUnfinished, Unsent included
	Unsent     int64 // unfinished samples never sent (open loop, waiting for a slot)
	Warmup     int64 // samples flagged Warmup

	Interrupted   bool          // ctx was canceled before the case finished
	DrainTimedOut bool          // operations were still running when Load.Drain ended
	Elapsed       time.Duration // from the case start to the return of RunCase
}

// Progress holds live counters of running cases for a progress display.
// Counters are cumulative over every RunCase it is passed to; all methods
// are safe for concurrent use and a nil *Progress is valid (it counts
// nothing).
type Progress struct {
	queued, started, completed, errors, inFlight, connect atomic.Int64
	ttft                                                  [ttftBuckets]atomic.Int64 // progress_ttft.go
}

// ProgressSnapshot is a point-in-time copy of a Progress.
type ProgressSnapshot struct {
	Queued    int64 // open loop: due, waiting for a MaxConcurrency slot
	Started   int64 // handed to Driver.Do
	Completed int64 // written, failures included
	Errors    int64 // written with an error class
	InFlight  int64 // started and not yet completed
	// Connect counts operations written with results.ErrConnect: a
	// rising count is the cue to probe the service (Process.Check).
	Connect int64
}

// Snapshot returns the current counters; the zero snapshot for nil.
func (p *Progress) Snapshot() ProgressSnapshot {
	if p == nil {
		return ProgressSnapshot{}
	}
	return ProgressSnapshot{
		Queued:    p.queued.Load(),
		Started:   p.started.Load(),
		Completed: p.completed.Load(),
		Errors:    p.errors.Load(),
		InFlight:  p.inFlight.Load(),
		Connect:   p.connect.Load(),
	}
}

func (p *Progress) queue(d int64) {
	if p != nil {
		p.queued.Add(d)
	}
}

func (p *Progress) start() {
	if p != nil {
		p.started.Add(1)
		p.inFlight.Add(1)
	}
}

// connectFailed counts an operation that could not connect.
func (p *Progress) connectFailed() {
	if p != nil {
		p.connect.Add(1)
	}
}

// finish counts a written sample; started says whether start counted it.
func (p *Progress) finish(started, failed bool) {
	if p == nil {
		return
	}
	if started {
		p.inFlight.Add(-1)
	}
	p.completed.Add(1)
	if failed {
		p.errors.Add(1)
	}
}

// RunCase drives c.Load against c.Driver and writes every operation to w as
// it completes. start is offset zero of the case: every Sample offset is
// time.Since(start) (monotonic), so pass a value with a monotonic reading
// (time.Now(), or time.Now().Add(d)). The schedule of this run begins when
// RunCase is called, or at start if that is later (workers on several
// nodes are given a start a little ahead, so they begin together): the
// repetitions of a case share one timeline, each with its own schedule.
// p may be nil.
//
// RunCase sets Sample.Seq, Rep, Worker, Warmup, Scheduled and Sent (taken
// just before Driver.Do); the driver sets the rest. Latency is measured from
// Scheduled: in open loop an operation that waits for a MaxConcurrency slot
// has that wait in its queue delay (Sent − Scheduled).
//
// Stop conditions: the case stops scheduling at offset Load.Warmup +
// Load.Duration (the measured window lasts Duration after a time-based
// warm-up) or after Load.Requests non-warm-up operations, whichever comes
// first. In-flight operations (and, in open loop, those waiting for a
// MaxConcurrency slot) then get Load.Drain (0: results.DefaultDrain) to
// finish. Those still running are then canceled and written with
// results.ErrUnfinished, and those still waiting are written with
// results.ErrUnfinished and no send time: every scheduled operation is a
// sample, and the error rate counts the ones the server did not finish.
//
// If ctx is canceled RunCase stops scheduling at once, cancels in-flight
// operations (drivers record ErrCanceled), writes what they recorded and
// returns with CaseStats.Interrupted set and a nil error. The error is
// non-nil only for an invalid Load or Case, or when writing a sample fails
// (the case then stops). RunCase does not close w.
func RunCase(ctx context.Context, c Case, start time.Time, w *results.SampleWriter, p *Progress) (CaseStats, error) {
	pl, err := planCase(c)
	if err != nil {
		return CaseStats{}, fmt.Errorf("case %q: %w", c.ID, err)
	}
	if w == nil {
		return CaseStats{}, fmt.Errorf("case %q: no sample writer", c.ID)
	}
	base := time.Since(start)
	if base < 0 {
		// The schedule begins at start exactly; waking late is queue delay.
		t := time.NewTimer(-base)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return CaseStats{Interrupted: true}, nil
		}
		base = 0
	}
	if pl.end > 0 {
		pl.end += base
	}
	opCtx, cancelOps := context.WithCancelCause(ctx)
	defer cancelOps(nil)
	r := &caseRun{c: c, plan: pl, start: start, base: base, w: w, p: p, opCtx: opCtx, cancelOps: cancelOps, spent: make(chan struct{})}
	r.drain = c.Load.Drain
	if r.drain == 0 {
		r.drain = results.DefaultDrain
	}

	var wg sync.WaitGroup
	if c.Load.Mode == results.ModeClosed {
		r.runClosed(&wg)
	} else {
		r.runOpen(&wg)
	}

	// Scheduling has stopped; let in-flight operations finish, within Drain.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(r.drain)
	select {
	case <-done:
	case <-t.C:
		r.stats.drainTimedOut.Store(ctx.Err() == nil)
		cancelOps(errDrained)
		<-done
	}
	t.Stop()

	st := CaseStats{
		Scheduled:     r.stats.scheduled.Load(),
		Completed:     r.stats.completed.Load(),
		Errors:        r.stats.errors.Load(),
		Canceled:      r.stats.canceled.Load(),
		Unfinished:    r.stats.unfinished.Load(),
		Unsent:        r.stats.unsent.Load(),
		Warmup:        r.stats.warmup.Load(),
		Interrupted:   ctx.Err() != nil,
		DrainTimedOut: r.stats.drainTimedOut.Load(),
		Elapsed:       time.Since(start),
	}
	if err := r.writeError(); err != nil {
		return st, fmt.Errorf("case %q: writing samples: %w", c.ID, err)
	}
	return st, nil
}

// casePlan is one worker's share of a Load, validated.
type casePlan struct {
	users          int           // closed loop: users of this worker
	maxConcurrency int           // open loop: this worker's share of Load.InFlightBound
	firstUser      int           // global index of this worker's first user
	end            time.Duration // stop scheduling at this offset; 0 = no limit
	requests       int64         // this worker's measured operations; 0 = no limit
	warmupRequests int64
	worker, stride int64 // Seq = n*stride + worker keeps Seq unique across workers
}

func planCase(c Case) (casePlan, error) {
	l := c.Load
	var pl casePlan
	if c.Driver == nil {
		return pl, errors.New("no driver")
	}
	n := l.Workers
	if n == 0 {
		n = 1
	}
	if n < 0 || l.Worker < 0 || l.Worker >= n {
		return pl, fmt.Errorf("load: worker %d of %d is out of range", l.Worker, l.Workers)
	}
	if l.Duration < 0 || l.Requests < 0 || l.Warmup < 0 || l.WarmupRequests < 0 || l.Drain < 0 {
		return pl, errors.New("load: duration, requests, warmup, warmup_requests and drain must not be negative")
	}
	if l.Duration == 0 && l.Requests == 0 {
		return pl, errors.New("load: set duration or requests (or both) so the case can stop")
	}
	i := l.Worker
	pl.worker, pl.stride = int64(i), int64(n)
	pl.requests = share(l.Requests, i, n)
	pl.warmupRequests = share(l.WarmupRequests, i, n)
	if l.Mode == results.ModeClosed && l.Users > 0 {
		// Request budgets follow the users: a worker with no user (fewer
		// users than workers) gets none, one with more users more.
		pl.requests = shareByUsers(l.Requests, l.Users, i, n)
		pl.warmupRequests = shareByUsers(l.WarmupRequests, l.Users, i, n)
	}
	if l.Requests > 0 && pl.requests == 0 {
		// More workers than requests: this worker has nothing to do. A
		// zero share must not read as "no limit".
		pl.requests = -1
	}
	if l.Duration > 0 {
		pl.end = l.Warmup + l.Duration
	}
	switch l.Mode {
	case results.ModeClosed:
		if l.Users < 1 {
			return pl, fmt.Errorf("load: closed loop needs users ≥ 1, got %d", l.Users)
		}
		if l.ThinkTime < 0 {
			return pl, fmt.Errorf("load: think_time must not be negative, got %v", l.ThinkTime)
		}
		switch l.ThinkDist {
		case "", ThinkFixed, ThinkExponential:
		default:
			return pl, fmt.Errorf("load: unknown think_dist %q (want %q or %q)", l.ThinkDist, ThinkFixed, ThinkExponential)
		}
		pl.users = int(share(int64(l.Users), i, n))
		pl.firstUser = i
	case results.ModeOpen:
		if l.MaxConcurrency < 0 {
			return pl, fmt.Errorf("load: max_concurrency must not be negative, got %d", l.MaxConcurrency)
		}
		// The cap (max_concurrency, or results.DefaultMaxInFlight when
		// unset) is for the whole case: each worker gets its share, at
		// least one slot.
		bound := l.MaxConcurrency
		if bound == 0 {
			bound = defaultMaxInFlight
		}
		pl.maxConcurrency = max(int(share(int64(bound), i, n)), 1)
		if l.Arrival == results.ArrivalTrace {
			if len(c.Schedule) == 0 {
				return pl, errors.New("load: trace arrivals need a schedule")
			}
			break
		}
		if _, err := NewPacer(l.Rate, l.Arrival, l.Burstiness, l.RampUp, 0); err != nil {
			return pl, fmt.Errorf("load: %w", err)
		}
	default:
		return pl, fmt.Errorf("load: unknown mode %q (want %q or %q)", l.Mode, results.ModeClosed, results.ModeOpen)
	}
	return pl, nil
}

// shareByUsers splits total over n workers in proportion to their users
// (users split by share): worker i gets the operations whose index k has
// k·users/total among its users.
func shareByUsers(total int64, users, i, n int) int64 {
	// cum(j) is the number of users of workers before j.
	cum := func(j int) int64 { return int64(j)*int64(users/n) + int64(min(j, users%n)) }
	upTo := func(j int) int64 { return total * cum(j) / int64(users) }
	return upTo(i+1) - upTo(i)
}

// share splits total over n parts evenly, the remainder to the first ones.
func share(total int64, i, n int) int64 {
	s := total / int64(n)
	if int64(i) < total%int64(n) {
		s++
	}
	return s
}

// Random stream purposes, so that one stream's consumption never shifts
// another's.
const (
	streamPacer = iota + 1
	streamThink
	streamOp
	streamBackoff
)

// deriveSeed mixes a case seed with stream coordinates (splitmix64), so
// every worker, user and purpose gets an independent, reproducible stream.
func deriveSeed(seed int64, a, b uint64) uint64 {
	z := uint64(seed)
	for _, v := range [...]uint64{a, b} {
		z += 0x9e3779b97f4a7c15 + v
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
	}
	return z
}

// caseRun is the state of one RunCase.
type caseRun struct {
	c     Case
	plan  casePlan
	start time.Time     // offset zero of the case: results.Sample offsets
	base  time.Duration // offset at which this run's schedule begins
	w     *results.SampleWriter
	p     *Progress

	drain     time.Duration   // Load.Drain, or its default
	opCtx     context.Context // canceled on interrupt, at the end of the drain (errDrained) or on a write failure
	cancelOps context.CancelCauseFunc

	claimMu   sync.Mutex
	claimed   int64         // closed loop: operations claimed, warm-up included; guarded by claimMu
	measured  int64         // closed loop: non-warm-up operations claimed; guarded by claimMu
	spent     chan struct{} // closed loop: closed once the request budget is spent
	spentOnce sync.Once

	stats struct {
		scheduled, completed, errors, canceled, warmup atomic.Int64
		unfinished, unsent                             atomic.Int64
		drainTimedOut                                  atomic.Bool
	}
	errMu  sync.Mutex
	errOut error
}

// errDrained is the cause of the cancellation of operations still running
// when the drain ended: they are results.ErrUnfinished, not ErrCanceled.
var errDrained = errors.New("the drain ended")

// drained reports whether operations were canceled because the drain
// ended (and not because benchrun was interrupted before).
func (r *caseRun) drained() bool { return context.Cause(r.opCtx) == errDrained }

func (r *caseRun) writeError() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.errOut
}

// record writes a finished sample and counts it.
func (r *caseRun) record(s *results.Sample) {
	if err := r.w.Write(s); err != nil {
		r.errMu.Lock()
		if r.errOut == nil {
			r.errOut = err
		}
		r.errMu.Unlock()
		r.cancelOps(err)
		return
	}
	if r.c.Observe != nil {
		r.c.Observe(s)
	}
	r.stats.completed.Add(1)
	if s.Warmup {
		r.stats.warmup.Add(1)
	}
	if s.Error != "" {
		r.stats.errors.Add(1)
		switch s.Error {
		case results.ErrCanceled:
			r.stats.canceled.Add(1)
		case results.ErrUnfinished:
			r.stats.unfinished.Add(1)
			if s.Sent == 0 {
				r.stats.unsent.Add(1)
			}
		}
	}
}

// do performs one operation into s (reset first, keeping its buffers) and
// records it.
func (r *caseRun) do(seq int64, scheduled time.Duration, warm bool, rng *rand.Rand, s *results.Sample, slotWait time.Duration) {
	itl, server, values := s.ITL[:0], s.Server, s.Values
	clear(server)
	clear(values)
	*s = results.Sample{
		Seq: seq, Rep: r.c.Rep, Worker: r.c.Worker, Warmup: warm, Scheduled: scheduled,
		ITL: itl, Server: server, Values: values, SlotWait: slotWait,
	}
	r.p.start()
	s.Sent = time.Since(r.start)
	r.c.Driver.Do(r.opCtx, Op{Start: r.start, Seq: seq, Rand: rng}, s)
	if s.Done == 0 {
		s.Done = time.Since(r.start)
	}
	if s.Error == results.ErrCanceled && r.drained() {
		s.Error = results.ErrUnfinished
		s.ErrorDetail = fmt.Sprintf("still in flight when the %v drain ended", r.drain)
	}
	if s.ErrorDetail != "" {
		// Drivers redact what they know is secret; this catches
		// credentials in the details of drivers that do not.
		s.ErrorDetail = Redact(s.ErrorDetail)
	}
	r.record(s)
	r.p.finish(true, !s.OK())
	if s.OK() && s.FirstToken != 0 && !s.Warmup {
		r.p.observeTTFT(s.FirstToken - s.Scheduled)
	}
	if s.Error == results.ErrConnect {
		r.p.connectFailed()
	}
}

// pastEnd reports whether offset is at or beyond the end of scheduling.
func (r *caseRun) pastEnd(off time.Duration) bool {
	return r.plan.end > 0 && off >= r.plan.end
}

// runClosed starts this worker's users and returns when all of them have
// stopped scheduling; their last operations may still be in flight in wg.
func (r *caseRun) runClosed(wg *sync.WaitGroup) {
	l := r.c.Load
	for j := 0; j < r.plan.users; j++ {
		g := uint64(r.plan.firstUser + j*int(r.plan.stride)) // global user index
		think := rand.New(rand.NewPCG(deriveSeed(l.Seed, streamThink, g), g))
		ops := rand.New(rand.NewPCG(deriveSeed(l.Seed, streamOp, g), g))
		backoff := rand.New(rand.NewPCG(deriveSeed(l.Seed, streamBackoff, g), g))
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.user(think, ops, backoff)
		}()
	}
	// Users stop themselves; RunCase waits for them through wg. Returning
	// now starts the drain clock, which also bounds a user's last
	// operation.
	r.waitScheduling(wg)
}

// waitScheduling blocks until the closed-loop users stop scheduling: the
// end offset passes, the request budget is spent, or ops are canceled.
// Users exit on their own in those cases; operations still in flight then
// run under the drain clock.
func (r *caseRun) waitScheduling(wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var endC <-chan time.Time
	if r.plan.end > 0 {
		t := time.NewTimer(r.plan.end - time.Since(r.start))
		defer t.Stop()
		endC = t.C
	}
	select {
	case <-done:
	case <-endC:
	case <-r.spent:
	case <-r.opCtx.Done():
	}
}

// claim takes the next operation of the closed loop for an operation
// scheduled at sched: its number n (consecutive from 0) and whether it is
// a warm-up. ok is false once the request budget is spent; a refused
// claim takes no number, so the numbers, and the prompts picked by them,
// do not depend on how the users raced for the last ones.
func (r *caseRun) claim(sched time.Duration) (n int64, warm, ok bool) {
	r.claimMu.Lock()
	defer r.claimMu.Unlock()
	n = r.claimed
	warm = n < r.plan.warmupRequests || sched-r.base < r.c.Load.Warmup
	if !warm && r.plan.requests != 0 {
		if r.plan.requests < 0 || r.measured >= r.plan.requests {
			r.spentOnce.Do(func() { close(r.spent) })
			return 0, false, false
		}
		r.measured++
	}
	r.claimed++
	return n, warm, true
}

// user is one closed-loop user: send, wait for the whole response, think,
// repeat. An operation is scheduled when the previous one was done plus
// the think time, so a late wake-up, or time spent writing the previous
// sample, is queue delay (sent − scheduled), not hidden. After an
// infrastructure failure the user backs off (backoffMin, backoffMax)
// instead of thinking, if that is longer.
func (r *caseRun) user(thinkRng, opRng, backoffRng *rand.Rand) {
	l := r.c.Load
	var s results.Sample
	var t *time.Timer
	var backoff time.Duration
	due := time.Duration(-1) // the first operation is due when the user starts
	for {
		if r.opCtx.Err() != nil {
			return
		}
		sched := due
		if sched < 0 {
			sched = time.Since(r.start)
		}
		if r.pastEnd(sched) {
			return
		}
		n, warm, ok := r.claim(sched)
		if !ok {
			return
		}
		r.stats.scheduled.Add(1)
		r.do(n*r.plan.stride+r.plan.worker, sched, warm, opRng, &s, 0)

		think := thinkTime(l, thinkRng)
		backoff = nextBackoff(backoff, results.Infrastructure(s.Error))
		if backoff > 0 {
			think = max(think, jitter(backoff, backoffRng))
		}
		due = s.Done + think
		if think <= 0 {
			continue
		}
		if r.pastEnd(due) {
			return // would wake after the end: nothing left to send
		}
		wait := due - time.Since(r.start)
		if wait <= 0 {
			continue
		}
		if t == nil {
			t = time.NewTimer(wait)
			defer t.Stop()
		} else {
			t.Reset(wait)
		}
		select {
		case <-t.C:
		case <-r.opCtx.Done():
			return
		}
	}
}

// nextBackoff returns a user's backoff after an operation, given the one
// before: doubled (from backoffMin, at most backoffMax) after an
// infrastructure failure, 0 after anything else.
func nextBackoff(prev time.Duration, infrastructure bool) time.Duration {
	if !infrastructure {
		return 0
	}
	return min(max(2*prev, backoffMin), backoffMax)
}

// jitter draws a wait uniformly from [b/2, b].
func jitter(b time.Duration, rng *rand.Rand) time.Duration {
	return b/2 + time.Duration(rng.Int64N(int64(b/2)+1))
}

// thinkTime draws one closed-loop think time: Load.ThinkTime, or an
// exponential variate with that mean.
func thinkTime(l results.Load, rng *rand.Rand) time.Duration {
	if l.ThinkTime > 0 && l.ThinkDist == ThinkExponential {
		return time.Duration(rng.ExpFloat64() * float64(l.ThinkTime))
	}
	return l.ThinkTime
}

// openOp is one scheduled open-loop operation.
type openOp struct {
	seq       int64
	scheduled time.Duration
	queued    time.Duration // when the dispatcher queued it for a slot (offset)
	warm      bool
}

// runOpen runs the dispatcher: it sleeps until each scheduled offset and
// hands the operation to the slots (slot) through a queue. Slots are
// started as needed, up to this worker's share of Load.InFlightBound; an
// operation due while all of them are busy waits in the queue (its
// SlotWait). It returns when scheduling stops.
func (r *caseRun) runOpen(wg *sync.WaitGroup) {
	l := r.c.Load
	// Every worker draws the whole case's schedule from one seed and keeps
	// every n-th arrival, from its own index on: the arrivals of all
	// workers together are the process asked for (n independent gamma
	// processes at rate/n would merge into a less bursty one), and
	// constant arrivals interleave exactly.
	pacer, _ := NewPacer(l.Rate, l.Arrival, l.Burstiness, l.RampUp, deriveSeed(l.Seed, streamPacer, 0))
	var replayed int64
	next := func() time.Duration {
		if l.Arrival == results.ArrivalTrace {
			// This worker's share of the trace: every stride-th from its
			// index; past the last, an offset beyond any end.
			j := replayed*r.plan.stride + r.plan.worker
			replayed++
			if j >= int64(len(r.c.Schedule)) {
				return math.MaxInt64
			}
			return r.base + r.c.Schedule[j]
		}
		off := pacer.Next()
		for range r.plan.worker {
			off = pacer.Next()
		}
		for range r.plan.stride - 1 - r.plan.worker {
			pacer.Next()
		}
		return r.base + off
	}
	opSeed := deriveSeed(l.Seed, streamOp, 0)

	q := newOpQueue(r.plan.maxConcurrency)
	defer q.close()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var measured int64
	for k := int64(0); ; k++ {
		off := next()
		if off == math.MaxInt64 {
			return // the trace is replayed
		}
		if r.pastEnd(off) {
			// Scheduling lasts until the end offset; the drain starts there.
			sleepUntil(r.opCtx, timer, r.start, r.plan.end)
			return
		}
		warm := k < r.plan.warmupRequests || off-r.base < l.Warmup
		if !warm && r.plan.requests != 0 {
			if r.plan.requests < 0 || measured >= r.plan.requests {
				return
			}
			measured++
		}
		if !sleepUntil(r.opCtx, timer, r.start, off) {
			return
		}
		op := openOp{seq: k*r.plan.stride + r.plan.worker, scheduled: off, warm: warm}
		r.stats.scheduled.Add(1)
		r.p.queue(1)
		if q.push(op, time.Since(r.start)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.slot(q, opSeed)
			}()
		}
	}
}

// slot is one open-loop worker: it serves queued operations in schedule
// order until the queue is closed and empty. Its goroutine, grown stack and
// sample are reused from one operation to the next (growing a fresh
// goroutine's stack through net/http, runtime.newstack, was about a tenth
// of the CPU profile of an open loop at 10,000 req/s). Once operations are
// canceled, the queued ones are written without being sent (Sent 0):
// unfinished when the drain ended, canceled when benchrun was interrupted.
func (r *caseRun) slot(q *opQueue, opSeed uint64) {
	var s results.Sample
	pcg := rand.NewPCG(0, 0)
	rng := rand.New(pcg)
	for {
		op, ok := q.pop()
		if !ok {
			return
		}
		r.p.queue(-1)
		if r.opCtx.Err() != nil {
			s := &results.Sample{
				Seq: op.seq, Rep: r.c.Rep, Worker: r.c.Worker, Warmup: op.warm,
				Scheduled: op.scheduled, Done: time.Since(r.start),
				Error: results.ErrCanceled, ErrorDetail: "canceled while waiting for " + r.slotName() + "; never sent",
			}
			if r.drained() {
				s.Error = results.ErrUnfinished
				s.ErrorDetail = fmt.Sprintf("still waiting for %s when the %v drain ended; never sent", r.slotName(), r.drain)
			}
			r.record(s)
			r.p.finish(false, true)
			continue
		}
		pcg.Seed(opSeed, uint64(op.seq))
		// The wait for a slot, when every slot was busy, is the server's
		// backpressure, not the generator's lag; at least 1ns, because 0
		// means "not queued" (a slot was free or started for it).
		var wait time.Duration
		if op.queued > 0 {
			wait = max(time.Since(r.start)-op.queued, 1)
		}
		r.do(op.seq, op.scheduled, op.warm, rng, &s, wait)
	}
}

// slotName says which bound an unsent operation waited for, in its
// error detail.
func (r *caseRun) slotName() string {
	if r.c.Load.MaxConcurrency > 0 {
		return "a max_concurrency slot"
	}
	return fmt.Sprintf("one of the %d in-flight slots of an open loop without max_concurrency (the client held it)", results.DefaultMaxInFlight)
}

// sleepUntil blocks until offset off from start, or until ctx is done
// (false). It sleeps on t until spinWindow before the deadline and yields
// in a loop for the rest, because timer wake-ups are late by a noisy
// amount (with one P it only sleeps: spinFor). t must not be in use
// elsewhere.
func sleepUntil(ctx context.Context, t *time.Timer, start time.Time, off time.Duration) bool {
	for {
		if ctx.Err() != nil {
			return false
		}
		d := off - time.Since(start)
		if d <= 0 {
			return true
		}
		if spin := spinFor(); d > spin {
			t.Reset(d - spin)
			select {
			case <-ctx.Done():
				return false
			case <-t.C:
			}
			continue
		}
		runtime.Gosched()
	}
}

// opQueue is an unbounded FIFO of scheduled operations, so the dispatcher
// never blocks when every slot is busy. It counts the slots: those started
// (at most slots) and those idle in pop.
type opQueue struct {
	mu      sync.Mutex
	cond    sync.Cond
	items   []openOp
	head    int
	closed  bool
	slots   int // most slots to start
	started int // slots started
	idle    int // slots waiting in pop and not yet signaled
}

func newOpQueue(slots int) *opQueue {
	q := &opQueue{slots: slots}
	q.cond.L = &q.mu
	return q
}

// push queues op, due now (offset from the case start). It returns true
// when the caller must start a new slot (none was idle and fewer than
// slots are started); the queue counts it as started. Only when every
// slot is busy does op record when it was queued (openOp.queued), so its
// wait for a slot is told apart from the generator's own lag.
func (q *opQueue) push(op openOp, now time.Duration) (startSlot bool) {
	q.mu.Lock()
	switch {
	case q.idle > 0:
		q.idle-- // the slot signaled below takes it
	case q.started < q.slots:
		q.started++
		startSlot = true
	default:
		op.queued = max(now, 1)
	}
	if q.head > 0 && q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	q.items = append(q.items, op)
	q.mu.Unlock()
	if !startSlot {
		q.cond.Signal()
	}
	return startSlot
}

// pop returns the oldest operation, blocking while the queue is empty and
// open; ok is false once it is closed and empty.
func (q *opQueue) pop() (op openOp, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.head == len(q.items) {
		if q.closed {
			return openOp{}, false
		}
		q.idle++
		q.cond.Wait()
	}
	op = q.items[q.head]
	q.head++
	return op, true
}

func (q *opQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}
