package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// chromaSearchSuite searches the open-loop query rate a real Chroma
// serves with e2e p90 under 250 ms (room for a busy machine at min),
// recall@10 above 0.8 and under 5% errors, from 25 queries/s up to 5,000
// (far beyond what a small machine serves: the search must find a
// bracket below it). 200 measured queries a probe (10/L for the error
// rate limit L = 5%).
const chromaSearchSuite = `schema_version = 1
[suite]
name = "chroma-search"
[[service]]
name = "chroma"
kind = "chroma"
[[benchmark]]
name = "q"
service = "chroma"
  [benchmark.workload]
  workload = "query"
  arrival = "constant"
  keep = true
  [benchmark.dataset]
  dimension = 32
  count = 2000
  queries = 200
  [benchmark.search]
  variable = "rate"
  min = 25
  max = 5000
  requests = 200
  slos = ["e2e.p90 < 250ms", "recall_at_10.mean > 0.8", "error_rate < 5%"]
  precision = "20%"
`

// TestChromaCapacitySearch: a capacity search of a real Chroma's queries
// finds a capacity between min and max with a bracket, every probe is a
// case with its samples and recall, and the capacity case says it is
// queries per second, higher better.
func TestChromaCapacitySearch(t *testing.T) {
	needChroma(t)
	if testing.Short() {
		t.Skip("-short: a real Chroma search takes ~30s")
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "s.toml"), []byte(chromaSearchSuite), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, work, binEnv("BENCHRUN_CACHE="+filepath.Join(work, "cache")), "-q", "suite", "-o", "r", "s.toml")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %v", r.code, r)
	}
	var s struct {
		Cases []struct {
			ID       string
			Verdict  string
			Params   map[string]string
			Warnings []string
			Metrics  map[string]struct {
				Value, Mean float64
				Count       int
				Unit        string
				Better      string
				CI          map[string][2]float64
			}
			Frontier struct {
				WallSeconds float64 `json:"wall_seconds"`
			}
		}
	}
	readJSON(t, filepath.Join(work, "r", "summary.json"), &s)
	var probes int
	for _, c := range s.Cases {
		if _, ok := c.Params["search"]; ok && strings.HasPrefix(c.ID, "q/search=rate:") {
			probes++
			if rec := c.Metrics["recall_at_10"]; rec.Count == 0 {
				t.Errorf("probe %s: no recall measured", c.ID)
			}
			continue
		}
		if c.ID != "q/capacity" {
			continue
		}
		m := c.Metrics["capacity"]
		b := m.CI["value"]
		if m.Value < 25 || m.Value >= 5000 || b[0] != m.Value || !(b[1] > b[0]) || b[1] > 1.2*b[0]+1 || m.Unit != "requests/s" || m.Better != "higher" || c.Verdict != "pass" {
			t.Errorf("capacity %+v, verdict %s: want a bracket within 20%% between 25 and 5000 queries/s, higher better", m, c.Verdict)
		}
		if m.Count < 3 {
			t.Errorf("capacity from %d probes", m.Count)
		}
		t.Logf("Chroma capacity: %v queries/s, bracket %v, %d probes; the search took %.0f s of wall time", m.Value, b, m.Count, c.Frontier.WallSeconds)
	}
	if probes < 3 {
		t.Fatalf("%d probe cases: %v", probes, r)
	}
	if got := sampleFiles(t, filepath.Join(work, "r")); len(got) != probes {
		t.Errorf("%d sample files for %d probes: %q", len(got), probes, got)
	}
}

// TestChromaSearchRecallCollapsed: the collection the search queries
// holds other vectors than the dataset's (a stale index: same count,
// another seed), whose queries would be fast but their neighbours wrong.
// The probe at min reads records back before measuring anything and is an
// execution error naming the collection; no capacity is reported, the run
// is an error (before the read-back: measured, failed on recall alone).
func TestChromaSearchRecallCollapsed(t *testing.T) {
	needChroma(t)
	if testing.Short() {
		t.Skip("-short: a real Chroma run")
	}
	stale := `[[benchmark]]
name = "stale"
service = "chroma"
  [benchmark.workload]
  workload = "load"
  collection = "shared"
  keep = true
  [benchmark.dataset]
  dimension = 32
  count = 2000
  queries = 200
  seed = 2
[[benchmark]]
name = "q"`
	suite := strings.NewReplacer("[[benchmark]]\nname = \"q\"", stale,
		`keep = true`, "keep = true\n  collection = \"shared\"").Replace(chromaSearchSuite)
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "s.toml"), []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, work, binEnv("BENCHRUN_CACHE="+filepath.Join(work, "cache")), "-q", "suite", "-o", "r", "s.toml")
	if r.code != ExitError {
		t.Fatalf("exit %d, want %d: %v", r.code, ExitError, r)
	}
	var s struct {
		Verdict string
		Cases   []struct {
			ID      string
			Verdict string
			Errors  []string
			Metrics map[string]struct {
				Value, Mean float64
				Count       int
			}
			Checks []struct{ Name, Verdict, Detail string }
		}
	}
	readJSON(t, filepath.Join(work, "r", "summary.json"), &s)
	if s.Verdict != "error" {
		t.Errorf("run verdict %q, want error", s.Verdict)
	}
	var ids []string
	for _, c := range s.Cases {
		ids = append(ids, c.ID)
		switch c.ID {
		case "q/search=rate:25":
			if c.Verdict != "error" || !strings.Contains(strings.Join(c.Errors, " "), `collection "shared" holds 2000 records but not this dataset's`) || c.Metrics["recall_at_10"].Count != 0 {
				t.Errorf("probe: verdict %s, errors %q, recall %+v: want an error naming the stale collection, nothing measured", c.Verdict, c.Errors, c.Metrics["recall_at_10"])
			}
		case "q/capacity":
			if c.Metrics["capacity"].Value != 0 || c.Verdict == "pass" {
				t.Errorf("capacity %+v, verdict %s: want none, never a pass", c.Metrics["capacity"], c.Verdict)
			}
		}
	}
	if strings.Join(ids, " ") != "stale q/search=rate:25 q/capacity" {
		t.Errorf("cases %q: want the load, the one probe at min, the capacity", ids)
	}
}
