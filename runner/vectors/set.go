package vectors

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"math/rand/v2"
)

// Distributions of synthetic coordinates.
const (
	Uniform = "uniform" // each coordinate uniform in [-1, 1)
	Normal  = "normal"  // each coordinate standard normal
)

// Field is an integer metadata field of every base vector: its values are
// drawn uniformly from [0, Cardinality), seeded, so a `where` filter on it
// keeps about 1/Cardinality of the set.
type Field struct {
	Name        string
	Cardinality int
}

// Set is a vector dataset: base vectors (the id of vector i is i), query
// vectors, and metadata. It is read-only once made and safe for
// concurrent use.
type Set struct {
	Dim     int
	Base    []float32 // Len() vectors of Dim components, one after another
	Queries []float32 // NumQueries() vectors of Dim components
	Fields  []Field
	// Meta holds the values of each field, Meta[f][i] for base vector i.
	Meta [][]int32
	// Truth is the ground truth a file set shipped (its .ivecs, exact
	// neighbours under the space it was made for), nil when none.
	Truth [][]int32

	hash string
}

// Len is the number of base vectors.
func (s *Set) Len() int { return len(s.Base) / s.Dim }

// NumQueries is the number of query vectors.
func (s *Set) NumQueries() int { return len(s.Queries) / s.Dim }

// Vector returns base vector i (shared: do not modify).
func (s *Set) Vector(i int) []float32 { return s.Base[i*s.Dim : (i+1)*s.Dim] }

// Query returns query vector q (shared: do not modify).
func (s *Set) Query(q int) []float32 { return s.Queries[q*s.Dim : (q+1)*s.Dim] }

// Field returns the index of the metadata field name, -1 when there is none.
func (s *Set) Field(name string) int {
	for i, f := range s.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// FilterValue is the value query q filters field f on in a filtered
// query (`where {f: {"$eq": v}}`): q modulo the field's cardinality, so
// successive queries filter on every value in turn.
func (s *Set) FilterValue(f, q int) int32 { return int32(q % s.Fields[f].Cardinality) }

// Hash is the hex sha256 of the set's content (dimension, vectors,
// queries, metadata): ground truth is cached under it, and the manifest
// records it.
func (s *Set) Hash() string { return s.hash }

// SyntheticOptions describe a synthetic set.
type SyntheticOptions struct {
	Dim, Count, Queries int
	Distribution        string // Uniform (default) or Normal
	// Clusters > 0 draws that many centres from Distribution and places
	// every vector (and query) at a centre plus normal noise of standard
	// deviation Spread (default 0.1): real embeddings are clustered, and
	// an HNSW index behaves differently on them than on uniform noise.
	Clusters int
	Spread   float64
	Seed     int64
	Fields   []Field
}

// Synthetic makes a seeded synthetic set: the same options give the same
// vectors on every machine.
func Synthetic(o SyntheticOptions) (*Set, error) {
	if o.Dim < 1 || o.Dim > MaxDim || o.Count < 1 || o.Queries < 1 {
		return nil, fmt.Errorf("vectors: synthetic set needs dim in 1–%d, count ≥ 1 and queries ≥ 1 (dim %d, count %d, queries %d)", MaxDim, o.Dim, o.Count, o.Queries)
	}
	if o.Distribution == "" {
		o.Distribution = Uniform
	}
	if o.Distribution != Uniform && o.Distribution != Normal {
		return nil, fmt.Errorf("vectors: distribution %q: want %s or %s", o.Distribution, Uniform, Normal)
	}
	if o.Spread == 0 {
		o.Spread = 0.1
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x766563746f7273)) // "vectors"
	coord := func() float32 {
		if o.Distribution == Normal {
			return float32(rng.NormFloat64())
		}
		return float32(2*rng.Float64() - 1)
	}
	var centres []float32
	for range o.Clusters * o.Dim {
		centres = append(centres, coord())
	}
	draw := func(n int) []float32 {
		out := make([]float32, n*o.Dim)
		for i := 0; i < n; i++ {
			v := out[i*o.Dim : (i+1)*o.Dim]
			if o.Clusters > 0 {
				c := centres[rng.IntN(o.Clusters)*o.Dim:]
				for j := range v {
					v[j] = c[j] + float32(rng.NormFloat64()*o.Spread)
				}
				continue
			}
			for j := range v {
				v[j] = coord()
			}
		}
		return out
	}
	s := &Set{Dim: o.Dim, Base: draw(o.Count), Queries: draw(o.Queries)}
	if err := s.addMeta(o.Fields, o.Seed); err != nil {
		return nil, err
	}
	s.hash = s.contentHash()
	return s, nil
}

// FileOptions describe a set read from SIFT-format files.
type FileOptions struct {
	Base, Queries string // .fvecs or .bvecs files
	Truth         string // optional .ivecs: exact neighbours of each query
	Limit         int    // read at most this many base vectors (0: all); a file's Truth is then ignored
	QueryLimit    int    // read at most this many queries (0: all)
	Fields        []Field
	Seed          int64 // for the metadata values
}

// FromFiles reads a set from files in the SIFT formats.
func FromFiles(o FileOptions) (*Set, error) {
	base, dim, err := readAny(o.Base, o.Limit)
	if err != nil {
		return nil, fmt.Errorf("vectors: base: %w", err)
	}
	qs, qdim, err := readAny(o.Queries, o.QueryLimit)
	if err != nil {
		return nil, fmt.Errorf("vectors: queries: %w", err)
	}
	if qdim != dim {
		return nil, fmt.Errorf("vectors: queries have dimension %d, base vectors %d", qdim, dim)
	}
	s := &Set{Dim: dim, Base: base, Queries: qs}
	if o.Truth != "" && o.Limit == 0 {
		t, err := readFile(o.Truth, func(r io.Reader) ([][]int32, error) { return ReadIvecs(r, s.NumQueries()) })
		if err != nil {
			return nil, fmt.Errorf("vectors: ground truth: %w", err)
		}
		if len(t) != s.NumQueries() {
			return nil, fmt.Errorf("vectors: ground truth has %d rows for %d queries", len(t), s.NumQueries())
		}
		for q, row := range t {
			for _, id := range row {
				if id < 0 || int(id) >= s.Len() {
					return nil, fmt.Errorf("vectors: ground truth row %d: id %d outside the %d base vectors", q, id, s.Len())
				}
			}
		}
		s.Truth = t
	}
	if err := s.addMeta(o.Fields, o.Seed); err != nil {
		return nil, err
	}
	s.hash = s.contentHash()
	return s, nil
}

// readAny reads an .fvecs or, by its extension, a .bvecs file.
func readAny(path string, limit int) ([]float32, int, error) {
	type vecs struct {
		flat []float32
		dim  int
	}
	read := ReadFvecs
	if len(path) > 6 && path[len(path)-6:] == ".bvecs" {
		read = ReadBvecs
	}
	v, err := readFile(path, func(r io.Reader) (vecs, error) {
		f, d, err := read(r, limit)
		return vecs{f, d}, err
	})
	return v.flat, v.dim, err
}

// addMeta draws the values of fields for every base vector.
func (s *Set) addMeta(fields []Field, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6d657461)) // "meta"
	for _, f := range fields {
		if f.Name == "" || f.Cardinality < 1 {
			return fmt.Errorf("vectors: field %q needs a name and cardinality ≥ 1", f.Name)
		}
		if s.Field(f.Name) >= 0 {
			return fmt.Errorf("vectors: field %q given twice", f.Name)
		}
		vals := make([]int32, s.Len())
		for i := range vals {
			vals[i] = int32(rng.IntN(f.Cardinality))
		}
		s.Fields = append(s.Fields, f)
		s.Meta = append(s.Meta, vals)
	}
	return nil
}

func (s *Set) contentHash() string {
	h := sha256.New()
	io.WriteString(h, "benchrun vectors v1\n")
	putInt(h, s.Dim)
	putFloats(h, s.Base)
	putFloats(h, s.Queries)
	for f, fd := range s.Fields {
		io.WriteString(h, fd.Name+"\n")
		putInt(h, fd.Cardinality)
		for _, v := range s.Meta[f] {
			putInt(h, int(v))
		}
	}
	for _, row := range s.Truth {
		putInt(h, len(row))
		for _, v := range row {
			putInt(h, int(v))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func putInt(h hash.Hash, v int) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	h.Write(b[:])
}

func putFloats(h hash.Hash, fs []float32) {
	b := make([]byte, 4*1024)
	for len(fs) > 0 {
		n := min(len(fs), 1024)
		for i, v := range fs[:n] {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		h.Write(b[:4*n])
		fs = fs[n:]
	}
}

var errSpace = errors.New("space: want l2, ip or cosine")
