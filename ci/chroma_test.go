package ci

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/runner/results"
)

// chromaInstall is how to get the chroma binary (.ci/deps.sh runs it).
const chromaInstall = "npm install -g chromadb@3.0.11 chromadb-js-bindings-linux-x64-gnu@1.0.5"

// needChroma skips a test when the chroma binary is missing, saying how
// to install it, except under CI=true where it fails.
func needChroma(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("chroma"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chroma is not installed (CI=true): %s", chromaInstall)
		}
		t.Skipf("SKIP: chroma is not installed: %s (as root; .ci/deps.sh does it)", chromaInstall)
	}
}

// chromaSummary is the part of summary.json this test reads.
type chromaSummary struct {
	Verdict string `json:"verdict"`
	Cases   []struct {
		ID      string `json:"id"`
		Verdict string `json:"verdict"`
		Metrics map[string]struct {
			Unit   string  `json:"unit"`
			Better string  `json:"better"`
			Count  int     `json:"count"`
			Mean   float64 `json:"mean"`
			P50    float64 `json:"p50"`
			P99    float64 `json:"p99"`
			Value  float64 `json:"value"`
		} `json:"metrics"`
		Checks []struct {
			Kind    string  `json:"kind"`
			Metric  string  `json:"metric"`
			Verdict string  `json:"verdict"`
			Value   float64 `json:"value"`
			Base    float64 `json:"baseline"`
		} `json:"checks"`
	} `json:"cases"`
}

// TestChromaEndToEnd is issue 12's "done when": a real Chroma started by
// benchrun, 20,000 vectors of dimension 128 loaded, queries at two
// concurrency levels with and without a where filter, a mixed run; insert
// rate, QPS, latency percentiles and recall@10 reported, recall judged
// against benchrun's brute force (cached by dataset hash); then the run is
// promoted as the baseline and a second run is compared with it.
func TestChromaEndToEnd(t *testing.T) {
	needChroma(t)
	if testing.Short() {
		t.Skip("-short: a real Chroma run takes ~30s")
	}
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "chroma-20k.toml"))
	if err != nil {
		t.Fatal(err)
	}
	suite := filepath.Join(dir, "chroma.toml")
	os.WriteFile(suite, b, 0o644)
	os.Mkdir(filepath.Join(dir, "baselines"), 0o755)
	cache := filepath.Join(dir, "cache")
	env := binEnv("BENCHRUN_CACHE=" + cache)

	r := runBin(t, dir, env, "--quiet", "suite", "-o", "run1", suite)
	if r.code != 0 {
		t.Fatalf("first run: exit %d\n%v", r.code, r)
	}
	var sum chromaSummary
	readJSON(t, filepath.Join(dir, "run1", "summary.json"), &sum)
	byID := map[string]int{}
	for i, c := range sum.Cases {
		byID[c.ID] = i
	}
	load := sum.Cases[byID["load"]].Metrics
	if load["collection_count"].Mean != 20000 || load["insert_vectors_per_second"].Mean <= 0 || load["insert_vectors_per_second"].Unit != "ops/s" ||
		load["load_duration"].Mean <= 0 || load["time_to_queryable"].Count != 1 || load["e2e"].Count != 10 {
		t.Errorf("load metrics: %+v", load)
	}
	// 20,000 vectors of 128 float32 are 10 MB before any index: a
	// benchrun-started service's data directory holds at least that.
	if st := load["storage_bytes"]; st.Unit != "bytes" || st.Mean < 20000*128*4 {
		t.Errorf("storage_bytes %+v: want at least the raw vectors, in bytes", st)
	}
	for _, id := range []string{"query/filter=,users=1", "query/filter=,users=4", "query/filter=category,users=1", "query/filter=category,users=4", "mixed"} {
		i, ok := byID[id]
		if !ok {
			t.Fatalf("no case %s in %v", id, byID)
		}
		m := sum.Cases[i].Metrics
		rec := m["recall_at_10"]
		if rec.Count != 150 || rec.Mean < 0.5 || rec.Mean > 1 || rec.Unit != "ratio" || rec.Better != "higher" {
			t.Errorf("%s: recall_at_10 %+v", id, rec)
		}
		if m["requests_per_second"].Value <= 0 || m["e2e"].Count != 150 || m["e2e"].P99 < m["e2e"].P50 {
			t.Errorf("%s: qps %+v, e2e %+v", id, m["requests_per_second"], m["e2e"])
		}
	}
	if up := sum.Cases[byID["mixed"]].Metrics["upsert_latency"]; up.Count < 2 {
		t.Errorf("mixed: %d upserts beside the queries", up.Count)
	}
	// Recall was judged against ground truth benchrun computed by brute
	// force and cached by the dataset's hash: one file per filter.
	cached, _ := filepath.Glob(filepath.Join(cache, "groundtruth", "*-l2-k10*.ivecs"))
	if len(cached) != 2 {
		t.Errorf("ground truth cache: %v, want the unfiltered and the category-filtered truth", cached)
	}
	var man struct {
		Cases []struct {
			ID       string            `json:"id"`
			Settings map[string]string `json:"settings"`
		} `json:"cases"`
	}
	readJSON(t, filepath.Join(dir, "run1", "manifest.json"), &man)
	if v := man.Cases[0].Settings["server_version"]; v == "" {
		t.Errorf("no server version in the manifest: %+v", man.Cases[0].Settings)
	}
	var fp struct {
		Cases []struct {
			Fingerprint map[string]string `json:"fingerprint"`
		} `json:"cases"`
	}
	readJSON(t, filepath.Join(dir, "run1", "summary.json"), &fp)
	if v := fp.Cases[0].Fingerprint["server_version"]; v != man.Cases[0].Settings["server_version"] {
		t.Errorf("fingerprint server_version %q, manifest %q", v, man.Cases[0].Settings["server_version"])
	}
	if _, err := os.Stat(filepath.Join(dir, "run1", "data", "chroma")); err != nil {
		t.Errorf("chroma's data is not under the results directory: %v", err)
	}

	if r := runBin(t, dir, env, "baseline", "promote", "--baselines", "baselines", "run1"); r.code != 0 {
		t.Fatalf("promote: %v", r)
	}
	r = runBin(t, dir, env, "--quiet", "suite", "-o", "run2", suite)
	if r.code != 0 {
		t.Fatalf("second run: exit %d\n%v", r.code, r)
	}
	var sum2 chromaSummary
	readJSON(t, filepath.Join(dir, "run2", "summary.json"), &sum2)
	compared := map[string]bool{}
	for _, c := range sum2.Cases {
		for _, ck := range c.Checks {
			if ck.Kind == "regression" && (ck.Base != 0 || ck.Metric == "error_rate") {
				compared[strings.SplitN(ck.Metric, ".", 2)[0]] = true
			}
		}
	}
	for _, m := range []string{"recall_at_10", "requests_per_second", "e2e", "insert_vectors_per_second", "load_duration", "time_to_queryable", "upsert_latency", "error_rate"} {
		if !compared[m] {
			t.Errorf("second run: %s not compared with the baseline (compared: %v)", m, compared)
		}
	}
	if t.Failed() {
		b, _ := json.MarshalIndent(sum2, "", " ")
		t.Logf("second summary: %s", b)
	}
}

// TestChromaNotInstalled: examples/chroma.toml on a machine without
// chroma says how to install it, and its cases are errors (exit 2), never
// a pass.
func TestChromaNotInstalled(t *testing.T) {
	dir := t.TempDir()
	var env []string
	for _, kv := range binEnv() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PATH="+dir) // nothing to find
	r := runBin(t, dir, env, "--quiet", "suite", "-o", "out", filepath.Join(mustAbs(t, "../examples"), "chroma.toml"))
	if r.code != ExitError || !strings.Contains(r.stderr+r.stdout, "chroma is not installed; install it with: npm install -g chromadb@3.0.11 chromadb-js-bindings-linux-x64-gnu@1.0.5") {
		t.Fatalf("exit %d\n%v", r.code, r)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// testSlurmChroma (TestSlurm): a real Chroma as a service step on node1,
// its data under the results directory, the load and query cases run once
// from the batch process (one samples file each), passing.
func testSlurmChroma(t *testing.T) {
	if _, err := exec.LookPath("chroma"); err != nil {
		t.Fatal("chroma is not installed (.ci/deps.sh): the SLURM chroma test needs it on the nodes")
	}
	code, out, dir := submitSuite(t, "chroma.toml", nil)
	if code != ExitOK {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	m := readManifestT(t, dir)
	if len(m.Services) != 1 || m.Services[0].Node != "node1" || m.Services[0].URL != "http://node1:8000" {
		t.Errorf("services = %+v, want chroma on node1", m.Services)
	}
	if fi, err := os.Stat(filepath.Join(dir, "data", "chroma")); err != nil || !fi.IsDir() {
		t.Errorf("no chroma data under the results directory: %v", err)
	}
	for _, c := range m.Cases {
		files, _ := filepath.Glob(filepath.Join(dir, "samples", results.CaseFileName(c.ID), "*.jsonl"))
		if c.Status != results.StatusDone || len(files) != 1 {
			t.Errorf("case %s: %s (%s), samples files %v: want done, one file", c.ID, c.Status, c.Error, files)
		}
	}
	var sum struct{ Verdict string }
	b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	json.Unmarshal(b, &sum)
	if sum.Verdict != "pass" {
		t.Errorf("verdict %q, want pass\n%s", sum.Verdict, out)
	}
}
