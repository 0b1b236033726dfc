package chroma

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/runner/vectors"
)

// FuzzVerify: whatever a server answers to the read-back of a
// collection's records, Verify never panics, and it accepts an answer
// only when every record it asked for is there with the set's vector and
// metadata.
func FuzzVerify(f *testing.F) {
	set := &vectors.Set{Dim: 2, Base: []float32{0.5, -1, 2, 3.25, 1e-3, 7}, Queries: []float32{0, 0},
		Fields: []vectors.Field{{Name: "cat", Cardinality: 2}}, Meta: [][]int32{{0, 1, 1}}}
	good := `{"ids":["0","1","2"],"embeddings":[[0.5,-1],[2,3.25],[0.001,7]],"metadatas":[{"cat":0},{"cat":1},{"cat":1}]}`
	for _, s := range []string{good,
		`{"ids":["2","0","1"],"embeddings":[[0.001,7],[0.5,-1],[2,3.25]],"metadatas":[{"cat":1},{"cat":0},{"cat":1}]}`,
		`{"ids":["0","1","2"],"embeddings":[[0.5,-1],[2,3.25],[0.001,7]],"metadatas":[{"cat":0},{"cat":1},{"cat":0}]}`,
		`{"ids":["0","1"],"embeddings":[[0.5,-1],[2,3.25]],"metadatas":[{"cat":0},{"cat":1}]}`,
		`{"ids":["0","1","2"],"embeddings":[[0.5,-1],[2,3.25],[0.001]],"metadatas":[null,null,null]}`,
		`{"ids":["0","0","0"],"embeddings":[[0.5,-1],[0.5,-1],[0.5,-1]],"metadatas":[{"cat":0},{"cat":0},{"cat":0}]}`,
		`{"ids":null}`, `[]`, `{"error":"InternalError"}`, ``,
	} {
		f.Add(s)
	}
	var mu sync.Mutex
	var answer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Write([]byte(answer))
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, Collection: "fuzz", Set: set})
	if err != nil {
		f.Fatal(err)
	}
	c.id = "00000000-0000-4000-8000-000000000001"
	f.Fuzz(func(t *testing.T, body string) {
		mu.Lock()
		answer = body
		mu.Unlock()
		err := c.Verify(context.Background())
		if err != nil {
			if body == good {
				t.Fatalf("the set's own records refused: %v", err)
			}
			return
		}
		// Accepted: the answer holds every record with the set's content.
		var got struct {
			IDs        []string         `json:"ids"`
			Embeddings [][]float64      `json:"embeddings"`
			Metadatas  []map[string]any `json:"metadatas"`
		}
		if json.Unmarshal([]byte(body), &got) != nil {
			t.Fatalf("accepted an answer that does not decode: %q", body)
		}
		for i := range set.Len() {
			j := -1
			for k, id := range got.IDs {
				if strings.TrimSpace(id) == id && id == string(rune('0'+i)) {
					j = k
				}
			}
			if j < 0 || len(got.Embeddings[j]) != 2 || float32(got.Embeddings[j][0]) != set.Vector(i)[0] || float32(got.Embeddings[j][1]) != set.Vector(i)[1] ||
				got.Metadatas[j]["cat"] != float64(set.Meta[0][i]) {
				t.Fatalf("accepted %q: record %d is not the set's", body, i)
			}
		}
	})
}

// FuzzQueryAnswer: whatever a server answers to a query, the sample is
// a success only with one list of at most k ids and as many distances,
// and its recall, when recorded, is a share of 0–1; nothing panics.
func FuzzQueryAnswer(f *testing.F) {
	set := &vectors.Set{Dim: 2, Base: []float32{0, 0, 1, 1, 2, 2}, Queries: []float32{0, 0, 2, 2}}
	truth := [][]int32{{0, 1}, {}}
	for _, s := range []string{
		`{"ids":[["0","1"]],"distances":[[0,2]]}`,
		`{"ids":[["1","1"]],"distances":[[2,2]]}`,
		`{"ids":[["0","1","2"]],"distances":[[0,2,8]]}`,
		`{"ids":[[]],"distances":[[]]}`,
		`{"ids":[["0"]],"distances":[[null]]}`,
		`{"ids":[["0"]],"distances":[[NaN]]}`,
		`{"ids":[["x"," 0"]],"distances":[[1,2]]}`,
		`{"ids":[null],"distances":[null]}`,
		`{"error":"InternalError","message":"boom"}`, `[]`, ``,
	} {
		f.Add(s, uint8(0))
	}
	var mu sync.Mutex
	var answer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Write([]byte(answer))
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, Collection: "fuzz", Set: set, K: 2, Truth: truth})
	if err != nil {
		f.Fatal(err)
	}
	c.id = "00000000-0000-4000-8000-000000000001"
	f.Fuzz(func(t *testing.T, body string, q uint8) {
		mu.Lock()
		answer = body
		mu.Unlock()
		var s results.Sample
		ids := c.Query(context.Background(), runner.Op{Start: time.Now()}, &s, int(q%2))
		if !s.OK() {
			if ids != nil {
				t.Fatalf("failed sample %+v returned ids %q", s, ids)
			}
			return
		}
		if len(ids) > 2 {
			t.Fatalf("accepted %d ids for k 2: %q", len(ids), body)
		}
		r, has := s.Values[RecallKey(2)]
		switch {
		case len(truth[q%2]) == 0 && has:
			t.Fatalf("recall %v for a query without true neighbours", r)
		case len(truth[q%2]) > 0 && (!has || r < 0 || r > 1):
			t.Fatalf("recall %v (recorded %v) from %q", r, has, body)
		}
	})
}
