package emulate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/dataset"
)

// Emulator flavours.
const (
	FlavorVLLM   = "vllm"
	FlavorOllama = "ollama"
)

// Options configures an Emulator. Durations are per token or per
// request as named; zero timing values mean zero (an instant server), so
// tests can pin exact timings. Start from DefaultOptions for
// realistic values. See docs/emulators.md for the timing model.
type Options struct {
	Flavor string // FlavorVLLM or FlavorOllama
	Model  string // served model name; default "benchrun-emulated"

	// Slots is the number of sequences decoded at once (vLLM max_num_seqs,
	// OLLAMA_NUM_PARALLEL); a request waits in a FIFO queue for a free slot.
	// Default 256 (vllm), 4 (ollama).
	Slots int
	// MaxQueue bounds the requests waiting for a slot; beyond it the
	// emulator answers 503. 0 means the flavour default: unbounded for vllm,
	// 512 for ollama (OLLAMA_MAX_QUEUE). Negative means unbounded.
	MaxQueue int

	// Time to first token after a slot is taken:
	// PrefillBase + PrefillPerToken * prompt tokens.
	PrefillBase     time.Duration
	PrefillPerToken time.Duration
	// Gap between consecutive tokens: DecodeBase + DecodePerSeq * (running
	// sequences − 1), evaluated for every token.
	DecodeBase   time.Duration
	DecodePerSeq time.Duration
	// Jitter scales every prefill and decode time by a factor drawn
	// uniformly from [1−Jitter, 1+Jitter]; 0 means exact timing.
	Jitter float64
	// Seed makes every random choice (jitter, early stop, faults)
	// reproducible for a given arrival order.
	Seed int64
	// OutputTokens is the output length when a request gives no max_tokens
	// or num_predict. Default 128.
	OutputTokens int
	// Slowdown multiplies every time (prefill, decode, load, stall):
	// 1.3 is a server 30% slower. 0 means 1.
	Slowdown float64
	// LoadTime is the Ollama model load paid by the first request after
	// start or after keep_alive expired (reported as load_duration).
	LoadTime time.Duration

	// Faults. ErrorRate is the probability that a request is answered 500
	// at once. Every BurstEvery (from start), for BurstLength, every request
	// is answered BurstStatus (429 or 503). DisconnectRate is the
	// probability that a stream is cut mid-way (connection closed without
	// the end of the stream). StallRate is the probability that a stream
	// pauses for StallFor before one of its tokens. Until StartDelay has
	// passed since New, every endpoint, /health included, answers
	// 503 (a slow start).
	ErrorRate      float64
	BurstStatus    int
	BurstEvery     time.Duration
	BurstLength    time.Duration
	DisconnectRate float64
	StallRate      float64
	StallFor       time.Duration
	StartDelay     time.Duration
}

// DefaultOptions returns realistic options for a flavour: a small
// model on one GPU for vllm, a laptop-class CPU/GPU for ollama.
func DefaultOptions(flavor string) Options {
	o := Options{
		Flavor:          flavor,
		Model:           "benchrun-emulated",
		PrefillBase:     20 * time.Millisecond,
		PrefillPerToken: 50 * time.Microsecond,
		DecodeBase:      10 * time.Millisecond,
		DecodePerSeq:    50 * time.Microsecond,
		Jitter:          0.05,
		OutputTokens:    128,
		Slowdown:        1,
		Seed:            1,
	}
	if flavor == FlavorOllama {
		o.Slots = 4
		o.PrefillPerToken = 200 * time.Microsecond
		o.DecodeBase = 25 * time.Millisecond
		o.DecodePerSeq = 2 * time.Millisecond
		o.LoadTime = 2 * time.Second
	}
	return o
}

// Emulator is an HTTP server that imitates vLLM's OpenAI-compatible API or
// Ollama's native API, with a continuous-batching timing model, so that
// benchrun can be dry-run and tested without a GPU. It is safe for
// concurrent use; serve NewServer on a runner.ReceiveListener.
type Emulator struct {
	o      Options
	start  time.Time
	closed chan struct{}
	// closeCtx is canceled by Close, for context.AfterFunc.
	closeCtx    context.Context
	closeCancel context.CancelFunc
	once        sync.Once
	sched       *scheduler
	nreq        atomic.Uint64 // requests generated, seeds each request's randomness
	ids         atomic.Uint64 // response ids
	handler     http.Handler

	vllm *vllmMetrics // nil for ollama

	mu     sync.Mutex // guards the Ollama model state below
	load   modelState
	faultR *rand.Rand // guarded by mu
}

// New validates o, fills in defaults and returns an emulator whose
// clock (StartDelay, bursts) starts now.
func New(o Options) (*Emulator, error) {
	var errs []string
	switch o.Flavor {
	case FlavorVLLM, FlavorOllama:
	default:
		errs = append(errs, fmt.Sprintf("flavor %q: want %q or %q", o.Flavor, FlavorVLLM, FlavorOllama))
	}
	if o.Model == "" {
		o.Model = "benchrun-emulated"
	}
	if o.Slots == 0 {
		o.Slots = 256
		if o.Flavor == FlavorOllama {
			o.Slots = 4
		}
	}
	if o.MaxQueue == 0 && o.Flavor == FlavorOllama {
		o.MaxQueue = 512
	}
	if o.MaxQueue < 0 {
		o.MaxQueue = 0
	}
	if o.OutputTokens == 0 {
		o.OutputTokens = 128
	}
	if o.Slowdown == 0 {
		o.Slowdown = 1
	}
	if o.Slots < 0 {
		errs = append(errs, "slots must be positive")
	}
	if o.OutputTokens < 0 {
		errs = append(errs, "output tokens must be positive")
	}
	if o.Slowdown < 0 {
		errs = append(errs, "slowdown must be positive")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"prefill base", o.PrefillBase}, {"prefill per token", o.PrefillPerToken}, {"decode base", o.DecodeBase},
		{"decode per sequence", o.DecodePerSeq}, {"load time", o.LoadTime}, {"stall", o.StallFor},
		{"start delay", o.StartDelay}, {"burst every", o.BurstEvery}, {"burst length", o.BurstLength}} {
		if d.v < 0 {
			errs = append(errs, d.name+" must not be negative")
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"jitter", o.Jitter}, {"error rate", o.ErrorRate}, {"disconnect rate", o.DisconnectRate}, {"stall rate", o.StallRate}} {
		if p.v < 0 || p.v > 1 {
			errs = append(errs, p.name+" must be within [0, 1]")
		}
	}
	if o.BurstStatus != 0 && (o.BurstStatus < 400 || o.BurstStatus > 599) {
		errs = append(errs, fmt.Sprintf("burst status %d: want a 4xx or 5xx status", o.BurstStatus))
	}
	if o.BurstStatus != 0 && (o.BurstEvery <= 0 || o.BurstLength <= 0) {
		errs = append(errs, "burst status needs burst every and burst length")
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("emulator: %s", strings.Join(errs, "; "))
	}
	e := &Emulator{
		o:      o,
		start:  time.Now(),
		closed: make(chan struct{}),
		sched:  &scheduler{slots: o.Slots, maxQueue: o.MaxQueue},
		faultR: rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed)),
	}
	e.closeCtx, e.closeCancel = context.WithCancel(context.Background())
	if o.Flavor == FlavorVLLM {
		e.vllm = newVLLMMetrics(o.Model)
		e.handler = e.vllmHandler()
	} else {
		e.handler = e.ollamaHandler()
	}
	return e, nil
}

// NewServer returns an http.Server for the emulator. Serve it on a
// listener wrapped by runner.ReceiveListener: then a request's clock starts when
// its bytes reached the host (the kernel's receive stamp), so neither the
// emulator's own HTTP handling nor its goroutine scheduling on a busy host
// adds to the timing it emulates.
func (e *Emulator) NewServer() *http.Server {
	return &http.Server{Handler: e.handler, ConnContext: runner.ConnContext, ReadHeaderTimeout: 10 * time.Second}
}

// Close ends every stream in flight (they stop at their next token) and
// makes new requests fail with 503. It does not close any listener: the
// caller owns the http.Server. Close is idempotent.
func (e *Emulator) Close() {
	e.once.Do(func() {
		close(e.closed)
		e.closeCancel()
	})
}

// gate answers requests that must not reach the model: not started yet,
// closed, a status burst or a random error. It reports whether it answered.
func (e *Emulator) gate(w http.ResponseWriter, writeErr func(http.ResponseWriter, int, string)) bool {
	select {
	case <-e.closed:
		writeErr(w, http.StatusServiceUnavailable, "emulator closed")
		return true
	default:
	}
	el := time.Since(e.start)
	if el < e.o.StartDelay {
		writeErr(w, http.StatusServiceUnavailable, "starting")
		return true
	}
	if e.o.BurstStatus != 0 && el >= e.o.BurstEvery && el%e.o.BurstEvery < e.o.BurstLength {
		writeErr(w, e.o.BurstStatus, "emulated burst")
		return true
	}
	if e.o.ErrorRate > 0 {
		e.mu.Lock()
		fail := e.faultR.Float64() < e.o.ErrorRate
		e.mu.Unlock()
		if fail {
			writeErr(w, http.StatusInternalServerError, "emulated error")
			return true
		}
	}
	return false
}

// ready reports whether the start delay has passed.
func (e *Emulator) ready() bool { return time.Since(e.start) >= e.o.StartDelay }

// errQueueFull means the bounded queue is full.
var errQueueFull = errors.New("queue full")

// scheduler hands out Slots in FIFO order.
type scheduler struct {
	mu       sync.Mutex
	slots    int
	maxQueue int // 0 = unbounded
	running  int
	queue    []*waiter
	nrun     atomic.Int64 // mirrors running for lock-free reads
}

type waiter struct {
	ready   chan struct{}
	granted bool      // set under scheduler.mu before ready is closed
	at      time.Time // when the slot was granted
}

// enter admits a request that arrived at arrival: it takes a free slot at
// once (the ticket is already granted, from arrival) or joins the FIFO
// queue. It fails with errQueueFull when
// the queue is bounded and full. The caller must wait on the ticket.
func (s *scheduler) enter(arrival time.Time) (*waiter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := &waiter{ready: make(chan struct{})}
	if s.running < s.slots && len(s.queue) == 0 {
		s.running++
		s.nrun.Store(int64(s.running))
		w.granted, w.at = true, arrival
		close(w.ready)
		return w, nil
	}
	if s.maxQueue > 0 && len(s.queue) >= s.maxQueue {
		return nil, errQueueFull
	}
	s.queue = append(s.queue, w)
	return w, nil
}

// wait blocks until the ticket holds a slot; on error the ticket is given
// up (its slot released if it was granted meanwhile). After a nil error the
// caller must call release.
func (s *scheduler) wait(ctx context.Context, closed <-chan struct{}, w *waiter) error {
	var err error
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-closed:
		err = errClosed
	}
	s.mu.Lock()
	if w.granted {
		s.mu.Unlock()
		s.release()
		return err
	}
	for i, q := range s.queue {
		if q == w {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	return err
}

// release frees a slot, handing it to the longest waiter if any.
func (s *scheduler) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 {
		w := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		w.granted, w.at = true, time.Now()
		close(w.ready)
		return
	}
	s.running--
	s.nrun.Store(int64(s.running))
}

// counts returns the running and waiting sequences.
func (s *scheduler) counts() (running, waiting int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running, len(s.queue)
}

var errClosed = errors.New("emulator closed")

// errDisconnect asks the handler to cut the connection.
var errDisconnect = errors.New("emulated disconnect")

// genRequest is one generation as the flavour handlers describe it.
type genRequest struct {
	arrival      time.Time
	promptTokens int
	maxTokens    int
	ignoreEOS    bool          // emit exactly maxTokens
	ollama       bool          // wait for the model to load after taking a slot
	keepAlive    time.Duration // ollama: keep the model loaded this long after; < 0 forever
}

// genResult is what happened, for metrics and Ollama's timing fields.
type genResult struct {
	slot       time.Time // slot taken
	prefill    time.Time // prefill started (after any model load)
	first      time.Time // first token sent
	last       time.Time // last token sent
	end        time.Time
	loadWait   time.Duration
	tokens     int    // tokens sent
	finish     string // "length", "stop" or "abort"
	fullLength bool
}

// genHooks lets a flavour write its protocol: onToken runs for each token
// i (from 1) with its word and, for the last token only, the finish reason
// ("length" or "stop").
type genHooks struct {
	onToken func(i int, word, finish string) error
}

// generate runs one request, admitted by scheduler.enter as ticket, through
// the timing model: queue, (Ollama)
// model load, prefill, then one token per decode interval. Every wait is
// scheduled against an absolute deadline so timer lateness does not
// accumulate. It returns with res.finish "abort" when the client went
// away, the emulator closed, or a hook failed.
func (e *Emulator) generate(ctx context.Context, ticket *waiter, g genRequest, h genHooks) (res genResult, err error) {
	r := rand.New(rand.NewPCG(uint64(e.o.Seed), e.nreq.Add(1)))
	n := g.maxTokens
	if !g.ignoreEOS && n > 1 {
		// A model that may stop early: a seeded length in [ceil(n/2), n].
		lo := (n + 1) / 2
		n = lo + r.IntN(n-lo+1)
	}
	disconnectAt, stallAt := 0, 0
	if e.o.DisconnectRate > 0 && r.Float64() < e.o.DisconnectRate {
		disconnectAt = 1 + r.IntN(max(n, 1))
	}
	if e.o.StallRate > 0 && r.Float64() < e.o.StallRate {
		stallAt = 1 + r.IntN(max(n, 1))
	}
	res.finish = "abort"
	if err = e.sched.wait(ctx, e.closed, ticket); err != nil {
		return res, err
	}
	defer e.sched.release()
	// The request's clock starts when its slot was granted, not when this
	// goroutine got to run: on a busy host the handler may start late, and
	// the emulated server should not add that to its own timing.
	res.slot = ticket.at
	e.vllm.queued(res.slot.Sub(g.arrival))
	if g.ollama {
		res.loadWait, err = e.waitLoaded(ctx)
		defer e.modelIdle(g.keepAlive)
		if err != nil {
			return res, err
		}
	}
	res.prefill = res.slot
	if g.ollama {
		res.prefill = time.Now()
	}
	clock := e.newTokenClock(ctx)
	defer clock.close()
	due := res.prefill.Add(e.scale(e.o.PrefillBase+time.Duration(g.promptTokens)*e.o.PrefillPerToken, r))
	word := r.IntN(dataset.VocabularySize)
	var prev time.Time
	for i := 1; i <= n; i++ {
		if i == stallAt {
			due = due.Add(e.scale(e.o.StallFor, nil))
		}
		if err = clock.until(due); err != nil {
			return res, err
		}
		if i == disconnectAt {
			return res, errDisconnect
		}
		finish := ""
		if i == n {
			finish = "stop"
			if n == g.maxTokens {
				finish = "length"
			}
		}
		if err = h.onToken(i, dataset.VocabularyWord(word), finish); err != nil {
			return res, err
		}
		now := time.Now()
		res.tokens = i
		res.last = now
		if i == 1 {
			res.first = now
			e.vllm.firstToken(now.Sub(g.arrival), now.Sub(res.prefill), g.promptTokens)
		} else {
			e.vllm.token(now.Sub(prev))
		}
		prev = now
		word = (word + 1 + r.IntN(dataset.VocabularySize-1)) % dataset.VocabularySize
		running := e.sched.nrun.Load()
		// Small wake-up lateness is absorbed by the deadline grid, so gaps
		// stay exact on average; a token late by more than that (a busy
		// host) restarts the grid from when it was sent: a real server does
		// not emit the next tokens early to catch up.
		if now.Sub(due) > maxCatchUp {
			due = now
		}
		due = due.Add(e.scale(e.o.DecodeBase+time.Duration(max(running-1, 0))*e.o.DecodePerSeq, r))
	}
	res.end = time.Now()
	res.fullLength = n == g.maxTokens
	res.finish = "stop"
	if res.fullLength {
		res.finish = "length"
	}
	return res, nil
}

// maxCatchUp is how late a token may be before the following ones are
// paced from its actual send time instead of the deadline grid.
const maxCatchUp = time.Millisecond

// scale applies Slowdown and, when r is not nil, Jitter.
func (e *Emulator) scale(d time.Duration, r *rand.Rand) time.Duration {
	f := e.o.Slowdown
	if r != nil && e.o.Jitter > 0 {
		f *= 1 + e.o.Jitter*(2*r.Float64()-1)
	}
	if f == 1 {
		return d
	}
	return time.Duration(float64(d) * f)
}

// sleepUntil waits until t, returning early with an error when ctx ends or
// the emulator closes. Go timers are rounded to the netpoller's millisecond
// resolution on Linux (often ~0.5 ms late), so the last stretch is slept with
// a nanosleep syscall (tens of µs late) and the final few µs are yielded
// away; see preciseSleep.
func (e *Emulator) sleepUntil(ctx context.Context, t time.Time) error {
	const coarse = 2 * time.Millisecond
	if d := time.Until(t) - coarse; d > 0 {
		tm := time.NewTimer(d)
		select {
		case <-tm.C:
		case <-ctx.Done():
			tm.Stop()
			return ctx.Err()
		case <-e.closed:
			tm.Stop()
			return errClosed
		}
	} else if err := ctx.Err(); err != nil {
		return err
	}
	const slack = 60 * time.Microsecond // Linux's default timer slack is 50 µs
	if d := time.Until(t) - slack; d > 0 {
		preciseSleep(d)
	}
	for time.Now().Before(t) {
		runtime.Gosched()
	}
	return nil
}
