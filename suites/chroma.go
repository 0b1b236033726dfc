package suites

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/benchrun/benchrun/runner/results"
)

// The tables of the chroma benchmark kind: [benchmark.workload] and
// [benchmark.dataset]. Validation of their combined values is
// checkChromaCase; package ci turns them into runner/chroma drivers and a
// runner/vectors set.

// Chroma workloads.
const (
	ChromaLoad  = "load"  // insert the dataset in batches; one operation per batch
	ChromaQuery = "query" // kNN queries; one operation per query
	ChromaMixed = "mixed" // queries while a writer upserts at writer_rate
)

// ChromaWorkload is the workload of a chroma benchmark case. In the suite
// any key may be given as an array to sweep it.
type ChromaWorkload struct {
	Workload       string   `toml:"workload" enum:"load|query|mixed" doc:"load: insert the dataset in batches (one operation per batch); query: kNN queries; mixed: queries while a writer upserts. Default query."`
	Collection     string   `toml:"collection" doc:"Collection name; default one derived from the dataset hash and the HNSW settings, so query cases reuse what a load case with keep = true left."`
	Space          string   `toml:"space" enum:"l2|ip|cosine" doc:"HNSW distance: l2 (squared), ip or cosine; default l2."`
	EfConstruction int      `toml:"ef_construction" doc:"HNSW ef_construction; default 100."`
	EfSearch       int      `toml:"ef_search" doc:"HNSW ef_search; default 100."`
	MaxNeighbors   int      `toml:"max_neighbors" doc:"HNSW max_neighbors (M); default 16."`
	BatchSize      int      `toml:"batch_size" doc:"Vectors per add; default and cap: the server's max_batch_size."`
	K              int      `toml:"k" doc:"n_results of a query, and the k of recall_at_<k>; default 10."`
	Filter         string   `toml:"filter" doc:"A metadata field of the dataset: every query filters on it (where field $eq a value that cycles through its cardinality)."`
	Keep           bool     `toml:"keep" doc:"Leave the collection in place after the case (a load case's, for the query cases after it); default false: deleted."`
	WriterRate     float64  `toml:"writer_rate" doc:"mixed: upserts per second beside the queries."`
	WriterBatch    int      `toml:"writer_batch" doc:"mixed: vectors per upsert; default 100."`
	Timeout        Duration `toml:"timeout" doc:"Per-request timeout; default 60s."`

	Mode           string   `toml:"mode" enum:"closed|open" doc:"query, mixed: closed (users query, wait, repeat) or open (queries arrive at rate); default closed. A load is closed."`
	Users          int      `toml:"users" doc:"Closed loop: concurrent clients (load: concurrent batches); default 1."`
	ThinkTime      Duration `toml:"think_time" doc:"Closed loop: pause between a client's operations."`
	ThinkDist      string   `toml:"think_dist" enum:"fixed|exponential" doc:"Closed loop: think time distribution; default fixed."`
	Rate           float64  `toml:"rate" doc:"Open loop: target queries per second."`
	Arrival        string   `toml:"arrival" enum:"constant|poisson|gamma" doc:"Open loop: inter-arrival distribution; default poisson."`
	Burstiness     float64  `toml:"burstiness" doc:"Open loop, gamma arrivals: shape; 1 = Poisson, below 1 burstier."`
	MaxConcurrency int      `toml:"max_concurrency" doc:"Open loop: cap on queries in flight; 0 = 4096 (the default bound)."`
	Duration       Duration `toml:"duration" doc:"query, mixed: stop after this long (measured part); default 30s unless requests is set."`
	Requests       int      `toml:"requests" doc:"query, mixed: stop after this many measured queries."`
	Warmup         Duration `toml:"warmup" doc:"query, mixed: queries scheduled in this first part are warm-up, excluded from metrics."`
	WarmupRequests int      `toml:"warmup_requests" doc:"query, mixed: the first N queries are warm-up."`
	Seed           int64    `toml:"seed" doc:"Seed for arrivals and the order of the queries; default 1."`
	LagLimit       Duration `toml:"lag_limit" doc:"queue_delay p99 above which the generator is said to lag; default 10ms."`
	Drain          Duration `toml:"drain" doc:"How long operations in flight at the end may finish before they count as unfinished errors; default 30s."`
}

func defaultChromaWorkload() *ChromaWorkload {
	return &ChromaWorkload{Workload: ChromaQuery, Space: "l2", EfConstruction: 100, EfSearch: 100, MaxNeighbors: 16, K: 10, WriterBatch: 100,
		Timeout: Duration(60e9), Mode: "closed", Users: 1, ThinkDist: "fixed", Arrival: "poisson", Burstiness: 1, Seed: 1,
		LagLimit: Duration(10e6), Drain: Duration(results.DefaultDrain)}
}

// ChromaField is one metadata field of a vector dataset.
type ChromaField struct {
	Name        string `toml:"name" doc:"Metadata key."`
	Cardinality int    `toml:"cardinality" doc:"Values 0 … cardinality−1, drawn uniformly per vector."`
}

// ChromaDataset is the dataset of a chroma benchmark case.
type ChromaDataset struct {
	Kind         string        `toml:"kind" enum:"synthetic|fvecs" doc:"synthetic vectors, or files in the SIFT formats (.fvecs/.bvecs, ground truth .ivecs); default synthetic."`
	Dimension    int           `toml:"dimension" doc:"synthetic: vector dimension; default 128."`
	Count        int           `toml:"count" doc:"synthetic: base vectors; fvecs: read at most this many (0: all); default 10000 for synthetic."`
	Queries      int           `toml:"queries" doc:"synthetic: query vectors; fvecs: read at most this many (0: all); default 1000 for synthetic."`
	Distribution string        `toml:"distribution" enum:"uniform|normal" doc:"synthetic: coordinates uniform in [-1,1) or standard normal; default uniform."`
	Clusters     int           `toml:"clusters" doc:"synthetic: draw vectors around this many centres (real embeddings are clustered); 0 = none."`
	Spread       float64       `toml:"spread" doc:"synthetic, clustered: standard deviation around a centre; default 0.1."`
	Seed         int64         `toml:"seed" doc:"Seed of vectors and metadata; default 1."`
	Fields       []ChromaField `toml:"fields" doc:"Integer metadata fields every vector gets, for filter."`
	Base         string        `toml:"base" doc:"fvecs: base vectors (.fvecs or .bvecs), relative to the suite file."`
	QueryFile    string        `toml:"query_file" doc:"fvecs: query vectors (.fvecs or .bvecs)."`
	Truth        string        `toml:"truth" doc:"fvecs: ground truth (.ivecs), checked against benchrun's brute force when given."`
}

func defaultChromaDataset() *ChromaDataset {
	return &ChromaDataset{Kind: "synthetic", Dimension: 128, Count: 10000, Queries: 1000, Distribution: "uniform", Seed: 1}
}

// Load returns the results.Load of a chroma case; a load runs requests
// batches (package ci knows their number once the server said its
// max_batch_size).
func (w *ChromaWorkload) Load(batches int64) results.Load {
	if w.Workload == ChromaLoad {
		return results.Load{Mode: results.ModeClosed, Users: w.Users, Requests: batches, Seed: w.Seed, LagLimit: w.LagLimit.D(), Drain: w.Drain.D()}
	}
	return results.Load{
		Mode: w.Mode, Users: w.Users, ThinkTime: w.ThinkTime.D(), ThinkDist: w.ThinkDist,
		Rate: w.Rate, Arrival: w.Arrival, Burstiness: w.Burstiness, MaxConcurrency: w.MaxConcurrency,
		Duration: w.Duration.D(), Requests: int64(w.Requests),
		Warmup: w.Warmup.D(), WarmupRequests: int64(w.WarmupRequests), Seed: w.Seed, LagLimit: w.LagLimit.D(),
		Drain: w.Drain.D(),
	}
}

// checkChromaCase validates the combination of values a chroma case ends
// up with.
func (d *decoder) checkChromaCase(p []string, b *Benchmark, c *Case) {
	w, ds := c.Workload.(*ChromaWorkload), c.Dataset.(*ChromaDataset)
	at := func(table, key, format string, args ...any) {
		d.problem(c.at(p, table, key), "benchmark %q case %s: "+format, append([]any{b.Name, c.ID}, args...)...)
	}
	if w.Workload != ChromaLoad {
		if w.Mode == "open" && w.Rate <= 0 {
			at("workload", "rate", "open loop needs rate > 0")
		}
		if w.Duration == 0 && w.Requests == 0 {
			w.Duration = Duration(30e9)
		}
	} else if w.Mode == "open" || w.Duration != 0 || w.Requests != 0 || w.Warmup != 0 || w.WarmupRequests != 0 {
		at("workload", "workload", "a load inserts the whole dataset once, in closed loop: mode open, duration, requests and warm-up do not apply")
	}
	if w.Users < 1 && w.Mode == "closed" {
		at("workload", "users", "closed loop needs users ≥ 1")
	}
	if w.Workload == ChromaMixed && w.WriterRate <= 0 {
		at("workload", "writer_rate", "mixed needs writer_rate > 0 (upserts per second)")
	}
	if w.Workload != ChromaMixed && w.WriterRate != 0 {
		at("workload", "writer_rate", "writer_rate is for workload mixed")
	}
	if w.K < 1 || w.EfConstruction < 1 || w.EfSearch < 1 || w.MaxNeighbors < 2 || w.WriterBatch < 1 || w.BatchSize < 0 {
		at("workload", "k", "k, ef_construction, ef_search and writer_batch must be ≥ 1, max_neighbors ≥ 2, batch_size ≥ 0")
	}
	if w.Collection != "" && !validCollection(w.Collection) {
		at("workload", "collection", "collection name %q: want 3–512 characters of [a-zA-Z0-9._-], starting and ending alphanumeric", w.Collection)
	}
	field := false
	for _, f := range ds.Fields {
		field = field || f.Name == w.Filter
		if f.Name == "" || f.Cardinality < 1 {
			at("dataset", "fields", "metadata field %q needs a name and cardinality ≥ 1", f.Name)
		}
	}
	if w.Filter != "" && !field {
		at("workload", "filter", "filter on %q: the dataset has no such field (dataset.fields)", w.Filter)
	}
	switch ds.Kind {
	case "synthetic":
		if ds.Dimension < 1 || ds.Dimension > 65536 || ds.Count < 1 || ds.Queries < 1 {
			at("dataset", "dimension", "a synthetic set needs dimension 1–65536, count ≥ 1 and queries ≥ 1")
		}
	case "fvecs":
		if ds.Base == "" || ds.QueryFile == "" {
			at("dataset", "base", "an fvecs dataset needs base and query_file")
		}
		for _, f := range []string{ds.Base, ds.QueryFile, ds.Truth} {
			if f != "" && !d.skipFiles {
				d.checkFile(c.at(p, "dataset", "base"), b, f)
			}
		}
	}
}

// validCollection is Chroma's rule for collection names.
func validCollection(name string) bool {
	if len(name) < 3 || len(name) > 512 {
		return false
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		alnum := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9'
		if !alnum && (i == 0 || i == len(name)-1 || (ch != '.' && ch != '_' && ch != '-')) {
			return false
		}
	}
	return true
}

// ChromaCollection is the collection a case uses: the workload's, or one
// named after the dataset hash and the HNSW settings.
func (w *ChromaWorkload) ChromaCollection(datasetHash string) string {
	if w.Collection != "" {
		return w.Collection
	}
	return fmt.Sprintf("benchrun-%.12s-%s-c%d-s%d-m%d", datasetHash, w.Space, w.EfConstruction, w.EfSearch, w.MaxNeighbors)
}

// chromaMetrics are the sample Values the chroma drivers record
// (runner/chroma; docs/metrics.md), besides recall_at_<k>.
var chromaMetrics = []string{"load_duration", "insert_vectors_per_second", "time_to_queryable", "collection_count", "batch_vectors", "upsert_latency", "upsert_vectors"}

// DefaultRegressionMetrics are the statistics a benchmark's cases are
// compared on when regression.metrics is not given: nil for the LLM
// kinds (baselines' defaults); for chroma the query latency, throughput,
// recall (at the benchmark's k, every k of a sweep; default 10), the
// load's figures and the writer's latency — those a case does not have
// are skipped.
func (b *Benchmark) DefaultRegressionMetrics() []string {
	if b.Kind != "chroma" {
		return nil
	}
	m := []string{"e2e.p50", "e2e.p95", "e2e.p99", "requests_per_second", "error_rate"}
	for _, k := range chromaKs(b) {
		m = append(m, recallMetric(k)+".mean")
	}
	return append(m, "insert_vectors_per_second.mean", "load_duration.mean", "time_to_queryable.mean", "upsert_latency.p95")
}

// chromaKs are the k of a chroma benchmark's cases, each once, in the
// order given: its workload's k, every k of a sweep, 10 when not given.
func chromaKs(b *Benchmark) []int64 {
	var given []any
	switch v := b.Workload["k"].(type) {
	case nil:
		return []int64{10}
	case []any:
		given = v
	default:
		given = []any{v}
	}
	var ks []int64
	for _, k := range given {
		if v, ok := k.(int64); ok && !slices.Contains(ks, v) {
			ks = append(ks, v)
		}
	}
	return ks
}

// recallMetric is the name of recall@k: "recall_at_10".
func recallMetric(k int64) string { return "recall_at_" + strconv.FormatInt(k, 10) }
