package chroma

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
)

// Side operations (results.Sample.Op) the drivers record.
const (
	OpLoadCheck = "load_check" // after a load: queryable, counted
	OpUpsert    = "upsert"     // the writer of a mixed run
)

// Values keys the drivers record (docs/metrics.md), in base units.
const (
	ValueLoadDuration    = "load_duration"             // s: first batch sent to last batch acknowledged
	ValueInsertRate      = "insert_vectors_per_second" // vectors acknowledged / load_duration
	ValueQueryable       = "time_to_queryable"         // s: last batch acknowledged to a query returning it
	ValueCollectionCount = "collection_count"          // records the collection holds after the load
	ValueStorageBytes    = "storage_bytes"             // bytes: the server's --path directory after the load (benchrun-started service only)
	ValueBatchVectors    = "batch_vectors"             // vectors in one add
	ValueUpsertLatency   = "upsert_latency"            // s: a writer upsert, from its scheduled time
	ValueUpsertVectors   = "upsert_vectors"            // vectors in one writer upsert
)

// QueryableTimeout bounds how long a load's check waits for its last
// vectors to be returned by a query.
const QueryableTimeout = 60 * time.Second

// Loader is the driver of workload "load": operation n adds batch n of
// the set (BatchSize vectors, the last one shorter). Each repetition
// starts from an empty collection (BeginRep) and ends with a check
// (EndRep): the time until the last acknowledged batch is returned by a
// query, and the collection's count, which must equal the set's size.
type Loader struct {
	c    *Client
	keep bool
	data string // the server's data directory, "" when unknown

	inserted  atomic.Int64
	firstSent atomic.Int64 // offset of the first batch sent, -1 before
	lastDone  atomic.Int64 // offset of the last batch acknowledged
	lastMu    sync.Mutex   // orders the updates of firstSent, lastDone and lastID
	lastID    int          // the last vector of the batch acknowledged last
}

var (
	_ runner.Driver   = (*Loader)(nil)
	_ runner.Preparer = (*Loader)(nil)
	_ runner.Repeater = (*Loader)(nil)
	_ runner.Cleaner  = (*Loader)(nil)
)

// NewLoader returns the load driver; keep leaves the collection in place
// after the case.
func NewLoader(c *Client, keep bool) *Loader { return &Loader{c: c, keep: keep} }

// SetDataPath names the directory the server keeps its data in (a
// service benchrun started): the load's check records its size on disk.
func (l *Loader) SetDataPath(dir string) { l.data = dir }

// Prepare asks the server its limits (Client.Prepare).
func (l *Loader) Prepare(ctx context.Context) error { return l.c.Prepare(ctx) }

// Requests is the number of operations a load runs: one per batch.
func (l *Loader) Requests() int64 { return int64(l.c.Batches()) }

// BeginRep drops the collection and creates it empty. A collection
// that still holds records (a delete the server answered 404 without
// deleting) is an error: Chroma acknowledges an add of an id it holds
// and ignores it, so the load would time adds that store nothing and its
// count check would pass.
func (l *Loader) BeginRep(ctx context.Context, _ runner.Rep) error {
	if err := l.c.Drop(ctx); err != nil {
		return err
	}
	l.inserted.Store(0)
	l.firstSent.Store(-1)
	l.lastDone.Store(0)
	l.lastID = -1
	if err := l.c.Open(ctx); err != nil {
		return err
	}
	n, err := l.c.Count(ctx)
	if err == nil && n != 0 {
		err = fmt.Errorf("chroma load: collection %q holds %d records before the load, after it was deleted and created: the server did not delete it", l.c.o.Collection, n)
	}
	return err
}

// Do adds batch op.Seq.
func (l *Loader) Do(ctx context.Context, op runner.Op, s *results.Sample) {
	b, n := int(op.Seq), l.c.o.Set.Len()
	lo := b * l.c.o.BatchSize
	if b < 0 || lo >= n {
		s.Error, s.ErrorDetail, s.Done = results.ErrOther, fmt.Sprintf("batch %d is beyond the %d vectors of the dataset", b, n), time.Since(op.Start)
		return
	}
	hi := min(lo+l.c.o.BatchSize, n)
	l.lastMu.Lock()
	if f := l.firstSent.Load(); f < 0 || int64(s.Sent) < f {
		l.firstSent.Store(int64(s.Sent))
	}
	l.lastMu.Unlock()
	l.c.Add(ctx, op, s, lo, hi, false)
	if !s.OK() {
		return
	}
	s.Values = setValue(s.Values, ValueBatchVectors, float64(hi-lo))
	l.inserted.Add(int64(hi - lo))
	l.lastMu.Lock()
	if int64(s.Done) > l.lastDone.Load() {
		l.lastDone.Store(int64(s.Done))
		l.lastID = hi - 1
	}
	l.lastMu.Unlock()
}

// EndRep checks the load and records it as a side sample (OpLoadCheck):
// load duration and insert rate, the time until the last acknowledged
// vector is returned by a query, and the collection count. A count other
// than the set's size, or a vector never returned, fails the sample and
// the case.
func (l *Loader) EndRep(ctx context.Context, r runner.Rep) error {
	s := &results.Sample{Seq: l.Requests(), Rep: r.Index, Worker: r.Worker, Op: OpLoadCheck}
	s.Scheduled = time.Since(r.Start)
	s.Sent = s.Scheduled
	err := l.check(ctx, r, s)
	if s.Done == 0 {
		s.Done = time.Since(r.Start)
	}
	if werr := r.Samples.Write(s); err == nil && werr != nil {
		err = werr
	}
	return err
}

func (l *Loader) check(ctx context.Context, r runner.Rep, s *results.Sample) error {
	n, first, last := l.inserted.Load(), l.firstSent.Load(), l.lastDone.Load()
	if n == 0 || first < 0 {
		s.Error, s.ErrorDetail = results.ErrOther, "no batch was acknowledged"
		return errors.New("chroma load: no batch was acknowledged")
	}
	dur := time.Duration(last - first).Seconds()
	s.Values = map[string]float64{ValueLoadDuration: dur}
	if dur > 0 {
		s.Values[ValueInsertRate] = float64(n) / dur
	}
	ttq, err := l.queryable(ctx, r, time.Duration(last))
	if err != nil {
		s.Error, s.ErrorDetail = classOf(ctx, err), err.Error()
		return err
	}
	s.Values[ValueQueryable] = ttq.Seconds()
	count, err := l.c.Count(ctx)
	if err != nil {
		s.Error, s.ErrorDetail = classOf(ctx, err), err.Error()
		return err
	}
	s.Values[ValueCollectionCount] = float64(count)
	if l.data != "" {
		n, err := dirBytes(l.data)
		if err != nil {
			s.Error, s.ErrorDetail = results.ErrOther, err.Error()
			return fmt.Errorf("chroma load: the data directory's size: %w", err)
		}
		s.Values[ValueStorageBytes] = float64(n)
	}
	if want := l.c.o.Set.Len(); count != want {
		msg := fmt.Sprintf("collection count %d after the load, the dataset has %d vectors (%d acknowledged)", count, want, n)
		s.Error, s.ErrorDetail = results.ErrOther, msg
		return errors.New("chroma load: " + msg)
	}
	return nil
}

// queryable queries the last acknowledged vector until the server returns
// it, and gives the time from its acknowledgement (offset ack) to the
// answer that held it.
func (l *Loader) queryable(ctx context.Context, r runner.Rep, ack time.Duration) (time.Duration, error) {
	l.lastMu.Lock()
	id := l.lastID
	l.lastMu.Unlock()
	deadline := time.Now().Add(QueryableTimeout)
	op := runner.Op{Start: r.Start}
	for {
		probe := &results.Sample{Sent: time.Since(r.Start)}
		ids := l.c.query(ctx, op, probe, l.c.o.Set.Vector(id), -1)
		if !probe.OK() {
			return 0, fmt.Errorf("querying the last vector: %s: %s", probe.Error, probe.ErrorDetail)
		}
		if containsID(ids, id) {
			return probe.Done - ack, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("vector %d, acknowledged, was not returned by a query within %s", id, QueryableTimeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Cleanup deletes the collection unless told to keep it.
func (l *Loader) Cleanup(ctx context.Context) error {
	if l.keep {
		return nil
	}
	return l.c.Drop(ctx)
}

// dirBytes is the size of the regular files under dir (a directory walk;
// files removed during the walk are skipped).
func dirBytes(dir string) (int64, error) {
	if _, err := os.Stat(dir); err != nil {
		return 0, err
	}
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		n += fi.Size()
		return nil
	})
	return n, err
}

func classOf(ctx context.Context, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return results.ErrCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return results.ErrTimeout
	}
	return results.ErrOther
}

func setValue(m map[string]float64, k string, v float64) map[string]float64 {
	if m == nil {
		m = map[string]float64{}
	}
	m[k] = v
	return m
}

// Querier is the driver of workloads "query" and "mixed": operation n
// runs query perm[n mod Q] of the set, perm a seeded permutation of all Q
// queries, so every query is used before any repeats. Prepare opens the
// collection and, when it is empty, loads the set (unmeasured); a
// collection holding another number of vectors, or as many but not the
// set's (Client.Verify), is an error. With a
// Writer, upserts run beside the queries in every repetition.
type Querier struct {
	c       *Client
	perm    []int32
	keep    bool
	created bool
	w       *Writer
}

var (
	_ runner.Driver   = (*Querier)(nil)
	_ runner.Preparer = (*Querier)(nil)
	_ runner.Repeater = (*Querier)(nil)
	_ runner.Cleaner  = (*Querier)(nil)
)

// NewQuerier returns the query driver. seed orders the queries; keep
// leaves a collection this driver loaded in place after the case; w, when
// not nil, writes beside the queries (workload "mixed").
func NewQuerier(c *Client, seed int64, keep bool, w *Writer) *Querier {
	perm := make([]int32, c.o.Set.NumQueries())
	for i := range perm {
		perm[i] = int32(i)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x71756572)) // "quer"
	rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	if w != nil {
		w.c = c
	}
	return &Querier{c: c, perm: perm, keep: keep, w: w}
}

// Prepare opens the collection, loading the set when it is empty; one
// that holds as many records as the set must hold the set's vectors
// (Client.Verify).
func (q *Querier) Prepare(ctx context.Context) error {
	if err := q.c.Prepare(ctx); err != nil {
		return err
	}
	if err := q.c.Open(ctx); err != nil {
		return err
	}
	n, err := q.c.Count(ctx)
	if err != nil {
		return err
	}
	want := q.c.o.Set.Len()
	switch {
	case n == want:
		return q.c.Verify(ctx)
	case n != 0:
		return fmt.Errorf("chroma: collection %q holds %d records, the dataset %d vectors: delete it or name another collection", q.c.o.Collection, n, want)
	}
	q.created = true
	return q.c.LoadAll(ctx)
}

// Do runs one query.
func (q *Querier) Do(ctx context.Context, op runner.Op, s *results.Sample) {
	q.c.Query(ctx, op, s, int(q.perm[op.Seq%int64(len(q.perm))]))
}

// BeginRep starts the writer, if any.
func (q *Querier) BeginRep(ctx context.Context, r runner.Rep) error {
	if q.w != nil {
		q.w.start(ctx, r)
	}
	return nil
}

// EndRep stops the writer, if any, once its upsert in flight is done.
func (q *Querier) EndRep(context.Context, runner.Rep) error {
	if q.w != nil {
		return q.w.stop()
	}
	return nil
}

// Cleanup deletes a collection Prepare loaded, unless told to keep it.
func (q *Querier) Cleanup(ctx context.Context) error {
	if !q.created || q.keep {
		return nil
	}
	return q.c.Drop(ctx)
}

// LoadAll adds the whole set in batches, unmeasured (a query case's
// collection that was empty).
func (c *Client) LoadAll(ctx context.Context) error {
	n := c.o.Set.Len()
	for lo := 0; lo < n; lo += c.o.BatchSize {
		hi := min(lo+c.o.BatchSize, n)
		s := &results.Sample{}
		c.Add(ctx, runner.Op{Start: time.Now()}, s, lo, hi, false)
		if !s.OK() {
			return fmt.Errorf("chroma: loading collection %q, vectors %d–%d: %s: %s", c.o.Collection, lo, hi-1, s.Error, s.ErrorDetail)
		}
	}
	got, err := c.Count(ctx)
	if err == nil && got != n {
		err = fmt.Errorf("chroma: collection %q holds %d records after loading %d vectors", c.o.Collection, got, n)
	}
	return err
}

// Writer upserts base vectors beside the queries of a mixed run: Rate
// upserts a second of Batch vectors each, on a fixed schedule, cycling
// through the set with the same vectors and ids (so the ground truth
// still holds while the index is rewritten). Each upsert is a side sample
// (OpUpsert) with its latency from its scheduled time (ValueUpsertLatency):
// a writer that falls behind shows it. A repetition in which no upsert
// succeeded ends with an error (Querier.EndRep): it measured no mixed
// load.
type Writer struct {
	Rate  float64 // upserts per second, > 0
	Batch int     // vectors per upsert, ≥ 1 (lowered to the batch size)

	c      *Client
	cancel context.CancelFunc
	done   chan error
}

func (w *Writer) start(ctx context.Context, r runner.Rep) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan error, 1)
	go func() { w.done <- w.run(ctx, r) }()
}

func (w *Writer) stop() error {
	w.cancel()
	return <-w.done
}

func (w *Writer) run(ctx context.Context, r runner.Rep) error {
	n, batch := w.c.o.Set.Len(), min(w.Batch, w.c.o.BatchSize, w.c.o.Set.Len())
	base := time.Since(r.Start)
	every := time.Duration(float64(time.Second) / w.Rate)
	op := runner.Op{Start: r.Start}
	var tried, ok int
	var last *results.Sample
	// stopped ends the writer: a repetition in which upserts were sent and
	// none succeeded measured the queries without the writes the workload
	// asks for, an error of the case, not a mixed run.
	stopped := func() error {
		if tried == 0 || ok > 0 {
			return nil
		}
		return fmt.Errorf("chroma mixed: the writer sent %d upserts and none of them succeeded (last: %s: %s)", tried, last.Error, last.ErrorDetail)
	}
	for j := int64(0); ; j++ {
		sched := base + time.Duration(j)*every
		if wait := sched - time.Since(r.Start); wait > 0 {
			select {
			case <-ctx.Done():
				return stopped()
			case <-time.After(wait):
			}
		}
		if ctx.Err() != nil {
			return stopped()
		}
		lo := int(j*int64(batch)) % n
		hi := min(lo+batch, n)
		s := &results.Sample{Seq: j, Rep: r.Index, Worker: r.Worker + "/writer", Op: OpUpsert, Scheduled: sched, Sent: time.Since(r.Start)}
		op.Seq = j
		w.c.Add(ctx, op, s, lo, hi, true)
		if s.Error == results.ErrCanceled {
			return stopped() // stopped with the case: says nothing about the server
		}
		tried++
		if s.OK() {
			ok++
			s.Values = map[string]float64{ValueUpsertLatency: (s.Done - s.Scheduled).Seconds(), ValueUpsertVectors: float64(hi - lo)}
		} else {
			last = s
		}
		if err := r.Samples.Write(s); err != nil {
			return err
		}
	}
}

// Metrics declares the unit and direction of the Values a load records
// (results.CaseInfo.Metrics).
func (l *Loader) Metrics() map[string]results.MetricSpec {
	return map[string]results.MetricSpec{
		ValueLoadDuration:    {Unit: "s", Better: results.LowerIsBetter},
		ValueInsertRate:      {Unit: "ops/s", Better: results.HigherIsBetter},
		ValueQueryable:       {Unit: "s", Better: results.LowerIsBetter},
		ValueCollectionCount: {Unit: "", Better: results.HigherIsBetter},
		ValueStorageBytes:    {Unit: "bytes", Better: results.LowerIsBetter},
		ValueBatchVectors:    {Unit: "", Better: results.HigherIsBetter},
	}
}

// Metrics declares the unit and direction of the Values queries (and a
// mixed run's writer) record.
func (q *Querier) Metrics() map[string]results.MetricSpec {
	m := map[string]results.MetricSpec{RecallKey(q.c.o.K): {Unit: "ratio", Better: results.HigherIsBetter}}
	if q.w != nil {
		m[ValueUpsertLatency] = results.MetricSpec{Unit: "s", Better: results.LowerIsBetter}
		m[ValueUpsertVectors] = results.MetricSpec{Unit: "", Better: results.HigherIsBetter}
	}
	return m
}

// Settings are what the manifest records about the server and the
// collection (after Prepare).
func (c *Client) Settings() map[string]string {
	return map[string]string{
		"server_version":        c.version,
		"chroma_collection":     c.o.Collection,
		"chroma_batch_size":     strconv.Itoa(c.o.BatchSize),
		"chroma_max_batch_size": strconv.Itoa(c.maxBatch),
	}
}

// Settings are the client's (Client.Settings).
func (l *Loader) Settings() map[string]string { return l.c.Settings() }

// Settings are the client's (Client.Settings).
func (q *Querier) Settings() map[string]string { return q.c.Settings() }
