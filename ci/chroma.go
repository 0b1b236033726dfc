package ci

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/chroma"
	"github.com/benchrun/benchrun/runner/vectors"
	"github.com/benchrun/benchrun/suites"
)

// chromaSet builds the vector set of a chroma case from its dataset table.
func chromaSet(s *suites.Suite, ds *suites.ChromaDataset) (*vectors.Set, error) {
	var fields []vectors.Field
	for _, f := range ds.Fields {
		fields = append(fields, vectors.Field{Name: f.Name, Cardinality: f.Cardinality})
	}
	if ds.Kind == "fvecs" {
		return vectors.FromFiles(vectors.FileOptions{Base: s.Path(ds.Base), Queries: s.Path(ds.QueryFile), Truth: s.Path(ds.Truth),
			Limit: ds.Count, QueryLimit: ds.Queries, Fields: fields, Seed: ds.Seed})
	}
	return vectors.Synthetic(vectors.SyntheticOptions{Dim: ds.Dimension, Count: ds.Count, Queries: ds.Queries,
		Distribution: ds.Distribution, Clusters: ds.Clusters, Spread: ds.Spread, Seed: ds.Seed, Fields: fields})
}

// truthCacheDir is where exact neighbours are cached by dataset hash:
// $BENCHRUN_CACHE, else the user's cache directory; "" (no cache) when
// there is none.
func truthCacheDir() string {
	if d := os.Getenv("BENCHRUN_CACHE"); d != "" {
		return filepath.Join(d, "groundtruth")
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "benchrun", "groundtruth")
}

// newChromaDriver builds a chroma case's driver: a Loader for workload
// load, a Querier (with a Writer for mixed) whose recall is judged
// against the exact neighbours computed here.
func newChromaDriver(s *suites.Suite, c suites.Case, url string) (runner.Driver, hashed, error) {
	w, ds := c.Workload.(*suites.ChromaWorkload), c.Dataset.(*suites.ChromaDataset)
	set, err := chromaSet(s, ds)
	if err != nil {
		return nil, nil, err
	}
	o := chroma.Options{BaseURL: url, Collection: w.ChromaCollection(set.Hash()), Set: set, BatchSize: w.BatchSize,
		K: w.K, Filter: w.Filter, Timeout: w.Timeout.D(),
		HNSW: chroma.HNSW{Space: w.Space, EfConstruction: w.EfConstruction, EfSearch: w.EfSearch, MaxNeighbors: w.MaxNeighbors}}
	if sv := s.Service(c.Benchmark.Service); sv != nil {
		o.Tenant, o.Database = sv.Tenant, sv.Database
	}
	if w.Workload != suites.ChromaLoad {
		o.Truth, err = vectors.GroundTruth(context.Background(), set, vectors.TruthOptions{K: w.K, Space: w.Space, Field: w.Filter, CacheDir: truthCacheDir()})
		if err != nil {
			return nil, nil, fmt.Errorf("chroma: ground truth: %w", err)
		}
	}
	cl, err := chroma.New(o)
	if err != nil {
		return nil, nil, err
	}
	switch w.Workload {
	case suites.ChromaLoad:
		return chroma.NewLoader(cl, w.Keep), set, nil
	case suites.ChromaMixed:
		return chroma.NewQuerier(cl, w.Seed, w.Keep, &chroma.Writer{Rate: w.WriterRate, Batch: w.WriterBatch}), set, nil
	}
	return chroma.NewQuerier(cl, w.Seed, w.Keep, nil), set, nil
}

// setChromaDataPath tells a chroma load the data directory of its service
// when benchrun started it (DIR/data/<name> or the suite's data_path), so
// its check records the size on disk (storage_bytes); a deployment given
// by url has none.
func setChromaDataPath(s *suites.Suite, cs suites.Case, dir string, drv runner.Driver) {
	l, ok := drv.(*chroma.Loader)
	sv := s.Service(cs.Benchmark.Service)
	if !ok || sv == nil || sv.URL != "" {
		return
	}
	path := sv.DataPath
	if path == "" {
		path = filepath.Join(dir, "data", sv.Name)
	}
	l.SetDataPath(path)
}
