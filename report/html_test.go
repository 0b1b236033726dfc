package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
)

func renderHTML(t testing.TB, in *Input) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var (
	chartDivRE = regexp.MustCompile(`<div class="chart" id="([^"]+)"`)
	scriptRE   = regexp.MustCompile(`(?is)<script\b[^>]*>`)
	specsRE    = regexp.MustCompile(`var specs = (\[.*\]);\n`)
)

func TestHTMLStructure(t *testing.T) {
	page := renderHTML(t, load(t, "nightly"))
	s := string(page)
	if !bytes.Equal(page, renderHTML(t, load(t, "nightly"))) {
		t.Error("two renders of the same input differ")
	}
	// Self-contained: ECharts inlined, nothing loaded from anywhere.
	if !strings.Contains(s, echartsJS) {
		t.Error("echarts.min.js is not inlined")
	}
	for _, bad := range []string{`src="http`, `src='http`, `<link `, "@import"} {
		if strings.Contains(s, bad) {
			t.Errorf("page references something external: %q", bad)
		}
	}
	// Links the reader follows (the CI jobs) are anchors; nothing else
	// may name an http URL in an attribute.
	if n, a := strings.Count(s, `href="http`), strings.Count(s, `<a href="http`); n != a {
		t.Errorf("%d http hrefs, only %d of them links", n, a)
	}
	for _, tag := range scriptRE.FindAllString(s, -1) {
		if strings.Contains(tag, "src") {
			t.Errorf("script with src: %s", tag)
		}
	}
	// Fixed chart ids, one element per chart option, and the expected charts.
	var ids []string
	for _, m := range chartDivRE.FindAllStringSubmatch(s, -1) {
		ids = append(ids, m[1])
	}
	m := specsRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatal("no chart options in the page")
	}
	var specs []struct {
		ID     string          `json:"id"`
		Option json.RawMessage `json:"option"`
	}
	if err := json.Unmarshal([]byte(m[1]), &specs); err != nil {
		t.Fatal(err)
	}
	if len(specs) != len(ids) {
		t.Fatalf("%d chart elements, %d chart options", len(ids), len(specs))
	}
	for i := range specs {
		if specs[i].ID != ids[i] {
			t.Errorf("chart %d: element %q, option %q", i, ids[i], specs[i].ID)
		}
	}
	for _, want := range []string{"b0-sweep", "b0-sweep-ttft", "b0-sweep-itl", "b0-pct-ttft", "b0-pct-e2e", "b0-cdf-ttft", "b0-cdf-e2e", "b0-hist-ttft", "b0-hist-itl",
		"b0-ts-tokens", "b0-ts-requests", "b0-ts-p50", "b0-ts-inflight", "b1-ts-errors", "b0-timeline-0", "b0-timeline-1"} {
		if !strings.Contains(s, `id="`+want+`"`) {
			t.Errorf("no chart %s", want)
		}
	}
	// Overview, banner, environment, footnotes, legend, server timings.
	for _, want := range []string{`id="verdict">fail<`, `id="incomplete"`, "TIMEOUT", "4242", "node1, node2", "0.3.0 (abc1234)",
		`id="note-1"`, "queue_delay p99 12ms", "Metric definitions", "linear interpolation", "load_duration",
		"503 Service Unavailable", "chat/users=16",
		`id="description">Chat and embedding latency of nightly`,
		`id="baseline">Baseline: baselines/nightly.json, promoted 2025-03-01T07:12:40Z, from the run started 2025-02-28T01:30:00Z, benchrun 0123456789ab, SLURM job 4100, commit fedcba987654 (main); 3 entries compared.`,
		`Baseline CI job: <a href="https://gitlab.example/hpc/bench/-/jobs/977">`,
		`<tr class="why"><td></td><td colspan="5" class="muted">p = 0.0004; n = 295</td></tr>`,
		`<li>log of service llm: <a href="logs/llm.log">logs/llm.log</a></li>`,
		`<li>samples of chat/users=8: <a href="samples/chat%252Fusers=8.jsonl">samples/chat%2Fusers=8.jsonl</a>`, `<a href="manifest.json">`, `<h2 id="environment">`,
		"<dt>CPU (benchrun host)</dt><dd>AMD EPYC 7H12 64-Core Processor × 128 (amd64)</dd>", "<dt>kernel</dt><dd>4.18.0-513.el8.x86_64</dd>",
		"<dt>GPU (benchrun host)</dt><dd>NVIDIA A100-SXM4-40GB, NVIDIA A100-SXM4-40GB, driver 535.104.05</dd>",
		"<dt>GPUs on node1 (DCGM)</dt><dd>4 × NVIDIA A100-SXM4-40GB, driver 535.104.05</dd>",
		"<dt>GPUs of llm on node1 (nvidia-smi in the step)</dt><dd>1 × NVIDIA A100-SXM4-40GB, driver 535.104.05</dd>"} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestHTMLHostile renders a suite and a server whose every string is
// hostile: nothing may come out as markup or break out of a script.
func TestHTMLHostile(t *testing.T) {
	s := string(renderHTML(t, load(t, "hostile")))
	if n := len(scriptRE.FindAllString(s, -1)); n != 3 {
		t.Errorf("%d <script> elements, want the page's own 3", n)
	}
	for _, bad := range []string{"<script>alert", "<img src=x", "alert(1)</script>", "<b>\"x\"</b>", "onerror=alert(\"x\")>"} {
		if strings.Contains(s, bad) {
			t.Errorf("hostile string came out raw: %q", bad)
		}
	}
	// The strings are there, escaped, in text and in chart data.
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", `\u003cimg src=x onerror=alert(\"x\")\u003e`, `$(rm -rf ~)`} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks escaped %q", want)
		}
	}
	// The chart data parses as JSON: no string closed the script early.
	m := specsRE.FindStringSubmatch(s)
	if m == nil || !json.Valid([]byte(m[1])) {
		t.Error("chart options are not valid JSON")
	}
}

// TestHTMLBrowser loads the reports in headless chromium through
// testdata/browser-test.sh: no JavaScript errors, a canvas in every chart.
func TestHTMLBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	if _, err := exec.LookPath("chromium"); err != nil {
		skipOrFail(t, "chromium not installed (apt-get install -y chromium): browser test not run")
	}
	script, _ := filepath.Abs("testdata/browser-test.sh")
	var wg sync.WaitGroup
	for _, fixture := range []string{"nightly", "hostile"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "report.html")
		if err := os.WriteFile(path, renderHTML(t, load(t, fixture)), 0o644); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := exec.Command("sh", script, path, filepath.Join(dir, "shot.png")).CombinedOutput()
			if err != nil {
				t.Errorf("%s: %v\n%s", fixture, err, out)
			}
		}()
	}
	wg.Wait()
}

// writeLarge writes a results directory of n cases in one sweep.
func writeLarge(t testing.TB, dir string, n int) {
	cases := make([]fixtureCase, n)
	for i := range cases {
		cases[i] = fixtureCase{bench: fmt.Sprintf("b%d", i%4), params: fmt.Sprintf("users=%d", i+1), kind: "llm", users: 1 + i%16,
			requests: 300, ttft: 0.05 + 0.001*float64(i), errEvery: 50, errDetail: "503"}
	}
	writeFixture(t, dir, "large", false, cases, func(i int, ms map[string]analysis.Metric) []analysis.Check {
		return []analysis.Check{threshold(ms, "ttft", "p95", "<", 0.5, analysis.Pass), regression(ms, "ttft", "p95", 0.01, 0.1, 0.5, analysis.Inconclusive)}
	})
}

// TestHTMLSize100Cases: a 100-case report stays under 5 MB.
func TestHTMLSize100Cases(t *testing.T) {
	dir := t.TempDir()
	writeLarge(t, dir, 100)
	in, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(renderHTML(t, in)); n > 5<<20 {
		t.Errorf("100-case report is %d bytes, over 5 MB", n)
	}
}

func BenchmarkWriteHTML100Cases(b *testing.B) {
	dir := b.TempDir()
	writeLarge(b, dir, 100)
	in, err := Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteHTML(&buf, in); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "bytes/report")
	b.ReportMetric(float64(size)/(5<<20)*100, "%of5MB")
}

// TestHTMLDrawsAnalysis: the page shows what analysis measured, by its
// rules: an operation canceled by benchrun is not an error (the old report
// counted it in the errors table and errors/s), and the samples of a SLURM
// case, a directory of per-worker files, are drawn like a single file.
func TestHTMLDrawsAnalysis(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir, "canceled", false, []fixtureCase{{bench: "chat", params: "users=2", kind: "llm", users: 2,
		requests: 60, ttft: 0.05, errEvery: 20, errDetail: "503 busy"}}, nil)
	path := filepath.Join(dir, results.SamplePath("chat/users=2"))
	if err := os.Mkdir(path+".d", 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := results.CreateSampleFile(filepath.Join(path+".d", "node2-0.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	err = results.ReadSampleFile(path, func(s *results.Sample) error { return w.Write(s) })
	if err != nil {
		t.Fatal(err)
	}
	canceled := results.Sample{Seq: 99, Scheduled: 40 * time.Second, Sent: 40 * time.Second, Done: 41 * time.Second,
		Error: results.ErrCanceled, ErrorDetail: "stop condition"}
	if err := w.Write(&canceled); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".d", path); err != nil {
		t.Fatal(err)
	}
	in, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := string(renderHTML(t, in))
	for _, want := range []string{"http_5xx", "503 busy", `id="b0-cdf-ttft"`, `id="b0-ts-errors"`} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"stop condition", ">canceled<", "no samples file"} {
		if strings.Contains(s, bad) {
			t.Errorf("page shows %q", bad)
		}
	}
}

// TestHTMLWorstChangeUsesDeclaredDirection: the overview's largest change
// for the worse follows the direction a case declared for its metric
// (Metric.Better), not only the rule by name: a declared lower-is-better
// size growing by 30% is worse than a throughput falling by 10%.
func TestHTMLWorstChangeUsesDeclaredDirection(t *testing.T) {
	c := &analysis.Case{ID: "index",
		Metrics: map[string]analysis.Metric{
			"index_bytes": {Kind: analysis.KindRate, Unit: analysis.UnitBytes, Value: 1.3e9, Better: results.LowerIsBetter},
			"throughput":  {Kind: analysis.KindRate, Unit: analysis.UnitRequestsPerSecond, Value: 90},
		},
		Checks: []analysis.Check{
			{Kind: analysis.CheckRegression, Metric: "index_bytes", Stat: "value", Verdict: analysis.Inconclusive, Delta: 0.3},
			{Kind: analysis.CheckRegression, Metric: "throughput", Stat: "value", Verdict: analysis.Inconclusive, Delta: -0.1},
		}}
	if got := overviewCase(c, "", nil, nil).Worst; got != "index_bytes +30.0%" {
		t.Errorf("worst change %q, want %q", got, "index_bytes +30.0%")
	}
}

// TestServiceGPUsText: the step's GPUs by model and driver, or unknown
// with the reason — never a model the record did not name.
func TestServiceGPUsText(t *testing.T) {
	cases := []struct {
		sg   analysis.ServiceGPUs
		want string
	}{
		{analysis.ServiceGPUs{GPUs: []analysis.GPUInventory{{Model: "NVIDIA H100 80GB HBM3", Driver: "550.54.15", Count: 1}}},
			"1 × NVIDIA H100 80GB HBM3, driver 550.54.15"},
		{analysis.ServiceGPUs{GPUs: []analysis.GPUInventory{{Model: "A", Driver: "1.2", Count: 2}, {Model: "B", Driver: "1.2", Count: 1}}},
			"2 × A, driver 1.2; 1 × B, driver 1.2"},
		{analysis.ServiceGPUs{Unknown: "nvidia-smi exited 9"}, "unknown (nvidia-smi exited 9)"},
		{analysis.ServiceGPUs{}, "unknown (no reason recorded)"},
	}
	for _, c := range cases {
		if got := serviceGPUsText(c.sg); got != c.want {
			t.Errorf("%+v: %q, want %q", c.sg, got, c.want)
		}
	}
}
