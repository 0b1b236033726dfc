package chroma

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/vectors"
)

// InstallHint is how to get the chroma binary the integration tests need.
const installHint = "npm install -g chromadb@3.0.11 chromadb-js-bindings-linux-x64-gnu@1.0.5 (as root; .ci/deps.sh does it)"

// startChroma starts a real Chroma (`chroma run`) on a free port with its
// data in a temporary directory and returns its URL. Without the binary
// the test is skipped, saying how to install it, unless CI=true, where it
// fails.
func startChroma(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("chroma")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chroma is not installed (CI=true): %s", installHint)
		}
		t.Skipf("SKIP: chroma is not installed: %s", installHint)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "run", "--path", t.TempDir(), "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/api/v2/heartbeat")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("chroma on port %d did not answer its heartbeat within 30s", port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRealChroma loads a set into a real Chroma, checks the load, queries
// it with and without a filter (recall against the brute force), and runs
// queries beside a writer; a collection of another dataset with as many
// records is refused.
func TestRealChroma(t *testing.T) {
	url := startChroma(t)
	set, err := vectors.Synthetic(vectors.SyntheticOptions{Dim: 32, Count: 3000, Queries: 200, Clusters: 10, Spread: 0.3, Seed: 3, Fields: []vectors.Field{{Name: "cat", Cardinality: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	hnsw := HNSW{Space: vectors.L2, EfConstruction: 100, EfSearch: 100, MaxNeighbors: 16}
	l := NewLoader(newClient(t, url, Options{Set: set, HNSW: hnsw, BatchSize: 500, Collection: "real-test"}), true)
	if err := l.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.c.MaxBatchSize() < 500 || l.c.Version() == "" {
		t.Fatalf("max_batch_size %d, version %q", l.c.MaxBatchSize(), l.c.Version())
	}
	ss, err := runDriver(t, l, closed(2, l.Requests()))
	if err != nil {
		t.Fatal(err)
	}
	own, side := sideSamples(ss, OpLoadCheck)
	if len(own) != 6 || len(side) != 1 || side[0].Values[ValueCollectionCount] != 3000 {
		t.Fatalf("%d batches, check %+v", len(own), side)
	}
	t.Logf("load: %.0f vectors/s, queryable after %.1f ms", side[0].Values[ValueInsertRate], 1e3*side[0].Values[ValueQueryable])
	for _, filter := range []string{"", "cat"} {
		truth, err := vectors.GroundTruth(context.Background(), set, vectors.TruthOptions{K: 10, Space: vectors.L2, Field: filter})
		if err != nil {
			t.Fatal(err)
		}
		c := newClient(t, url, Options{Set: set, HNSW: hnsw, Collection: "real-test", Filter: filter, Truth: truth})
		var w *Writer
		if filter == "cat" {
			w = &Writer{Rate: 20, Batch: 50}
		}
		ss, err := runDriver(t, NewQuerier(c, 1, true, w), closed(4, 200))
		if err != nil {
			t.Fatal(err)
		}
		own, side := sideSamples(ss, OpUpsert)
		var sum float64
		for _, s := range own {
			if !s.OK() {
				t.Fatalf("query failed: %+v", s)
			}
			sum += s.Values[RecallKey(10)]
		}
		mean := sum / float64(len(own))
		t.Logf("filter %q: mean recall@10 %.3f over %d queries, %d upserts beside", filter, mean, len(own), len(side))
		if len(own) != 200 || mean < 0.9 {
			t.Errorf("filter %q: %d queries, recall %.3f", filter, len(own), mean)
		}
		if w != nil && len(side) == 0 {
			t.Errorf("no upsert beside the queries")
		}
		for _, s := range side {
			if !s.OK() {
				t.Errorf("upsert failed: %+v", s)
			}
		}
	}
	// As many records of another dataset: read back, refused.
	other, err := vectors.Synthetic(vectors.SyntheticOptions{Dim: 32, Count: 3000, Queries: 200, Clusters: 10, Spread: 0.3, Seed: 4, Fields: []vectors.Field{{Name: "cat", Cardinality: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	q := NewQuerier(newClient(t, url, Options{Set: other, HNSW: hnsw, Collection: "real-test"}), 1, true, nil)
	if err := q.Prepare(context.Background()); err == nil || !strings.Contains(err.Error(), "not this dataset's") {
		t.Errorf("a collection of another dataset: Prepare gave %v", err)
	}
}
