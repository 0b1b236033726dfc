package vectors

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/small*")

func TestFvecsRoundTrip(t *testing.T) {
	flat := []float32{1, 2, 3, -4.5, 0, 6e-9}
	var b bytes.Buffer
	if err := writeFvecs(&b, flat, 3); err != nil {
		t.Fatal(err)
	}
	if b.Len() != 2*(4+3*4) {
		t.Fatalf("%d bytes, want 32", b.Len())
	}
	got, dim, err := ReadFvecs(bytes.NewReader(b.Bytes()), 0)
	if err != nil || dim != 3 || !slices.Equal(got, flat) {
		t.Fatalf("got %v dim %d err %v", got, dim, err)
	}
	got, _, err = ReadFvecs(bytes.NewReader(b.Bytes()), 1)
	if err != nil || !slices.Equal(got, flat[:3]) {
		t.Fatalf("limit 1: got %v err %v", got, err)
	}
}

func TestBvecsAndIvecs(t *testing.T) {
	b := []byte{2, 0, 0, 0, 7, 255, 2, 0, 0, 0, 0, 1}
	flat, dim, err := ReadBvecs(bytes.NewReader(b), 0)
	if err != nil || dim != 2 || !slices.Equal(flat, []float32{7, 255, 0, 1}) {
		t.Fatalf("bvecs: %v %d %v", flat, dim, err)
	}
	var w bytes.Buffer
	rows := [][]int32{{3, 1, -1}, {0, 2, 4}}
	if err := WriteIvecs(&w, rows); err != nil {
		t.Fatal(err)
	}
	got, err := ReadIvecs(&w, 0)
	if err != nil || len(got) != 2 || !slices.Equal(got[0], rows[0]) || !slices.Equal(got[1], rows[1]) {
		t.Fatalf("ivecs: %v %v", got, err)
	}
}

// TestReadErrors: a damaged or foreign file is an error naming the
// vector, never a short or zero-filled set.
func TestReadErrors(t *testing.T) {
	le := func(vs ...uint32) []byte {
		b := make([]byte, 4*len(vs))
		for i, v := range vs {
			binary.LittleEndian.PutUint32(b[4*i:], v)
		}
		return b
	}
	nan := math.Float32bits(float32(math.NaN()))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no vectors"},
		{"torn dimension", []byte{1, 0}, "vector 0: truncated dimension"},
		{"torn components", le(2, 0), "vector 0: truncated after"},
		{"zero dimension", le(0), "dimension 0 out of range"},
		{"negative dimension", le(0xffffffff), "dimension -1 out of range"},
		{"huge dimension", le(1 << 20), "out of range"},
		{"dimension changes", append(le(1, 0), le(2, 0, 0)...), "vector 1: dimension 2, the file's first vector has 1"},
		{"NaN", le(1, nan), "vector 0: component 0 is NaN"},
		{"text file", []byte("hello world, not vectors"), "out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadFvecs(bytes.NewReader(tc.data), 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzReadFvecs(f *testing.F) {
	var b bytes.Buffer
	writeFvecs(&b, []float32{1, 2, 3, 4}, 2)
	f.Add(b.Bytes())
	f.Add([]byte{1, 0, 0, 0, 0, 0, 128, 63})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		flat, dim, err := ReadFvecs(bytes.NewReader(data), 0)
		if err != nil {
			return
		}
		if dim < 1 || len(flat)%dim != 0 || len(flat) == 0 {
			t.Fatalf("dim %d with %d components", dim, len(flat))
		}
		if len(data) != (len(flat)/dim)*(4+4*dim) {
			t.Fatalf("%d bytes read as %d vectors of %d", len(data), len(flat)/dim, dim)
		}
		var w bytes.Buffer
		writeFvecs(&w, flat, dim)
		if !bytes.Equal(w.Bytes(), data) {
			t.Fatalf("does not round-trip")
		}
	})
}

func FuzzReadBvecs(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 7, 255})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		flat, dim, err := ReadBvecs(bytes.NewReader(data), 0)
		if err != nil {
			return
		}
		if dim < 1 || len(flat) == 0 || len(data) != (len(flat)/dim)*(4+dim) {
			t.Fatalf("%d bytes read as %d components of dim %d", len(data), len(flat), dim)
		}
		for _, v := range flat {
			if v < 0 || v > 255 || v != float32(int(v)) {
				t.Fatalf("component %v is not a byte", v)
			}
		}
	})
}

func FuzzReadIvecs(f *testing.F) {
	var b bytes.Buffer
	WriteIvecs(&b, [][]int32{{1, 2}, {3, -1}})
	f.Add(b.Bytes())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ReadIvecs(bytes.NewReader(data), 0)
		if err != nil {
			return
		}
		var w bytes.Buffer
		WriteIvecs(&w, rows)
		if len(rows) == 0 || !bytes.Equal(w.Bytes(), data) {
			t.Fatalf("%d rows do not round-trip", len(rows))
		}
	})
}

func TestSyntheticDeterministic(t *testing.T) {
	o := SyntheticOptions{Dim: 8, Count: 100, Queries: 10, Seed: 7, Fields: []Field{{"cat", 4}}}
	a, err := Synthetic(o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Synthetic(o)
	if a.Hash() != b.Hash() || !slices.Equal(a.Base, b.Base) || !slices.Equal(a.Meta[0], b.Meta[0]) {
		t.Fatal("same options, different sets")
	}
	o.Seed = 8
	c, _ := Synthetic(o)
	if c.Hash() == a.Hash() {
		t.Fatal("another seed, same hash")
	}
	o.Clusters, o.Distribution = 5, Normal
	d, err := Synthetic(o)
	if err != nil || d.Hash() == c.Hash() || d.Len() != 100 || d.NumQueries() != 10 {
		t.Fatalf("clustered: %v", err)
	}
	seen := map[int32]bool{}
	for _, v := range a.Meta[0] {
		if v < 0 || v >= 4 {
			t.Fatalf("metadata value %d outside [0,4)", v)
		}
		seen[v] = true
	}
	if len(seen) != 4 {
		t.Errorf("metadata uses %d of 4 values", len(seen))
	}
	for _, bad := range []SyntheticOptions{{Dim: 0, Count: 1, Queries: 1}, {Dim: 2, Count: 0, Queries: 1}, {Dim: 2, Count: 1, Queries: 1, Distribution: "zipf"}, {Dim: 2, Count: 1, Queries: 1, Fields: []Field{{"a", 0}}}} {
		if _, err := Synthetic(bad); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestDistance(t *testing.T) {
	a, b := []float32{1, 0}, []float32{0, 2}
	for _, tc := range []struct {
		space string
		want  float64
	}{{L2, 5}, {IP, 1}, {Cosine, 1}} {
		if got := Distance(tc.space, a, b); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: %v, want %v", tc.space, got, tc.want)
		}
	}
	if got := Distance(Cosine, []float32{1, 1}, []float32{2, 2}); math.Abs(got) > 1e-12 {
		t.Errorf("cosine of parallel vectors: %v", got)
	}
}

// naiveTruth sorts every base vector by distance: the definition
// GroundTruth must agree with.
func naiveTruth(s *Set, q, k int, space string, f int) []int32 {
	var ids []int32
	for i := 0; i < s.Len(); i++ {
		if f < 0 || s.Meta[f][i] == s.FilterValue(f, q) {
			ids = append(ids, int32(i))
		}
	}
	slices.SortStableFunc(ids, func(x, y int32) int {
		dx, dy := Distance(space, s.Query(q), s.Vector(int(x))), Distance(space, s.Query(q), s.Vector(int(y)))
		switch {
		case dx < dy:
			return -1
		case dx > dy:
			return 1
		}
		return 0
	})
	return ids[:min(k, len(ids))]
}

func TestGroundTruthMatchesSort(t *testing.T) {
	s, err := Synthetic(SyntheticOptions{Dim: 6, Count: 500, Queries: 40, Seed: 3, Clusters: 4, Fields: []Field{{"cat", 7}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, space := range []string{L2, IP, Cosine} {
		for _, field := range []string{"", "cat"} {
			rows, err := GroundTruth(context.Background(), s, TruthOptions{K: 10, Space: space, Field: field, Workers: 3})
			if err != nil {
				t.Fatal(err)
			}
			for q := range rows {
				if want := naiveTruth(s, q, 10, space, s.Field(field)); !slices.Equal(rows[q], want) {
					t.Fatalf("%s %q query %d: %v, want %v", space, field, q, rows[q], want)
				}
			}
		}
	}
}

func TestGroundTruthCache(t *testing.T) {
	dir := t.TempDir()
	s, _ := Synthetic(SyntheticOptions{Dim: 4, Count: 50, Queries: 5, Seed: 1, Fields: []Field{{"cat", 40}}})
	o := TruthOptions{K: 3, Space: L2, Field: "cat", CacheDir: dir}
	first, err := GroundTruth(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, s.Hash()+"-l2-k3-cat.ivecs")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no cache file: %v", err)
	}
	// A cached file is what is read next time: prove it by planting one.
	planted := make([][]int32, 5)
	for i := range planted {
		planted[i] = []int32{int32(i), -1, -1}
	}
	f, _ := os.Create(path)
	WriteIvecs(f, planted)
	f.Close()
	got, err := GroundTruth(context.Background(), s, o)
	if err != nil || len(got[2]) != 1 || got[2][0] != 2 {
		t.Fatalf("cache not read: %v %v", got, err)
	}
	// A cache file that does not fit the set is recomputed.
	os.WriteFile(path, []byte("junk"), 0o644)
	got, err = GroundTruth(context.Background(), s, o)
	if err != nil || !slices.Equal(got[0], first[0]) {
		t.Fatalf("bad cache: %v %v", got, err)
	}
}

func TestRecall(t *testing.T) {
	truth := []int32{4, 2, 9}
	for _, tc := range []struct {
		ret  []string
		k    int
		want float64
	}{
		{[]string{"4", "2", "9"}, 3, 1},
		{[]string{"9", "4", "7"}, 3, 2.0 / 3},
		{[]string{"1", "2"}, 3, 1.0 / 3},
		{[]string{"4", "4", "4"}, 3, 1.0 / 3}, // a duplicate counts once
		{[]string{"x", "2", "4"}, 2, 0.5},     // only the first k of each count: {x, 2} ∩ {4, 2}
		{nil, 3, 0},
	} {
		if got := Recall(tc.ret, truth, tc.k); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%v k=%d: %v, want %v", tc.ret, tc.k, got, tc.want)
		}
	}
	if got := Recall(nil, nil, 10); got != 1 {
		t.Errorf("no possible neighbour: %v, want 1", got)
	}
	if got := Recall([]string{"1"}, []int32{1}, 10); got != 1 {
		t.Errorf("one possible neighbour found: %v, want 1", got)
	}
}

// TestSmallFiles reads the small real-shaped dataset of testdata (SIFT
// layout: base, queries, ground truth) and checks its shipped ground truth
// against benchrun's brute force.
func TestSmallFiles(t *testing.T) {
	base, qs, gt := "testdata/small_base.fvecs", "testdata/small_query.fvecs", "testdata/small_groundtruth.ivecs"
	if *update {
		s, err := Synthetic(SyntheticOptions{Dim: 32, Count: 2000, Queries: 50, Clusters: 20, Spread: 0.2, Seed: 42})
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := GroundTruth(context.Background(), s, TruthOptions{K: 10, Space: L2})
		for path, write := range map[string]func(*os.File) error{
			base: func(f *os.File) error { return writeFvecs(f, s.Base, s.Dim) },
			qs:   func(f *os.File) error { return writeFvecs(f, s.Queries, s.Dim) },
			gt:   func(f *os.File) error { return WriteIvecs(f, rows) },
		} {
			f, _ := os.Create(path)
			if err := write(f); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	s, err := FromFiles(FileOptions{Base: base, Queries: qs, Truth: gt, Fields: []Field{{"cat", 5}}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Dim != 32 || s.Len() != 2000 || s.NumQueries() != 50 || len(s.Truth) != 50 {
		t.Fatalf("dim %d, %d vectors, %d queries, %d truth rows", s.Dim, s.Len(), s.NumQueries(), len(s.Truth))
	}
	rows, err := GroundTruth(context.Background(), s, TruthOptions{K: 10, Space: L2})
	if err != nil {
		t.Fatal(err)
	}
	for q := range rows {
		if !slices.Equal(rows[q], s.Truth[q]) {
			t.Fatalf("query %d: brute force %v, file %v", q, rows[q], s.Truth[q])
		}
	}
	if _, err := FromFiles(FileOptions{Base: base, Queries: "testdata/nope.fvecs"}); err == nil || !strings.Contains(err.Error(), "nope.fvecs") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "gt.ivecs")
	f, _ := os.Create(bad)
	row := make([]int32, 10)
	row[0] = 5000
	WriteIvecs(f, [][]int32{row})
	f.Close()
	if _, err := FromFiles(FileOptions{Base: base, Queries: qs, Truth: bad, QueryLimit: 1}); err == nil || !strings.Contains(err.Error(), "id 5000") {
		t.Errorf("truth out of range: %v", err)
	}
}

// writeFvecs writes flat (vectors of dimension dim) as .fvecs.
func writeFvecs(w io.Writer, flat []float32, dim int) error {
	bw := bufio.NewWriter(w)
	b := make([]byte, 4)
	for i := 0; i+dim <= len(flat); i += dim {
		binary.LittleEndian.PutUint32(b, uint32(dim))
		bw.Write(b)
		for _, v := range flat[i : i+dim] {
			binary.LittleEndian.PutUint32(b, math.Float32bits(v))
			bw.Write(b)
		}
	}
	return bw.Flush()
}
