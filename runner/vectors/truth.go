package vectors

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// Spaces, as Chroma names them (its hnsw "space").
const (
	L2     = "l2"     // squared Euclidean distance
	IP     = "ip"     // 1 − dot product
	Cosine = "cosine" // 1 − cosine similarity
)

// Distance returns the distance between a and b in space, as Chroma
// reports it: squared L2, 1 − a·b, or 1 − cos(a, b).
func Distance(space string, a, b []float32) float64 {
	switch space {
	case IP:
		return 1 - dot(a, b)
	case Cosine:
		na, nb := math.Sqrt(dot(a, a)), math.Sqrt(dot(b, b))
		if na == 0 || nb == 0 {
			return 1
		}
		return 1 - dot(a, b)/(na*nb)
	}
	var d float64
	for i := range a {
		x := float64(a[i]) - float64(b[i])
		d += x * x
	}
	return d
}

func dot(a, b []float32) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
	}
	return d
}

// TruthOptions select the ground truth GroundTruth computes.
type TruthOptions struct {
	K     int
	Space string // L2, IP or Cosine
	// Field, when not "", filters every query q on that metadata field
	// equal to Set.FilterValue(field, q): only matching vectors count.
	Field string
	// CacheDir, when not "", keeps computed ground truth in
	// <CacheDir>/<hash>-<space>-k<k>[-<field>].ivecs and reads it back.
	CacheDir string
	Workers  int // parallel workers; 0: GOMAXPROCS
}

// GroundTruth returns the exact k nearest base vectors of every query,
// nearest first (ties by smaller id), by brute force over the whole set
// in parallel. A filtered query with fewer than k matching vectors has a
// shorter row. Rows are read from the cache when present.
func GroundTruth(ctx context.Context, s *Set, o TruthOptions) ([][]int32, error) {
	if o.K < 1 {
		return nil, fmt.Errorf("vectors: ground truth needs k ≥ 1")
	}
	if o.Space != L2 && o.Space != IP && o.Space != Cosine {
		return nil, fmt.Errorf("vectors: %w (got %q)", errSpace, o.Space)
	}
	f := -1
	if o.Field != "" {
		if f = s.Field(o.Field); f < 0 {
			return nil, fmt.Errorf("vectors: no metadata field %q", o.Field)
		}
	}
	path := ""
	if o.CacheDir != "" {
		name := fmt.Sprintf("%s-%s-k%d", s.Hash(), o.Space, o.K)
		if o.Field != "" {
			name += "-" + o.Field
		}
		path = filepath.Join(o.CacheDir, name+".ivecs")
		if rows, err := readTruth(path, s.NumQueries(), s.Len(), o.K); err == nil {
			return rows, nil
		}
	}
	rows, err := bruteForce(ctx, s, o, f)
	if err != nil {
		return nil, err
	}
	if path != "" {
		if err := writeTruth(path, rows, o.K); err != nil {
			return nil, fmt.Errorf("vectors: caching ground truth: %w", err)
		}
	}
	return rows, nil
}

// neighbour is one candidate of a query's top k.
type neighbour struct {
	d  float64
	id int32
}

func before(a, b neighbour) bool { return a.d < b.d || (a.d == b.d && a.id < b.id) }

func bruteForce(ctx context.Context, s *Set, o TruthOptions, f int) ([][]int32, error) {
	nq, n := s.NumQueries(), s.Len()
	rows := make([][]int32, nq)
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, nq) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			top := make([]neighbour, 0, o.K+1)
			for ctx.Err() == nil {
				q := int(next.Add(1) - 1)
				if q >= nq {
					return
				}
				qv := s.Query(q)
				top = top[:0]
				for i := 0; i < n; i++ {
					if f >= 0 && s.Meta[f][i] != s.FilterValue(f, q) {
						continue
					}
					c := neighbour{Distance(o.Space, qv, s.Vector(i)), int32(i)}
					if len(top) == o.K && !before(c, top[len(top)-1]) {
						continue
					}
					// Insert in order; the list is at most k+1 long.
					j := len(top)
					top = append(top, c)
					for j > 0 && before(c, top[j-1]) {
						top[j] = top[j-1]
						j--
					}
					top[j] = c
					if len(top) > o.K {
						top = top[:o.K]
					}
				}
				row := make([]int32, len(top))
				for j, c := range top {
					row[j] = c.id
				}
				rows[q] = row
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// The cache pads rows shorter than k (filtered queries) with -1, since
// every row of an .ivecs file has the same length.

func writeTruth(path string, rows [][]int32, k int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	padded := make([][]int32, len(rows))
	for i, r := range rows {
		padded[i] = slices.Grow(slices.Clone(r), k-len(r))
		for len(padded[i]) < k {
			padded[i] = append(padded[i], -1)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".truth-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := WriteIvecs(tmp, padded); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// readTruth reads a cached ground truth, refusing one that does not fit
// the set (nq rows of k ids below n).
func readTruth(path string, nq, n, k int) ([][]int32, error) {
	rows, err := readFile(path, func(r io.Reader) ([][]int32, error) { return ReadIvecs(r, 0) })
	if err != nil {
		return nil, err
	}
	if len(rows) != nq {
		return nil, fmt.Errorf("%s: %d rows, want %d", path, len(rows), nq)
	}
	for q, r := range rows {
		if len(r) != k {
			return nil, fmt.Errorf("%s: row %d has %d ids, want %d", path, q, len(r), k)
		}
		if i := slices.Index(r, -1); i >= 0 {
			rows[q] = r[:i]
		}
		for _, id := range rows[q] {
			if id < 0 || int(id) >= n {
				return nil, fmt.Errorf("%s: row %d: id %d out of range", path, q, id)
			}
		}
	}
	return rows, nil
}

// Recall is id-based recall@k as VectorDBBench counts it: the share of
// the true top k (truth, nearest first; only its first k count) found
// among the ids returned (decimal base-vector indexes; only the first k
// count). When fewer than k vectors could match (a filtered query), the
// denominator is their number; with none, recall is 1.
func Recall(returned []string, truth []int32, k int) float64 {
	t := truth[:min(k, len(truth))]
	if len(t) == 0 {
		return 1
	}
	hits := 0
	found := make([]bool, len(t)) // a duplicate id counts once
	for _, id := range returned[:min(k, len(returned))] {
		v, err := strconv.ParseInt(id, 10, 32)
		if err != nil {
			continue
		}
		if j := slices.Index(t, int32(v)); j >= 0 && !found[j] {
			found[j] = true
			hits++
		}
	}
	return float64(hits) / float64(len(t))
}
