package chroma

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/benchrun/benchrun/runner/vectors"
)

// fakeChroma is an in-memory server of the parts of Chroma's API v2 the
// driver speaks, answering queries exactly (brute force, l2). Its faults
// let tests make it misbehave.
type fakeChroma struct {
	mu        sync.Mutex
	maxBatch  int
	hnsw      map[string]HNSW                 // by collection name
	ids       map[string]string               // name → uuid
	recs      map[string]map[string][]float32 // uuid → id → vector
	meta      map[string]map[string]map[string]any
	adds      []int // size of every add/upsert
	dropOne   bool  // lose the first vector of every add: the count check must fail
	queryErr  int   // status to answer queries with (0: answer)
	upsertErr int   // status to answer upserts with (0: apply)
	keepDrop  bool  // answer a delete 404 and keep the collection
	keepAdds  bool  // acknowledge an add of an id the collection has and keep the old record, as Chroma does
	badJSON   bool  // answer queries with something that is not API v2
	nextID    int
}

func newFake(t *testing.T) (*fakeChroma, *httptest.Server) {
	f := &fakeChroma{maxBatch: 100, hnsw: map[string]HNSW{}, ids: map[string]string{}, recs: map[string]map[string][]float32{}, meta: map[string]map[string]map[string]any{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeChroma) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := strings.TrimPrefix(r.URL.Path, "/api/v2")
	const db = "/tenants/default_tenant/databases/default_database/collections"
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	body, _ := io.ReadAll(r.Body)
	switch {
	case p == "/pre-flight-checks":
		reply(200, map[string]any{"max_batch_size": f.maxBatch})
	case p == "/version":
		reply(200, "1.0.0-fake")
	case p == db && r.Method == http.MethodPost:
		var req struct {
			Name          string `json:"name"`
			Configuration struct {
				HNSW HNSW `json:"hnsw"`
			} `json:"configuration"`
		}
		json.Unmarshal(body, &req)
		if _, ok := f.ids[req.Name]; !ok {
			f.nextID++
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", f.nextID)
			f.ids[req.Name], f.hnsw[req.Name] = id, req.Configuration.HNSW
			f.recs[id], f.meta[id] = map[string][]float32{}, map[string]map[string]any{}
		}
		reply(200, map[string]any{"id": f.ids[req.Name], "name": req.Name, "configuration_json": map[string]any{"hnsw": f.hnsw[req.Name]}})
	case strings.HasPrefix(p, db+"/") && r.Method == http.MethodDelete:
		name := strings.TrimPrefix(p, db+"/")
		id, ok := f.ids[name]
		if !ok || f.keepDrop {
			reply(404, map[string]string{"error": "NotFoundError"})
			return
		}
		delete(f.ids, name)
		delete(f.recs, id)
		reply(200, map[string]any{})
	default:
		rest := strings.TrimPrefix(p, db+"/")
		id, verb, _ := strings.Cut(rest, "/")
		recs, ok := f.recs[id]
		if !ok {
			reply(404, map[string]string{"error": "NotFoundError"})
			return
		}
		switch verb {
		case "count":
			reply(200, len(recs))
		case "add", "upsert":
			var req struct {
				IDs        []string         `json:"ids"`
				Embeddings [][]float32      `json:"embeddings"`
				Metadatas  []map[string]any `json:"metadatas"`
			}
			if err := json.Unmarshal(body, &req); err != nil {
				reply(400, map[string]string{"error": err.Error()})
				return
			}
			f.adds = append(f.adds, len(req.IDs))
			if verb == "upsert" && f.upsertErr != 0 {
				reply(f.upsertErr, map[string]string{"error": "InternalError", "message": "upsert refused"})
				return
			}
			if len(req.IDs) > f.maxBatch {
				reply(400, map[string]string{"error": "batch too large"})
				return
			}
			for i, x := range req.IDs {
				if f.dropOne && i == 0 {
					continue
				}
				if _, had := recs[x]; had && verb == "add" && f.keepAdds {
					continue
				}
				recs[x] = req.Embeddings[i]
				if req.Metadatas != nil {
					f.meta[id][x] = req.Metadatas[i]
				}
			}
			code := 201
			if verb == "upsert" {
				code = 200
			}
			reply(code, map[string]any{})
		case "get":
			var req struct {
				IDs []string `json:"ids"`
			}
			json.Unmarshal(body, &req)
			ids, es, ms := []string{}, [][]float32{}, []map[string]any{}
			for _, x := range req.IDs {
				if v, ok := recs[x]; ok {
					ids, es, ms = append(ids, x), append(es, v), append(ms, f.meta[id][x])
				}
			}
			reply(200, map[string]any{"ids": ids, "embeddings": es, "metadatas": ms, "include": []string{"embeddings", "metadatas"}})
		case "query":
			if f.queryErr != 0 {
				reply(f.queryErr, map[string]string{"error": "InternalError", "message": "boom"})
				return
			}
			if f.badJSON {
				w.Write([]byte(`{"ids": "not a list"}`))
				return
			}
			var req struct {
				Q     [][]float32                 `json:"query_embeddings"`
				N     int                         `json:"n_results"`
				Where map[string]map[string]int64 `json:"where"`
			}
			json.Unmarshal(body, &req)
			type hit struct {
				id string
				d  float64
			}
			var hits []hit
			for x, v := range recs {
				ok := true
				for field, cond := range req.Where {
					got, _ := f.meta[id][x][field].(float64)
					ok = ok && int64(got) == cond["$eq"]
				}
				if ok {
					hits = append(hits, hit{x, vectors.Distance(vectors.L2, req.Q[0], v)})
				}
			}
			sort.Slice(hits, func(i, j int) bool {
				if hits[i].d != hits[j].d {
					return hits[i].d < hits[j].d
				}
				a, _ := strconv.Atoi(hits[i].id)
				b, _ := strconv.Atoi(hits[j].id)
				return a < b
			})
			hits = hits[:min(req.N, len(hits))]
			ids, ds := []string{}, []float64{}
			for _, h := range hits {
				ids, ds = append(ids, h.id), append(ds, h.d)
			}
			reply(200, map[string]any{"ids": [][]string{ids}, "distances": [][]float64{ds}, "include": []string{"distances"}})
		default:
			reply(404, map[string]string{"error": "no route " + p})
		}
	}
}

// state returns the number of collections and the record count of each.
func (f *fakeChroma) state() (collections int, counts []int, adds []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range f.ids {
		counts = append(counts, len(f.recs[id]))
	}
	return len(f.ids), counts, append([]int(nil), f.adds...)
}
