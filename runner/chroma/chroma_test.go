package chroma

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/runner/vectors"
)

func testSet(t *testing.T, n, q int) *vectors.Set {
	t.Helper()
	return testSetSeed(t, 8, n, q, 5)
}

func testSetSeed(t *testing.T, dim, n, q int, seed int64) *vectors.Set {
	t.Helper()
	s, err := vectors.Synthetic(vectors.SyntheticOptions{Dim: dim, Count: n, Queries: q, Seed: seed, Clusters: 3, Fields: []vectors.Field{{Name: "cat", Cardinality: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runDriver runs d as package ci does: Prepare, then for the repetition
// BeginRep, the load, EndRep, and Cleanup; it returns every sample
// written and the error of the first hook that failed.
func runDriver(t *testing.T, d runner.Driver, load results.Load) ([]results.Sample, error) {
	t.Helper()
	ctx := context.Background()
	var buf bytes.Buffer
	w := results.NewSampleWriter(&buf)
	err := d.(runner.Preparer).Prepare(ctx)
	if err == nil {
		start := time.Now()
		rep := runner.Rep{Index: 0, Start: start, Samples: w, Worker: "t"}
		rp := d.(runner.Repeater)
		if err = rp.BeginRep(ctx, rep); err == nil {
			if _, rerr := runner.RunCase(ctx, runner.Case{ID: "c", Load: load, Driver: d, Worker: "t"}, start, w, nil); rerr != nil {
				t.Fatal(rerr)
			}
			err = rp.EndRep(ctx, rep)
		}
		if cerr := d.(runner.Cleaner).Cleanup(ctx); err == nil {
			err = cerr
		}
	}
	w.Close()
	var out []results.Sample
	if rerr := results.ReadSamples(&buf, func(s *results.Sample) error { out = append(out, *s); return nil }); rerr != nil {
		t.Fatal(rerr)
	}
	return out, err
}

func closed(users int, requests int64) results.Load {
	return results.Load{Mode: results.ModeClosed, Users: users, Requests: requests, Seed: 1}
}

func newClient(t *testing.T, url string, o Options) *Client {
	t.Helper()
	o.BaseURL = url
	if o.Collection == "" {
		o.Collection = "bench-test"
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sideSamples(ss []results.Sample, op string) (own, side []results.Sample) {
	for _, s := range ss {
		if s.Op == op {
			side = append(side, s)
		} else if s.Op == "" {
			own = append(own, s)
		}
	}
	return own, side
}

// TestLoader: 250 vectors in batches the server caps at 100 (the suite
// asks 500): three adds, none above max_batch_size, one sample each, then
// the check: count 250, queryable, insert rate; the collection is
// deleted afterwards.
func TestLoader(t *testing.T) {
	f, srv := newFake(t)
	set := testSet(t, 250, 10)
	c := newClient(t, srv.URL, Options{Set: set, BatchSize: 500, HNSW: HNSW{Space: "l2", EfSearch: 50}})
	l := NewLoader(c, false)
	if err := l.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.BatchSize() != 100 || l.Requests() != 3 || c.Version() != "1.0.0-fake" {
		t.Fatalf("batch %d, requests %d, version %q", c.BatchSize(), l.Requests(), c.Version())
	}
	ss, err := runDriver(t, l, closed(2, l.Requests()))
	if err != nil {
		t.Fatal(err)
	}
	own, side := sideSamples(ss, OpLoadCheck)
	if len(own) != 3 || len(side) != 1 {
		t.Fatalf("%d batch samples, %d checks", len(own), len(side))
	}
	total := 0.0
	for _, s := range own {
		if !s.OK() || s.Status != 201 {
			t.Fatalf("batch %+v", s)
		}
		total += s.Values[ValueBatchVectors]
	}
	if total != 250 {
		t.Errorf("batches carried %v vectors", total)
	}
	ncol, _, adds := f.state()
	for _, n := range adds {
		if n > 100 {
			t.Errorf("an add of %d vectors, above max_batch_size 100", n)
		}
	}
	v := side[0].Values
	if !side[0].OK() || v[ValueCollectionCount] != 250 || v[ValueLoadDuration] <= 0 || v[ValueInsertRate] <= 0 || v[ValueQueryable] <= 0 {
		t.Fatalf("check %+v", side[0])
	}
	if ncol != 0 {
		t.Errorf("%d collections left behind", ncol)
	}
}

// TestLoaderCountMismatch: a server that acknowledges every batch but
// keeps fewer vectors fails the check and the case: never a pass.
func TestLoaderCountMismatch(t *testing.T) {
	f, srv := newFake(t)
	f.dropOne = true
	l := NewLoader(newClient(t, srv.URL, Options{Set: testSet(t, 250, 10)}), true)
	ss, err := runDriver(t, l, closed(1, 3))
	if err == nil || !strings.Contains(err.Error(), "collection count 247") {
		t.Fatalf("err %v", err)
	}
	_, side := sideSamples(ss, OpLoadCheck)
	if len(side) != 1 || side[0].Error != results.ErrOther || !strings.Contains(side[0].ErrorDetail, "the dataset has 250") {
		t.Fatalf("check %+v", side)
	}
	if n, _, _ := f.state(); n != 1 {
		t.Errorf("keep: the collection should stay, have %d", n)
	}
}

// TestQuerierRecall: an exact server gives recall 1 on every query, with
// and without a where filter, against runner/vectors' ground truth; the
// queries of one pass are all different.
func TestQuerierRecall(t *testing.T) {
	set := testSet(t, 300, 40)
	for _, filter := range []string{"", "cat"} {
		t.Run("filter="+filter, func(t *testing.T) {
			f, srv := newFake(t)
			truth, err := vectors.GroundTruth(context.Background(), set, vectors.TruthOptions{K: 10, Space: vectors.L2, Field: filter})
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t, srv.URL, Options{Set: set, K: 10, Filter: filter, Truth: truth})
			ss, err := runDriver(t, NewQuerier(c, 1, false, nil), closed(3, 40))
			if err != nil {
				t.Fatal(err)
			}
			if len(ss) != 40 {
				t.Fatalf("%d samples", len(ss))
			}
			for _, s := range ss {
				if !s.OK() || s.Values["recall_at_10"] != 1 {
					t.Fatalf("sample %+v", s)
				}
			}
			if n, _, _ := f.state(); n != 0 {
				t.Errorf("the collection it loaded is left behind")
			}
		})
	}
	q := NewQuerier(newClient(t, "http://x", Options{Set: set}), 9, false, nil)
	seen := map[int32]bool{}
	for _, p := range q.perm {
		seen[p] = true
	}
	if len(seen) != 40 || q.perm[0] == 0 && q.perm[1] == 1 && q.perm[2] == 2 {
		t.Errorf("perm %v: not a shuffled permutation of the 40 queries", q.perm)
	}
}

// TestQuerierRecallCountsMisses: a server that answers wrong neighbours
// gets a recall below 1 (recall is computed, not assumed).
func TestQuerierRecallCountsMisses(t *testing.T) {
	set := testSet(t, 300, 20)
	_, srv := newFake(t)
	truth, _ := vectors.GroundTruth(context.Background(), set, vectors.TruthOptions{K: 10, Space: vectors.L2})
	// Shift the truth: the exact server now looks wrong on every query.
	wrong := make([][]int32, len(truth))
	for i := range truth {
		wrong[i] = truth[(i+1)%len(truth)]
	}
	c := newClient(t, srv.URL, Options{Set: set, Truth: wrong})
	ss, err := runDriver(t, NewQuerier(c, 1, false, nil), closed(1, 20))
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, s := range ss {
		sum += s.Values["recall_at_10"]
	}
	if sum/20 > 0.5 {
		t.Errorf("mean recall %v against the wrong truth", sum/20)
	}
}

// TestQuerierRecallNoNeighbours: a filtered query whose filter keeps no
// vector of the dataset has no true neighbours, so nothing to recall: it
// records no recall (vectors.Recall's 1 would lift the case's mean
// recall with queries that measured nothing, up to 1 when none had any).
func TestQuerierRecallNoNeighbours(t *testing.T) {
	set, err := vectors.Synthetic(vectors.SyntheticOptions{Dim: 8, Count: 30, Queries: 40, Seed: 5, Fields: []vectors.Field{{Name: "cat", Cardinality: 200}}})
	if err != nil {
		t.Fatal(err)
	}
	truth, err := vectors.GroundTruth(context.Background(), set, vectors.TruthOptions{K: 10, Space: vectors.L2, Field: "cat"})
	if err != nil {
		t.Fatal(err)
	}
	_, srv := newFake(t)
	c := newClient(t, srv.URL, Options{Set: set, Filter: "cat", Truth: truth})
	q := NewQuerier(c, 1, false, nil)
	if err := q.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	empty, withTruth := 0, 0
	for i := range set.NumQueries() {
		var s results.Sample
		c.Query(context.Background(), runner.Op{Start: time.Now()}, &s, i)
		r, has := s.Values[RecallKey(10)]
		switch {
		case !s.OK():
			t.Fatalf("query %d: %+v", i, s)
		case len(truth[i]) == 0:
			empty++
			if has {
				t.Errorf("query %d keeps no vector of the dataset, yet recall %v", i, r)
			}
		default:
			withTruth++
			if !has || r != 1 {
				t.Errorf("query %d: recall %v (recorded %v) from the exact server", i, r, has)
			}
		}
	}
	if empty == 0 || withTruth == 0 {
		t.Fatalf("%d queries without neighbours, %d with: the test needs both", empty, withTruth)
	}
}

func TestQuerierFailures(t *testing.T) {
	set := testSet(t, 120, 5)
	ctx := context.Background()
	t.Run("5xx", func(t *testing.T) {
		f, srv := newFake(t)
		f.queryErr = 500
		ss, err := runDriver(t, NewQuerier(newClient(t, srv.URL, Options{Set: set}), 1, false, nil), closed(1, 3))
		if err != nil || len(ss) != 3 || ss[0].Error != results.ErrHTTP5xx || !strings.Contains(ss[0].ErrorDetail, "boom") {
			t.Fatalf("%v %+v", err, ss)
		}
	})
	t.Run("not API v2", func(t *testing.T) {
		f, srv := newFake(t)
		f.badJSON = true
		ss, _ := runDriver(t, NewQuerier(newClient(t, srv.URL, Options{Set: set}), 1, false, nil), closed(1, 2))
		if len(ss) != 2 || ss[0].Error != results.ErrParse || ss[0].Values["recall_at_10"] != 0 {
			t.Fatalf("%+v", ss)
		}
	})
	t.Run("dead server", func(t *testing.T) {
		_, srv := newFake(t)
		c := newClient(t, srv.URL, Options{Set: set})
		q := NewQuerier(c, 1, false, nil)
		if err := q.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		c.client.CloseIdleConnections() // a new connection, refused
		var s results.Sample
		q.Do(ctx, runner.Op{Start: time.Now()}, &s)
		if s.Error != results.ErrConnect {
			t.Fatalf("%+v", s)
		}
	})
	t.Run("other hnsw", func(t *testing.T) {
		_, srv := newFake(t)
		a := newClient(t, srv.URL, Options{Set: set, HNSW: HNSW{Space: "l2", EfSearch: 10}})
		if err := a.Open(ctx); err != nil {
			t.Fatal(err)
		}
		b := newClient(t, srv.URL, Options{Set: set, HNSW: HNSW{Space: "l2", EfSearch: 99}})
		if err := b.Open(ctx); err == nil || !strings.Contains(err.Error(), "exists with hnsw") {
			t.Fatalf("err %v", err)
		}
	})
	// A collection left by another run with as many records, of another
	// dataset: queried as this one, its recall would be judged against
	// the wrong neighbours and its latency measured on another index.
	t.Run("other vectors", func(t *testing.T) {
		for _, other := range []*vectors.Set{
			testSetSeed(t, 8, 120, 5, 6),  // same size and dimension, other vectors
			testSetSeed(t, 16, 120, 5, 5), // another dimension
		} {
			_, srv := newFake(t)
			old := newClient(t, srv.URL, Options{Set: other})
			if err := old.Prepare(ctx); err != nil {
				t.Fatal(err)
			}
			old.Open(ctx)
			if err := old.LoadAll(ctx); err != nil {
				t.Fatal(err)
			}
			q := NewQuerier(newClient(t, srv.URL, Options{Set: set}), 1, false, nil)
			if err := q.Prepare(ctx); err == nil || !strings.Contains(err.Error(), "holds 120 records but not this dataset's") {
				t.Fatalf("dim %d: err %v", other.Dim, err)
			}
		}
	})
	t.Run("same vectors", func(t *testing.T) {
		_, srv := newFake(t)
		old := newClient(t, srv.URL, Options{Set: set})
		if err := old.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		old.Open(ctx)
		if err := old.LoadAll(ctx); err != nil {
			t.Fatal(err)
		}
		if err := NewQuerier(newClient(t, srv.URL, Options{Set: set}), 1, false, nil).Prepare(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("other count", func(t *testing.T) {
		_, srv := newFake(t)
		small := newClient(t, srv.URL, Options{Set: testSet(t, 50, 5)})
		if err := small.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		small.Open(ctx)
		small.LoadAll(ctx)
		q := NewQuerier(newClient(t, srv.URL, Options{Set: set}), 1, false, nil)
		if err := q.Prepare(ctx); err == nil || !strings.Contains(err.Error(), "holds 50 records, the dataset 120") {
			t.Fatalf("err %v", err)
		}
	})
}

// TestWriter: a mixed run's writer upserts beside the queries on its
// schedule, each upsert a side sample with its latency; the set's size
// does not change, so the ground truth holds.
func TestWriter(t *testing.T) {
	f, srv := newFake(t)
	set := testSet(t, 200, 30)
	c := newClient(t, srv.URL, Options{Set: set, BatchSize: 50})
	load := results.Load{Mode: results.ModeClosed, Users: 1, Duration: 300 * time.Millisecond, Seed: 1}
	ss, err := runDriver(t, NewQuerier(c, 1, true, &Writer{Rate: 40, Batch: 20}), load)
	if err != nil {
		t.Fatal(err)
	}
	own, side := sideSamples(ss, OpUpsert)
	if len(own) == 0 || len(side) < 5 {
		t.Fatalf("%d queries, %d upserts", len(own), len(side))
	}
	for i, s := range side {
		if !s.OK() || s.Values[ValueUpsertVectors] != 20 || s.Values[ValueUpsertLatency] <= 0 || s.Worker != "t/writer" {
			t.Fatalf("upsert %d: %+v", i, s)
		}
		if i > 0 && s.Scheduled-side[i-1].Scheduled != 25*time.Millisecond {
			t.Fatalf("upsert %d scheduled %v after the previous, want 25ms", i, s.Scheduled-side[i-1].Scheduled)
		}
	}
	_, counts, _ := f.state()
	for _, n := range counts {
		if n != 200 {
			t.Errorf("collection holds %d after upserts", n)
		}
	}
}

// TestLoaderCollectionNotDropped: a server that answers the delete of
// the collection 404 (an API that names it otherwise) and keeps it: the
// load's adds of ids it holds are acknowledged and ignored, as Chroma
// does, and its count is the dataset's. The repetition must not start on
// a collection that is not empty: it would time adds that store nothing
// and pass the count check.
func TestLoaderCollectionNotDropped(t *testing.T) {
	f, srv := newFake(t)
	set := testSet(t, 250, 5)
	ctx := context.Background()
	old := newClient(t, srv.URL, Options{Set: set})
	if err := old.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	old.Open(ctx)
	if err := old.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	f.keepDrop, f.keepAdds = true, true
	l := NewLoader(newClient(t, srv.URL, Options{Set: set, BatchSize: 100}), true)
	_, err := runDriver(t, l, closed(1, l.Requests()))
	if err == nil || !strings.Contains(err.Error(), "holds 250 records before the load") {
		t.Fatalf("err %v, want the load refused on a collection that was not emptied", err)
	}
}

// TestLoaderWithFilter: a load whose workload names a filter (the
// suite's queries filter, the load's do not) finds its last vector: the
// check's probe is a query of that vector, not of a query of the set,
// and must not filter on a value no vector has (it timed out after
// QueryableTimeout and failed every such load).
func TestLoaderWithFilter(t *testing.T) {
	_, srv := newFake(t)
	set := testSet(t, 250, 5)
	l := NewLoader(newClient(t, srv.URL, Options{Set: set, Filter: "cat", BatchSize: 100}), false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.BeginRep(ctx, runner.Rep{Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := l.c.LoadAll(ctx); err != nil {
		t.Fatal(err)
	}
	l.lastID = set.Len() - 1
	ttq, err := l.queryable(ctx, runner.Rep{Start: time.Now()}, 0)
	if err != nil {
		t.Fatalf("the last vector of a filtered load: %v (after %v)", err, ttq)
	}
}

// TestWriterNeverWrote: a mixed run whose every upsert failed measured
// queries without the writes the workload asks for: the repetition is an
// error naming the failure, never a mixed run that passes; its samples
// are kept.
func TestWriterNeverWrote(t *testing.T) {
	f, srv := newFake(t)
	f.upsertErr = 500
	set := testSet(t, 200, 30)
	c := newClient(t, srv.URL, Options{Set: set, BatchSize: 50})
	load := results.Load{Mode: results.ModeClosed, Users: 1, Duration: 200 * time.Millisecond, Seed: 1}
	ss, err := runDriver(t, NewQuerier(c, 1, true, &Writer{Rate: 40, Batch: 20}), load)
	own, side := sideSamples(ss, OpUpsert)
	if len(own) == 0 || len(side) == 0 || side[0].Error != results.ErrHTTP5xx {
		t.Fatalf("%d queries, upserts %+v", len(own), side)
	}
	if err == nil || !strings.Contains(err.Error(), "none of the") || !strings.Contains(err.Error(), "upsert refused") {
		t.Fatalf("err %v, want the writer's failure", err)
	}
}

func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{"abc": true, "a.b-c_d": true, "ab": false, "-ab": false, "ab-": false, "a b": false, strings.Repeat("a", 513): false} {
		if err := CheckName(name); (err == nil) != ok {
			t.Errorf("%q: %v", name, err)
		}
	}
}

// TestDirBytes: the size of the regular files under a directory, nested
// ones included; a missing directory is an error, not zero bytes.
func TestDirBytes(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "x"), make([]byte, 100), 0o644)
	os.WriteFile(filepath.Join(dir, "a", "b", "y"), make([]byte, 23), 0o644)
	if n, err := dirBytes(dir); err != nil || n != 123 {
		t.Errorf("dirBytes = %d, %v; want 123", n, err)
	}
	if _, err := dirBytes(filepath.Join(dir, "missing")); err == nil {
		t.Error("no error for a missing directory")
	}
}
