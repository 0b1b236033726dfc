package runner

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// fakeDriver sleeps for Delay per operation (or until its context is
// canceled, recording ErrCanceled), and remembers what it saw.
type fakeDriver struct {
	Delay time.Duration
	// Block, if set, makes operations with Seq ≥ BlockFrom wait for their
	// context to be canceled.
	Block     bool
	BlockFrom int64

	inFlight, maxInFlight atomic.Int64

	mu    sync.Mutex
	rands map[*rand.Rand][]time.Duration // Scheduled offsets per Op.Rand (closed loop: per user)
}

func (d *fakeDriver) Do(ctx context.Context, op Op, s *results.Sample) {
	n := d.inFlight.Add(1)
	defer d.inFlight.Add(-1)
	for {
		m := d.maxInFlight.Load()
		if n <= m || d.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	d.mu.Lock()
	if d.rands == nil {
		d.rands = map[*rand.Rand][]time.Duration{}
	}
	d.rands[op.Rand] = append(d.rands[op.Rand], s.Scheduled)
	d.mu.Unlock()
	op.Rand.Uint64() // drivers may use it; it must be safe in this goroutine

	var wait <-chan time.Time
	if d.Block && op.Seq >= d.BlockFrom {
		wait = nil // only cancellation ends it
	} else {
		t := time.NewTimer(d.Delay)
		defer t.Stop()
		wait = t.C
	}
	select {
	case <-wait:
		s.Status = 200
		s.OutputTokens = 1
	case <-ctx.Done():
		s.Error = results.ErrCanceled
		s.ErrorDetail = ctx.Err().Error()
	}
	s.Done = time.Since(op.Start)
}

// runCase runs c and returns its stats and the samples written.
func runCase(t *testing.T, ctx context.Context, c Case, p *Progress) (CaseStats, []results.Sample) {
	t.Helper()
	var buf bytes.Buffer
	w := results.NewSampleWriter(&buf)
	// A start just ahead: the schedule then begins exactly at offset 0.
	st, err := RunCase(ctx, c, time.Now().Add(2*time.Millisecond), w, p)
	if err != nil {
		t.Fatalf("RunCase: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var out []results.Sample
	if err := results.ReadSamples(&buf, func(s *results.Sample) error { out = append(out, *s); return nil }); err != nil {
		t.Fatal(err)
	}
	if st.Completed != int64(len(out)) {
		t.Errorf("stats say %d completed, %d samples written", st.Completed, len(out))
	}
	return st, out
}

func countWarm(ss []results.Sample) (warm, measured int) {
	for _, s := range ss {
		if s.Warmup {
			warm++
		} else {
			measured++
		}
	}
	return
}

func seqs(ss []results.Sample) []int64 {
	var out []int64
	for _, s := range ss {
		out = append(out, s.Seq)
	}
	slices.Sort(out)
	return out
}

func TestRunCaseClosedRequests(t *testing.T) {
	d := &fakeDriver{Delay: time.Millisecond}
	c := Case{ID: "closed", Driver: d, Rep: 2, Worker: "node2/0", Load: results.Load{
		Mode: results.ModeClosed, Users: 4, Requests: 40, WarmupRequests: 6, Seed: 1,
	}}
	var p Progress
	st, ss := runCase(t, context.Background(), c, &p)
	warm, measured := countWarm(ss)
	if measured != 40 || warm != 6 {
		t.Errorf("%d measured and %d warm-up samples, want 40 and 6", measured, warm)
	}
	if got := d.maxInFlight.Load(); got > 4 {
		t.Errorf("%d operations in flight with 4 users", got)
	}
	if len(d.rands) != 4 {
		t.Errorf("%d distinct Op.Rand, want one per user (4)", len(d.rands))
	}
	for _, s := range ss {
		if s.Rep != 2 || s.Worker != "node2/0" || s.Sent < s.Scheduled || s.Done < s.Sent || !s.OK() {
			t.Fatalf("bad sample %+v", s)
		}
		if s.Warmup != (s.Seq < 6) {
			t.Errorf("seq %d: warmup = %v, want the first 6 flagged", s.Seq, s.Warmup)
		}
	}
	if got := seqs(ss); !slices.Equal(got, seqRange(0, 46, 1)) {
		t.Errorf("seqs %v, want 0..45", got)
	}
	snap := p.Snapshot()
	if snap.Started != 46 || snap.Completed != 46 || snap.InFlight != 0 || snap.Errors != 0 {
		t.Errorf("progress %+v", snap)
	}
	if st.Scheduled != 46 || st.Warmup != 6 || st.Interrupted || st.DrainTimedOut {
		t.Errorf("stats %+v", st)
	}
}

func seqRange(from, to, step int64) []int64 {
	var out []int64
	for i := from; i < to; i += step {
		out = append(out, i)
	}
	return out
}

func TestRunCaseClosedThinkTime(t *testing.T) {
	const think = 40 * time.Millisecond
	d := &fakeDriver{}
	c := Case{Driver: d, Load: results.Load{Mode: results.ModeClosed, Users: 2, ThinkTime: think, Duration: 400 * time.Millisecond}}
	_, ss := runCase(t, context.Background(), c, nil)
	// Each user sends at most once per think time: ≤ 2·(400/40) = 20.
	if len(ss) > 20 || len(ss) < 2 {
		t.Errorf("%d samples, want 2..20", len(ss))
	}
	for r, sched := range d.rands {
		for i := 1; i < len(sched); i++ {
			if gap := sched[i] - sched[i-1]; gap < think {
				t.Errorf("user %p: ready %v after the previous send, want ≥ think time %v", r, gap, think)
			}
		}
	}
	for _, s := range ss {
		if s.Scheduled >= 400*time.Millisecond {
			t.Errorf("sent at %v, after the duration", s.Scheduled)
		}
	}
}

func TestThinkTimeDistribution(t *testing.T) {
	fixed := results.Load{ThinkTime: time.Second}
	if got := thinkTime(fixed, nil); got != time.Second {
		t.Errorf("fixed think time %v", got)
	}
	exp := results.Load{ThinkTime: time.Second, ThinkDist: ThinkExponential}
	a, b := rand.New(rand.NewPCG(5, 5)), rand.New(rand.NewPCG(5, 5))
	var sum time.Duration
	const n = 20000
	for range n {
		x, y := thinkTime(exp, a), thinkTime(exp, b)
		if x != y {
			t.Fatal("same seed, different think times")
		}
		sum += x
	}
	if mean := sum / n; mean < 950*time.Millisecond || mean > 1050*time.Millisecond {
		t.Errorf("mean exponential think time %v, want 1s", mean)
	}
}

func TestRunCaseOpenSchedule(t *testing.T) {
	// 100/s constant for 300ms with 100ms time-based warm-up: the schedule is
	// exactly k·10ms for k < 40 (the end is warmup+duration = 400ms).
	c := Case{Driver: &fakeDriver{Delay: time.Millisecond}, Load: results.Load{
		Mode: results.ModeOpen, Rate: 100, Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond,
	}}
	st, ss := runCase(t, context.Background(), c, nil)
	warm, measured := countWarm(ss)
	if warm != 10 || measured != 30 {
		t.Errorf("%d warm-up and %d measured samples, want 10 and 30", warm, measured)
	}
	for _, s := range ss {
		want := time.Duration(s.Seq) * 10 * time.Millisecond
		if s.Scheduled != want {
			t.Errorf("seq %d scheduled at %v, want %v", s.Seq, s.Scheduled, want)
		}
		if s.Warmup != (s.Scheduled < 100*time.Millisecond) {
			t.Errorf("seq %d at %v: warmup = %v", s.Seq, s.Scheduled, s.Warmup)
		}
	}
	if st.Scheduled != 40 {
		t.Errorf("scheduled %d, want 40", st.Scheduled)
	}
}

func TestRunCaseOpenDeterministic(t *testing.T) {
	run := func(seed int64) []results.Sample {
		c := Case{Driver: &fakeDriver{}, Load: results.Load{
			Mode: results.ModeOpen, Rate: 2000, Arrival: results.ArrivalGamma, Burstiness: 0.5, Requests: 50, WarmupRequests: 5, Seed: seed,
		}}
		_, ss := runCase(t, context.Background(), c, nil)
		slices.SortFunc(ss, func(a, b results.Sample) int { return int(a.Seq - b.Seq) })
		return ss
	}
	a, b, c := run(9), run(9), run(10)
	if len(a) != 55 || len(b) != 55 {
		t.Fatalf("%d and %d samples, want 55 (50 + 5 warm-up)", len(a), len(b))
	}
	differ := false
	for i := range a {
		if a[i].Seq != int64(i) || a[i].Scheduled != b[i].Scheduled || a[i].Warmup != b[i].Warmup {
			t.Fatalf("sample %d differs between runs with the same seed: %+v vs %+v", i, a[i], b[i])
		}
		if a[i].Warmup != (i < 5) {
			t.Errorf("seq %d warmup %v", i, a[i].Warmup)
		}
		differ = differ || a[i].Scheduled != c[i].Scheduled
	}
	if !differ {
		t.Error("a different seed gave the same schedule")
	}
}

func TestRunCaseOpenMaxConcurrencyQueueDelay(t *testing.T) {
	// 200/s against one slot taking 20ms (capacity 50/s): op k is due at
	// 5k ms but sent at ≈20k ms, so its queue delay grows by ≈15ms per op.
	d := &fakeDriver{Delay: 20 * time.Millisecond}
	c := Case{Driver: d, Load: results.Load{Mode: results.ModeOpen, Rate: 200, MaxConcurrency: 1, Requests: 30}}
	_, ss := runCase(t, context.Background(), c, nil)
	if len(ss) != 30 {
		t.Fatalf("%d samples, want 30", len(ss))
	}
	if got := d.maxInFlight.Load(); got != 1 {
		t.Errorf("%d operations in flight, want max_concurrency 1", got)
	}
	slices.SortFunc(ss, func(a, b results.Sample) int { return int(a.Seq - b.Seq) })
	for i := 1; i < len(ss); i++ {
		if ss[i].Sent < ss[i-1].Done {
			t.Errorf("seq %d sent at %v before the slot freed at %v", i, ss[i].Sent, ss[i-1].Done)
		}
	}
	last := ss[len(ss)-1]
	// ≥ 29·20ms − 29·5ms = 435ms; the wait must be in queue delay and in
	// latency from the schedule, not hidden.
	if qd := last.Sent - last.Scheduled; qd < 400*time.Millisecond {
		t.Errorf("last queue delay %v, want ≥ 400ms", qd)
	}
	if first := ss[0].Sent - ss[0].Scheduled; first > last.Sent-last.Scheduled {
		t.Errorf("queue delay did not grow: first %v, last %v", first, last.Sent-last.Scheduled)
	}
	// The wait for the slot is recorded apart from the generator's own
	// lag (analysis tells backpressure from client lag with it): almost
	// all of the last op's queue delay, and never more than it. An op
	// that found the slot free (the first: its slot was started for it)
	// has none.
	for _, s := range ss {
		if s.SlotWait < 0 || s.SlotWait > s.Sent-s.Scheduled+time.Millisecond {
			t.Errorf("seq %d: slot wait %v, queue delay %v", s.Seq, s.SlotWait, s.Sent-s.Scheduled)
		}
	}
	if last.SlotWait < 380*time.Millisecond {
		t.Errorf("last slot wait %v, want most of its queue delay %v", last.SlotWait, last.Sent-last.Scheduled)
	}
	// Without max_concurrency nothing waits for a slot.
	_, free := runCase(t, context.Background(), Case{Driver: &fakeDriver{}, Load: results.Load{Mode: results.ModeOpen, Rate: 200, Requests: 5}}, nil)
	for _, s := range free {
		if s.SlotWait != 0 {
			t.Errorf("unbounded open loop: seq %d slot wait %v, want 0", s.Seq, s.SlotWait)
		}
	}
}

func TestRunCaseCancelKeepsSamples(t *testing.T) {
	for _, mode := range []string{results.ModeClosed, results.ModeOpen} {
		t.Run(mode, func(t *testing.T) {
			// The first 8 operations finish; the next ones block until
			// canceled.
			d := &fakeDriver{Delay: time.Millisecond, Block: true, BlockFrom: 8}
			l := results.Load{Mode: mode, Users: 4, Rate: 1000, MaxConcurrency: 4, Duration: time.Hour}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var p Progress
			go func() {
				for p.Snapshot().InFlight < 4 || p.Snapshot().Completed < 8 {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
			l.Drain = time.Hour
			st, ss := runCase(t, ctx, Case{Driver: d, Load: l}, &p)
			if !st.Interrupted || st.DrainTimedOut {
				t.Errorf("stats %+v, want interrupted", st)
			}
			ok, canceled := 0, 0
			for _, s := range ss {
				switch {
				case s.OK():
					ok++
				case s.Error == results.ErrCanceled:
					canceled++
				}
			}
			if ok != 8 || canceled < 4 || int64(canceled) != st.Canceled {
				t.Errorf("%d ok and %d canceled samples (stats %+v), want 8 and ≥ 4", ok, canceled, st)
			}
		})
	}
}

// TestRunCaseDrainTimeout: operations still in flight when the drain ends
// are canceled and written as unfinished (not canceled: benchrun was not
// interrupted), with their send time, and counted as errors.
func TestRunCaseDrainTimeout(t *testing.T) {
	d := &fakeDriver{Block: true}
	c := Case{Driver: d, Load: results.Load{Mode: results.ModeClosed, Users: 3, Duration: 50 * time.Millisecond, Drain: 50 * time.Millisecond}}
	st, ss := runCase(t, context.Background(), c, nil)
	if !st.DrainTimedOut || st.Interrupted {
		t.Errorf("stats %+v, want drain timed out", st)
	}
	if len(ss) != 3 || st.Unfinished != 3 || st.Canceled != 0 || st.Errors != 3 || st.Unsent != 0 {
		t.Errorf("%d samples, stats %+v; want 3 unfinished, none canceled", len(ss), st)
	}
	for _, s := range ss {
		if s.Error != results.ErrUnfinished || s.Sent == 0 || !strings.Contains(s.ErrorDetail, "50ms drain") {
			t.Errorf("sample %+v, want unfinished, sent, naming the drain", s)
		}
	}
}

func TestRunCaseWorkerSplit(t *testing.T) {
	for _, arrival := range []string{results.ArrivalConstant, results.ArrivalPoisson, results.ArrivalGamma} {
		t.Run("open "+arrival, func(t *testing.T) { testOpenSplit(t, arrival) })
	}
	t.Run("closed", func(t *testing.T) {
		total, users := 0, 0
		var all []results.Sample
		for i := range 2 {
			d := &fakeDriver{}
			l := results.Load{Mode: results.ModeClosed, Users: 5, Requests: 11, Worker: i, Workers: 2}
			_, ss := runCase(t, context.Background(), Case{Driver: d, Load: l}, nil)
			if want := []int{6, 5}[i]; len(ss) != want {
				t.Errorf("worker %d: %d samples, want %d", i, len(ss), want)
			}
			if want := []int{3, 2}[i]; len(d.rands) > want {
				t.Errorf("worker %d: %d users, want %d", i, len(d.rands), want)
			}
			total += len(ss)
			users += len(d.rands)
			all = append(all, ss...)
		}
		if total != 11 {
			t.Errorf("%d samples in all, want 11", total)
		}
		if s := seqs(all); len(slices.Compact(slices.Clone(s))) != len(s) {
			t.Errorf("seqs repeat across workers: %v", s)
		}
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRunCaseWriteFailure(t *testing.T) {
	c := Case{ID: "w", Driver: &fakeDriver{}, Load: results.Load{Mode: results.ModeClosed, Users: 2, Duration: time.Hour}}
	done := make(chan error, 1)
	go func() {
		_, err := RunCase(context.Background(), c, time.Now(), results.NewSampleWriter(failingWriter{}), nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("disk full")) {
			t.Errorf("error %v, want the write failure", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("RunCase kept going after samples could not be written")
	}
}

func TestRunCaseInvalid(t *testing.T) {
	tests := []struct {
		name string
		load results.Load
	}{
		{"no stop condition", results.Load{Mode: results.ModeClosed, Users: 1}},
		{"no mode", results.Load{Users: 1, Requests: 1}},
		{"no users", results.Load{Mode: results.ModeClosed, Requests: 1}},
		{"bad think dist", results.Load{Mode: results.ModeClosed, Users: 1, Requests: 1, ThinkDist: "normal"}},
		{"no rate", results.Load{Mode: results.ModeOpen, Requests: 1}},
		{"bad arrival", results.Load{Mode: results.ModeOpen, Rate: 1, Arrival: "x", Requests: 1}},
		{"negative duration", results.Load{Mode: results.ModeOpen, Rate: 1, Duration: -1}},
		{"worker out of range", results.Load{Mode: results.ModeOpen, Rate: 1, Requests: 1, Worker: 2, Workers: 2}},
		{"negative concurrency", results.Load{Mode: results.ModeOpen, Rate: 1, Requests: 1, MaxConcurrency: -1}},
		{"negative drain", results.Load{Mode: results.ModeOpen, Rate: 1, Requests: 1, Drain: -time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Case{ID: "x", Driver: &fakeDriver{}, Load: tc.load}
			if _, err := RunCase(context.Background(), c, time.Now(), results.NewSampleWriter(&bytes.Buffer{}), nil); err == nil {
				t.Error("no error")
			}
		})
	}
	if _, err := RunCase(context.Background(), Case{Load: results.Load{Mode: results.ModeClosed, Users: 1, Requests: 1}}, time.Now(), results.NewSampleWriter(&bytes.Buffer{}), nil); err == nil {
		t.Error("no error without a driver")
	}
}

func TestProgressNil(t *testing.T) {
	var p *Progress
	if p.Snapshot() != (ProgressSnapshot{}) {
		t.Error("nil progress has counts")
	}
	p.start() // must not panic
	p.queue(1)
	p.finish(true, true)
}

func TestMaxConcurrencySplitAcrossWorkers(t *testing.T) {
	for _, tc := range []struct {
		cap, workers int
		want         []int
	}{
		{8, 1, []int{8}}, {8, 3, []int{3, 3, 2}}, {2, 3, []int{1, 1, 1}},
		{0, 2, []int{results.DefaultMaxInFlight / 2, results.DefaultMaxInFlight / 2}}, // unset: the default bound
	} {

		for i := 0; i < tc.workers; i++ {
			pl, err := planCase(Case{Driver: &fakeDriver{}, Load: results.Load{Mode: results.ModeOpen, Rate: 10, Arrival: results.ArrivalConstant,
				MaxConcurrency: tc.cap, Duration: time.Second, Worker: i, Workers: tc.workers}})
			if err != nil {
				t.Fatal(err)
			}
			if pl.maxConcurrency != tc.want[i] {
				t.Errorf("cap %d over %d workers: worker %d gets %d, want %d", tc.cap, tc.workers, i, pl.maxConcurrency, tc.want[i])
			}

		}
	}
}

// testOpenSplit: three workers together send exactly the whole case's
// schedule, for every arrival process (each draws the whole schedule from
// one seed and keeps every third arrival).
func testOpenSplit(t *testing.T, arrival string) {
	whole := results.Load{Mode: results.ModeOpen, Rate: 1000, Requests: 101, Arrival: arrival, Burstiness: 0.25, Seed: 3}
	_, all := runCase(t, context.Background(), Case{Driver: &fakeDriver{}, Load: whole}, nil)
	var union []results.Sample
	for i := range 3 {
		l := whole
		l.Worker, l.Workers = i, 3
		_, ss := runCase(t, context.Background(), Case{Driver: &fakeDriver{}, Load: l}, nil)
		if want := []int{34, 34, 33}[i]; len(ss) != want {
			t.Errorf("worker %d: %d samples, want %d", i, len(ss), want)
		}
		union = append(union, ss...)
	}
	if !slices.Equal(seqs(union), seqs(all)) {
		t.Errorf("workers' seqs %v, want %v", seqs(union), seqs(all))
	}
	// The union is the whole schedule.
	byseq := map[int64]time.Duration{}
	for _, s := range all {
		byseq[s.Seq] = s.Scheduled
	}
	for _, s := range union {
		if d := s.Scheduled - byseq[s.Seq]; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("seq %d scheduled at %v by its worker, %v in the whole", s.Seq, s.Scheduled, byseq[s.Seq])
		}
	}
}

// TestRunCaseRepetitionsShareTimeline: repetitions run with the case's
// start (as the suite runner calls them) each begin their own schedule,
// instead of finding it already past: an open-loop repetition is not one
// burst, a closed-loop one with a duration still sends.
func TestRunCaseRepetitionsShareTimeline(t *testing.T) {
	for _, l := range []results.Load{
		{Mode: results.ModeOpen, Rate: 200, Duration: 150 * time.Millisecond},
		{Mode: results.ModeClosed, Users: 2, Duration: 150 * time.Millisecond, ThinkTime: 5 * time.Millisecond},
	} {
		t.Run(l.Mode, func(t *testing.T) {
			var buf bytes.Buffer
			w := results.NewSampleWriter(&buf)
			start := time.Now()
			for rep := range 2 {
				if _, err := RunCase(context.Background(), Case{Driver: &fakeDriver{}, Load: l, Rep: rep}, start, w, nil); err != nil {
					t.Fatal(err)
				}
			}
			w.Close()
			count := map[int]int{}
			first := map[int]time.Duration{}
			var worstDelay, lastDone0 time.Duration
			results.ReadSamples(&buf, func(s *results.Sample) error {
				if _, ok := first[s.Rep]; !ok || s.Scheduled < first[s.Rep] {
					first[s.Rep] = s.Scheduled
				}
				if s.Rep == 0 {
					lastDone0 = max(lastDone0, s.Done)
				}
				count[s.Rep]++
				if s.Rep == 1 {
					worstDelay = max(worstDelay, s.Sent-s.Scheduled)
				}
				return nil
			})
			if count[1] < count[0]/2 {
				t.Errorf("rep 1 sent %d operations, rep 0 %d", count[1], count[0])
			}
			if first[1] < lastDone0 {
				t.Errorf("rep 1 scheduled from %v, before rep 0 ended at %v", first[1], lastDone0)
			}
			if worstDelay > 50*time.Millisecond {
				t.Errorf("rep 1 queue delay up to %v: its schedule was already past", worstDelay)
			}
		})
	}
}

// TestRunCaseClosedRequestsFollowUsers: a closed-loop request budget is
// split as the users are, so no budget goes to a worker without users.
func TestRunCaseClosedRequestsFollowUsers(t *testing.T) {
	for _, tc := range []struct {
		users int
		want  []int
	}{{1, []int{100, 0}}, {3, []int{66, 34}}, {4, []int{50, 50}}} {
		total := 0
		for i := range 2 {
			l := results.Load{Mode: results.ModeClosed, Users: tc.users, Requests: 100, Worker: i, Workers: 2}
			_, ss := runCase(t, context.Background(), Case{Driver: &fakeDriver{}, Load: l}, nil)
			if len(ss) != tc.want[i] {
				t.Errorf("%d users, worker %d: %d requests, want %d", tc.users, i, len(ss), tc.want[i])
			}
			total += len(ss)
		}
		if total != 100 {
			t.Errorf("%d users: %d requests in all, want 100", tc.users, total)
		}
	}
}

// TestRunCaseClosedScheduledFromDone: a closed-loop user's next operation
// is scheduled at the previous one's done time plus the think time, so
// the timer's lateness shows as queue delay.
func TestRunCaseClosedScheduledFromDone(t *testing.T) {
	l := results.Load{Mode: results.ModeClosed, Users: 1, Requests: 6, ThinkTime: 3 * time.Millisecond}
	_, ss := runCase(t, context.Background(), Case{Driver: &fakeDriver{Delay: time.Millisecond}, Load: l}, nil)
	slices.SortFunc(ss, func(a, b results.Sample) int { return cmp.Compare(a.Seq, b.Seq) })
	for k := 1; k < len(ss); k++ {
		if want := ss[k-1].Done + 3*time.Millisecond; ss[k].Scheduled != want {
			t.Errorf("op %d scheduled at %v, want the previous done + think = %v", k, ss[k].Scheduled, want)
		}
		if ss[k].Sent < ss[k].Scheduled {
			t.Errorf("op %d sent at %v, before its schedule %v", k, ss[k].Sent, ss[k].Scheduled)
		}
	}
}

// TestRunCaseTraceSchedule: trace arrivals replay Case.Schedule exactly,
// irregular gaps included, and stop after its last operation even with a
// larger request budget; two workers split it by stride and together
// replay all of it; without a schedule the load is refused.
func TestRunCaseTraceSchedule(t *testing.T) {
	sched := []time.Duration{0, 5 * time.Millisecond, 6 * time.Millisecond, 40 * time.Millisecond, 41 * time.Millisecond, 90 * time.Millisecond}
	c := Case{Driver: &fakeDriver{Delay: time.Millisecond}, Schedule: sched, Load: results.Load{
		Mode: results.ModeOpen, Arrival: results.ArrivalTrace, Requests: 100,
	}}
	st, ss := runCase(t, context.Background(), c, nil)
	if st.Scheduled != int64(len(sched)) || len(ss) != len(sched) {
		t.Fatalf("scheduled %d, %d samples: want the trace's %d", st.Scheduled, len(ss), len(sched))
	}
	for _, s := range ss {
		if s.Scheduled != sched[s.Seq] {
			t.Errorf("seq %d scheduled at %v, want %v", s.Seq, s.Scheduled, sched[s.Seq])
		}
	}
	seen := map[int64]bool{}
	for w := range 2 {
		cw := c
		cw.Driver = &fakeDriver{Delay: time.Millisecond}
		cw.Load.Worker, cw.Load.Workers = w, 2
		_, ss := runCase(t, context.Background(), cw, nil)
		for _, s := range ss {
			if s.Seq%2 != int64(w) || s.Scheduled != sched[s.Seq] || seen[s.Seq] {
				t.Errorf("worker %d: seq %d at %v", w, s.Seq, s.Scheduled)
			}
			seen[s.Seq] = true
		}
	}
	if len(seen) != len(sched) {
		t.Errorf("two workers replayed %d of %d", len(seen), len(sched))
	}
	c.Schedule = nil
	if _, err := RunCase(context.Background(), c, time.Now(), results.NewSampleWriter(io.Discard), nil); err == nil {
		t.Error("trace arrivals without a schedule")
	}
}
