package chroma

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/runner/vectors"
)

// Defaults of Options.
const (
	DefaultTenant   = "default_tenant"
	DefaultDatabase = "default_database"
)

// HNSW are the index settings of a collection (Chroma's
// configuration.hnsw); zero values are left to the server.
type HNSW struct {
	Space          string `json:"space,omitempty"` // vectors.L2, vectors.IP or vectors.Cosine
	EfConstruction int    `json:"ef_construction,omitempty"`
	EfSearch       int    `json:"ef_search,omitempty"`
	MaxNeighbors   int    `json:"max_neighbors,omitempty"`
}

// Options configure a Client.
type Options struct {
	BaseURL    string // e.g. http://node1:8000, without /api/v2
	Tenant     string // default DefaultTenant; created when missing
	Database   string // default DefaultDatabase; created when missing
	Collection string // 3–512 characters of [a-zA-Z0-9._-]
	HNSW       HNSW
	Set        *vectors.Set // required
	// BatchSize is the number of vectors per add or upsert; Prepare lowers
	// it to the server's max_batch_size. 0: the server's maximum.
	BatchSize int
	K         int    // n_results of a query; default 10
	Filter    string // metadata field every query filters on ("" none): Set.FilterValue(field, q)
	// Truth holds the exact neighbours of every query under HNSW.Space and
	// Filter (vectors.GroundTruth): recall@K is recorded per query when set.
	Truth   [][]int32
	Timeout time.Duration // per request; 0 = none
	Client  *http.Client  // optional; default a client with a pool sized for benchmarking
}

// Client speaks Chroma's API v2 for one collection. Its setup methods
// return Go errors; Add and Query record into samples. It is safe for
// concurrent use once Prepare has returned.
type Client struct {
	o        Options
	root     string // .../api/v2
	db       string // .../api/v2/tenants/{t}/databases/{d}
	client   *http.Client
	id       string // collection UUID, set by Open
	maxBatch int
	version  string
	field    int // index of Options.Filter in the set, -1 for none
}

// New checks o and returns a client; nothing is sent yet.
func New(o Options) (*Client, error) {
	if o.Set == nil {
		return nil, errors.New("chroma: no vector set")
	}
	root, err := runner.Endpoint("chroma", o.BaseURL, "v2", map[string]string{"v2": "/api/v2"})
	if err != nil {
		return nil, err
	}
	if o.Tenant == "" {
		o.Tenant = DefaultTenant
	}
	if o.Database == "" {
		o.Database = DefaultDatabase
	}
	if err := CheckName(o.Collection); err != nil {
		return nil, err
	}
	if o.K == 0 {
		o.K = 10
	}
	c := &Client{o: o, root: root, client: runner.ClientOr(o.Client), field: -1}
	c.db = root + "/tenants/" + url.PathEscape(o.Tenant) + "/databases/" + url.PathEscape(o.Database)
	if o.Filter != "" {
		if c.field = o.Set.Field(o.Filter); c.field < 0 {
			return nil, fmt.Errorf("chroma: filter on %q: the dataset has no such metadata field", o.Filter)
		}
	}
	if o.Truth != nil && len(o.Truth) != o.Set.NumQueries() {
		return nil, fmt.Errorf("chroma: %d ground-truth rows for %d queries", len(o.Truth), o.Set.NumQueries())
	}
	return c, nil
}

// CheckName reports whether name is a valid Chroma collection name.
func CheckName(name string) error {
	ok := len(name) >= 3 && len(name) <= 512
	for i := 0; ok && i < len(name); i++ {
		ch := name[i]
		alnum := ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9'
		ok = alnum || (i > 0 && i < len(name)-1 && (ch == '.' || ch == '_' || ch == '-'))
	}
	if !ok {
		return fmt.Errorf("chroma: collection name %q: want 3–512 characters of [a-zA-Z0-9._-], starting and ending alphanumeric", name)
	}
	return nil
}

// call sends a setup request and decodes a 2xx answer into out (when not
// nil). A non-2xx answer is an error quoting the server.
func (c *Client) call(ctx context.Context, method, u string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	if c.o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.o.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("chroma: %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("chroma: %s %s: reading the answer: %w", method, u, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("chroma: %s %s: %s: %s", method, u, resp.Status, runner.Snippet(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("chroma: %s %s: answer is not what API v2 says: %v: %s", method, u, err, runner.Snippet(b))
		}
	}
	return resp.StatusCode, nil
}

// Prepare asks the server its version and max_batch_size, lowers the
// batch size to it, and creates the tenant and database when missing.
func (c *Client) Prepare(ctx context.Context) error {
	var pf struct {
		MaxBatchSize *int `json:"max_batch_size"`
	}
	if _, err := c.call(ctx, http.MethodGet, c.root+"/pre-flight-checks", nil, &pf); err != nil {
		return err
	}
	if pf.MaxBatchSize == nil || *pf.MaxBatchSize < 1 {
		return fmt.Errorf("chroma: pre-flight-checks gave no max_batch_size")
	}
	c.maxBatch = *pf.MaxBatchSize
	if c.o.BatchSize == 0 || c.o.BatchSize > c.maxBatch {
		c.o.BatchSize = c.maxBatch
	}
	if _, err := c.call(ctx, http.MethodGet, c.root+"/version", nil, &c.version); err != nil {
		return err
	}
	return c.ensureDatabase(ctx)
}

// ensureDatabase creates the tenant and the database when they are not
// Chroma's defaults and do not exist.
func (c *Client) ensureDatabase(ctx context.Context) error {
	if c.o.Tenant == DefaultTenant && c.o.Database == DefaultDatabase {
		return nil
	}
	t := c.root + "/tenants/" + url.PathEscape(c.o.Tenant)
	if st, err := c.call(ctx, http.MethodGet, t, nil, nil); st == http.StatusNotFound {
		if _, err := c.call(ctx, http.MethodPost, c.root+"/tenants", map[string]string{"name": c.o.Tenant}, nil); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if st, err := c.call(ctx, http.MethodGet, c.db, nil, nil); st == http.StatusNotFound {
		_, err = c.call(ctx, http.MethodPost, t+"/databases", map[string]string{"name": c.o.Database}, nil)
		return err
	} else {
		return err
	}
}

// BatchSize is the number of vectors an add or upsert carries (after
// Prepare: never above the server's max_batch_size).
func (c *Client) BatchSize() int { return c.o.BatchSize }

// MaxBatchSize is the server's max_batch_size (after Prepare).
func (c *Client) MaxBatchSize() int { return c.maxBatch }

// Version is the server's version (after Prepare).
func (c *Client) Version() string { return c.version }

// collection is what Chroma answers about a collection.
type collection struct {
	ID     string `json:"id"`
	Config struct {
		HNSW *HNSW `json:"hnsw"`
	} `json:"configuration_json"`
}

// Open gets or creates the collection with the HNSW settings of the
// options. A collection that exists with other settings is an error:
// benchmarking it would measure another index than the suite asks for.
func (c *Client) Open(ctx context.Context) error {
	req := map[string]any{"name": c.o.Collection, "get_or_create": true, "configuration": map[string]any{"hnsw": c.o.HNSW}}
	var col collection
	if _, err := c.call(ctx, http.MethodPost, c.db+"/collections", req, &col); err != nil {
		return err
	}
	if col.ID == "" {
		return fmt.Errorf("chroma: collection %q: the server gave no id", c.o.Collection)
	}
	if h := col.Config.HNSW; h != nil {
		want := c.o.HNSW
		if (want.Space != "" && h.Space != want.Space) || (want.EfConstruction != 0 && h.EfConstruction != want.EfConstruction) ||
			(want.EfSearch != 0 && h.EfSearch != want.EfSearch) || (want.MaxNeighbors != 0 && h.MaxNeighbors != want.MaxNeighbors) {
			return fmt.Errorf("chroma: collection %q exists with hnsw %+v, the suite asks %+v: delete it or name another collection", c.o.Collection, *h, want)
		}
	}
	c.id = col.ID
	return nil
}

// Drop deletes the collection; one that does not exist is not an error.
func (c *Client) Drop(ctx context.Context) error {
	st, err := c.call(ctx, http.MethodDelete, c.db+"/collections/"+url.PathEscape(c.o.Collection), nil, nil)
	if st == http.StatusNotFound {
		return nil
	}
	c.id = ""
	return err
}

// VerifyRecords is the number of records, spread over the set, that
// Verify reads back.
const VerifyRecords = 16

// Verify reads back VerifyRecords records spread over the set (the
// first and the last among them) and checks that the collection holds
// each with the set's vector and metadata (after Open): a collection left
// by another run with as many records of another dataset would otherwise
// be queried as this one, its recall judged against the wrong neighbours
// and its latency measured on another index.
func (c *Client) Verify(ctx context.Context) error {
	s := c.o.Set
	n := s.Len()
	var ids []string
	for j := range min(VerifyRecords, n) {
		i := 0
		if VerifyRecords > 1 && n > 1 {
			i = j * (n - 1) / (min(VerifyRecords, n) - 1)
		}
		if len(ids) == 0 || ids[len(ids)-1] != strconv.Itoa(i) {
			ids = append(ids, strconv.Itoa(i))
		}
	}
	var got struct {
		IDs        []string         `json:"ids"`
		Embeddings [][]float64      `json:"embeddings"`
		Metadatas  []map[string]any `json:"metadatas"`
	}
	req := map[string]any{"ids": ids, "include": []string{"embeddings", "metadatas"}}
	if _, err := c.call(ctx, http.MethodPost, c.coll()+"/get", req, &got); err != nil {
		return err
	}
	other := func(format string, a ...any) error {
		return fmt.Errorf("chroma: collection %q holds %d records but not this dataset's (%s): delete it or name another collection",
			c.o.Collection, n, fmt.Sprintf(format, a...))
	}
	if len(got.Embeddings) != len(got.IDs) || (len(s.Fields) > 0 && len(got.Metadatas) != len(got.IDs)) {
		return fmt.Errorf("chroma: collection %q: get answered %d ids, %d embeddings, %d metadatas", c.o.Collection, len(got.IDs), len(got.Embeddings), len(got.Metadatas))
	}
	at := map[string]int{}
	for j, id := range got.IDs {
		at[id] = j
	}
	for _, id := range ids {
		j, ok := at[id]
		if !ok {
			return other("it has no record %s", id)
		}
		i, _ := strconv.Atoi(id)
		want, e := s.Vector(i), got.Embeddings[j]
		if len(e) != len(want) {
			return other("record %s has %d dimensions, the dataset %d", id, len(e), len(want))
		}
		for d, x := range want {
			if float32(e[d]) != x {
				return other("record %s differs from vector %s of the dataset", id, id)
			}
		}
		for f, fd := range s.Fields {
			if v, ok := got.Metadatas[j][fd.Name].(float64); !ok || v != float64(s.Meta[f][i]) {
				return other("record %s has %s %v, the dataset %d", id, fd.Name, got.Metadatas[j][fd.Name], s.Meta[f][i])
			}
		}
	}
	return nil
}

// Count returns the number of records in the collection (after Open).
func (c *Client) Count(ctx context.Context) (int, error) {
	var n int
	if _, err := c.call(ctx, http.MethodGet, c.coll()+"/count", nil, &n); err != nil {
		return 0, err
	}
	return n, nil
}

func (c *Client) coll() string { return c.db + "/collections/" + c.id }

// Batches is the number of add batches of the whole set.
func (c *Client) Batches() int {
	return (c.o.Set.Len() + c.o.BatchSize - 1) / c.o.BatchSize
}

// addBody is the JSON of an add or upsert of base vectors [lo, hi),
// written by hand: encoding/json would box every float.
func (c *Client) addBody(lo, hi int) []byte {
	s := c.o.Set
	b := make([]byte, 0, (hi-lo)*(s.Dim*12+32))
	b = append(b, `{"ids":[`...)
	for i := lo; i < hi; i++ {
		if i > lo {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '"')
	}
	b = append(b, `],"embeddings":[`...)
	for i := lo; i < hi; i++ {
		if i > lo {
			b = append(b, ',')
		}
		b = appendVector(b, s.Vector(i))
	}
	b = append(b, ']')
	if len(s.Fields) > 0 {
		b = append(b, `,"metadatas":[`...)
		for i := lo; i < hi; i++ {
			if i > lo {
				b = append(b, ',')
			}
			b = append(b, '{')
			for f, fd := range s.Fields {
				if f > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendQuote(b, fd.Name)
				b = append(b, ':')
				b = strconv.AppendInt(b, int64(s.Meta[f][i]), 10)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendVector(b []byte, v []float32) []byte {
	b = append(b, '[')
	for j, x := range v {
		if j > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	return append(b, ']')
}

// Add adds (or, with upsert, upserts) base vectors [lo, hi) as one
// operation recorded in s; hi − lo must not exceed BatchSize.
func (c *Client) Add(ctx context.Context, op runner.Op, s *results.Sample, lo, hi int, upsert bool) {
	x := runner.NewExchange(op, s)
	defer x.Settle()
	path := "/add"
	if upsert {
		path = "/upsert"
	}
	resp, rctx, done := x.Post(ctx, c.client, c.coll()+path, c.addBody(lo, hi), c.o.Timeout, nil)
	defer done()
	if resp == nil {
		return
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)); err != nil {
		x.Fail(ctx, rctx, err, results.ErrStreamTruncated)
		return
	}
	s.Done = x.Arrival()
}

// queryBody is the JSON of a query for query vector q.
func (c *Client) queryBody(v []float32, where int32, filter bool) []byte {
	b := make([]byte, 0, len(v)*12+128)
	b = append(b, `{"query_embeddings":[`...)
	b = appendVector(b, v)
	b = append(b, `],"n_results":`...)
	b = strconv.AppendInt(b, int64(c.o.K), 10)
	b = append(b, `,"include":["distances"]`...)
	if filter {
		b = append(b, `,"where":{`...)
		b = strconv.AppendQuote(b, c.o.Filter)
		b = append(b, `:{"$eq":`...)
		b = strconv.AppendInt(b, int64(where), 10)
		b = append(b, `}}`...)
	}
	return append(b, '}')
}

// queryAnswer is Chroma's column-major query result, one list per query.
type queryAnswer struct {
	IDs       [][]string   `json:"ids"`
	Distances [][]*float64 `json:"distances"`
}

// Query runs kNN query q of the set as one operation recorded in s and
// returns the ids found, nil when it failed. With ground truth, the
// sample gets recall_at_<K> (Values, 0–1), unless the query has no true
// neighbours (its filter keeps no vector of the set).
func (c *Client) Query(ctx context.Context, op runner.Op, s *results.Sample, q int) []string {
	return c.query(ctx, op, s, c.o.Set.Query(q), q)
}

func (c *Client) query(ctx context.Context, op runner.Op, s *results.Sample, v []float32, q int) []string {
	x := runner.NewExchange(op, s)
	defer x.Settle()
	// Only a query of the set filters (q < 0: a base vector, the load's
	// probe, whose value of the field is not the query's).
	var where int32
	filter := c.field >= 0 && q >= 0
	if filter {
		where = c.o.Set.FilterValue(c.field, q)
	}
	resp, rctx, done := x.Post(ctx, c.client, c.coll()+"/query", c.queryBody(v, where, filter), c.o.Timeout, nil)
	defer done()
	if resp == nil {
		return nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		x.Fail(ctx, rctx, err, results.ErrStreamTruncated)
		return nil
	}
	s.Done = x.Arrival()
	var a queryAnswer
	if err := json.Unmarshal(body, &a); err != nil || len(a.IDs) != 1 || len(a.Distances) != 1 || len(a.Distances[0]) != len(a.IDs[0]) {
		s.Error, s.ErrorDetail = results.ErrParse, x.Detail("query answer is not one list of ids with their distances: "+x.Snippet(body))
		return nil
	}
	ids := a.IDs[0]
	if len(ids) > c.o.K {
		s.Error, s.ErrorDetail = results.ErrParse, x.Detail(fmt.Sprintf("%d ids for n_results %d", len(ids), c.o.K))
		return nil
	}
	// A query whose filter keeps no vector has nothing to recall: no value
	// (vectors.Recall's 1 would lift the case's mean with a query that
	// measured nothing).
	if c.o.Truth != nil && q >= 0 && len(c.o.Truth[q]) > 0 {
		if s.Values == nil {
			s.Values = map[string]float64{}
		}
		s.Values[RecallKey(c.o.K)] = vectors.Recall(ids, c.o.Truth[q], c.o.K)
	}
	return ids
}

// RecallKey is the Sample.Values key of recall@k: "recall_at_10".
func RecallKey(k int) string { return "recall_at_" + strconv.Itoa(k) }

// containsID reports whether ids holds base vector i.
func containsID(ids []string, i int) bool {
	want := strconv.Itoa(i)
	for _, id := range ids {
		if strings.TrimSpace(id) == want {
			return true
		}
	}
	return false
}
