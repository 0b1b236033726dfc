package report

import (
	"cmp"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/benchrun/benchrun/analysis"
)

// echartsJS is Apache ECharts 5.4.3 (the version go-echarts v2.6.7
// targets), from the npm package; its LICENSE and NOTICE sit beside it in
// assets/. It is inlined into every report so the page needs no network.
//
//go:embed assets/echarts.min.js
var echartsJS string

//go:embed page.html.tmpl
var pageTemplate string

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"verdictClass": verdictClass,
	"verdictText":  verdictText,
}).Parse(pageTemplate))

// metricLegend is the short form of the definitions in docs/metrics
// (REFERENCE §1) printed under every HTML report.
var metricLegend = [][2]string{
	{"ttft", "time to first token: from the request's scheduled send time to the first chunk carrying content, reasoning or a tool-call delta (role-only, empty, usage-only chunks and SSE comments are not tokens)"},
	{"ttfb", "time to the first response byte"},
	{"itl", "inter-token latency: every gap between consecutive token-bearing chunks, pooled over requests (a chunk's gap is divided by the tokens it carries)"},
	{"tpot", "time per output token of one request: (e2e − ttft) / (output_tokens − 1), for output_tokens > 1"},
	{"e2e", "from the scheduled send time to the last token-bearing chunk (usage chunk and [DONE] excluded); for non-streaming operations, to completion"},
	{"queue_delay", "actual send − scheduled send: client lag, plus in open loop with max_concurrency the wait for a free slot (server backpressure)"},
	{"output_tokens", "usage.completion_tokens (Ollama eval_count) when the server reports it, else the number of token-bearing chunks"},
	{"requests_per_second, output_tokens_per_second, total_tokens_per_second", "completed requests, output tokens, input+output tokens per second of the measured window (first scheduled send after warm-up to last completion)"},
	{"error_rate", "failed operations / all operations in the measured window (0–1)"},
	{"goodput", "requests per second that met every SLO given (ttft, tpot, e2e)"},
	{"percentiles", "one definition everywhere: linear interpolation between closest ranks (numpy's default); n is shown beside them. Latencies are measured from the scheduled time, so coordinated omission does not hide queueing."},
}

type kv struct{ Key, Value string }

type overviewRow struct {
	ID, Anchor, Verdict string
	Notes               []int
	Key                 []string
	Checks              string
	Worst               string
	Labels              string // saturation labels, "saturated (rate), backpressure (slot_wait)"
	Other               string // headline numbers of a case none of the key columns fits (otherNumbers)
}

type htmlRow struct {
	Case, Metric, Value, Reference, Delta, Verdict string
	Why                                            string // the details row: p-value, samples, CI, reason
	Class                                          string
	Notes                                          []int
	First                                          bool
}

type errorRow struct {
	Case, Class, Example string
	Count                int
}

type serverRow struct {
	Case, Key, Mean, P50, P95 string
	N                         int
}

type htmlBenchmark struct {
	Name, Anchor string
	Rows         []htmlRow
	Charts       []*chartSpec
	Errors       []errorRow
	Server       []serverRow
	Telemetry    []*telemetryTable // server side, GPUs (analysis.Telemetry)
	Missing      []string          // cases whose samples file is absent or unreadable
}

type htmlPage struct {
	Suite, Verdict, VerdictLine string
	HeadClass                   string // the headline's class (runHeadline); Verdict is its word
	Incomparable                string // "1 incomparable baseline", "" when none
	Incomplete                  bool
	Reason                      string
	Env, Fingerprint            []kv
	KeyHeads                    []string
	HasLabels                   bool // a case has saturation labels: the overview gets a labels column
	HasOther                    bool // a case has headline numbers outside the key columns
	Cases                       []overviewRow
	Benchmarks                  []htmlBenchmark
	Notes                       []footnote
	Legend                      []kv
	ECharts                     template.JS
	Charts                      template.JS
	IO500                       template.HTML // the IO500 section (io500.go), "" without io500 cases
	CIJob                       string        // the CI job that made the run (manifest ci.job_url), "" outside CI
	Description                 string        // [suite] description
	Baseline, BaselineJob       string        // what the run was compared with (baselineLine); its CI job
	Links                       []link        // files of the results directory (links)
}

func verdictClass(v string) string {
	switch v {
	case analysis.Pass, analysis.Improvement:
		return "ok"
	case analysis.Fail, analysis.Regression:
		return "bad"
	case analysis.Error, analysis.Incomparable:
		return "warn"
	}
	return "neutral"
}

// keyHeadline lists the overview's key-number columns.
var keyHeadline = []struct{ metric, stat, head string }{
	{"ttft", "p95", "ttft p95"}, {"e2e", "p95", "e2e p95"},
	{"output_tokens_per_second", "value", "output tok/s"}, {"requests_per_second", "value", "req/s"},
	{"error_rate", "value", "errors"},
}

// WriteHTML writes report.html: one self-contained page (ECharts inlined,
// no network) with the overview (suite, verdict, incomplete banner,
// environment, cases with verdicts and key numbers) and, per benchmark, its
// checks, charts drawn from the samples files under in.Dir (percentiles vs
// baseline, latency CDFs and histograms, time series, the sweep curve),
// server-reported timings when present, the errors seen, footnotes and the
// metric definitions. Every string from suites, servers and samples is
// escaped; chart ids are fixed, so equal inputs give equal bytes.
func WriteHTML(w io.Writer, in *Input) error {
	page, err := buildPage(in)
	if err != nil {
		return err
	}
	return pageTmpl.Execute(w, page)
}

func buildPage(in *Input) (*htmlPage, error) {
	s := in.Summary
	tm := buildTable(in)
	h := runHeadline(s)
	p := &htmlPage{Suite: s.Suite, Verdict: strings.ToLower(h.Word), HeadClass: h.Class,
		VerdictLine: VerdictLine(s), Notes: tm.notes, ECharts: template.JS(echartsJS)}
	if n := incomparableCases(s); n > 0 {
		p.Incomparable = plural(n, "incomparable baseline", "incomparable baselines")
	}
	var err error
	if p.IO500, err = io500HTML(in); err != nil {
		return nil, err
	}
	p.Incomplete, p.Reason = in.incomplete()
	if in.Manifest != nil && in.Manifest.CI != nil {
		p.CIJob = in.Manifest.CI.JobURL
	}
	if in.Manifest != nil {
		p.Description = in.Manifest.Description
	}
	p.Baseline, p.BaselineJob = in.baselineLine(), in.baselineJob()
	p.Links = in.links()
	for _, l := range metricLegend {
		p.Legend = append(p.Legend, kv{l[0], l[1]})
	}
	p.Env, p.Fingerprint = environment(in)

	var present []int
	for i, k := range keyHeadline {
		for _, c := range s.Cases {
			if _, ok := c.Metrics[k.metric]; ok && !batchCase(&c) {
				present = append(present, i)
				break
			}
		}
	}
	for _, i := range present {
		p.KeyHeads = append(p.KeyHeads, keyHeadline[i].head)
	}
	notesOf := map[string][]int{}
	for _, n := range tm.notes {
		notesOf[n.CaseID] = append(notesOf[n.CaseID], n.N)
	}

	var specs []*chartSpec
	for bi, bm := range tm.benchmarks {
		hb := htmlBenchmark{Name: bm.Name, Anchor: fmt.Sprintf("bench-%d", bi)}
		for _, c := range bm.Cases {
			p.Cases = append(p.Cases, overviewCase(c, hb.Anchor, notesOf[c.ID], present))
			p.HasLabels = p.HasLabels || len(c.Labels) > 0
			p.HasOther = p.HasOther || p.Cases[len(p.Cases)-1].Other != ""
		}
		prev := ""
		for _, r := range tm.rows[bm.Name] {
			// Badges carry the verdict by colour and word; emoji fonts are
			// not everywhere.
			_, word, _ := strings.Cut(r.verdict, " ")
			hr := htmlRow{Case: r.caseLabel, Metric: r.metric, Value: r.value, Reference: r.reference, Delta: r.delta, Verdict: word, Notes: r.notes, Why: r.why}
			hr.Class = verdictClassOfText(word)
			if r.caseID != prev {
				hr.First, prev = true, r.caseID
			}
			hb.Rows = append(hb.Rows, hr)
		}
		raws := map[string]*analysis.Raw{}
		for _, c := range bm.Cases {
			raw, problem := in.measured(c)
			if problem != "" {
				hb.Missing = append(hb.Missing, problem)
			}
			if raw == nil {
				continue
			}
			raws[c.ID] = raw
			for _, class := range slices.Sorted(maps.Keys(raw.Errors)) {
				e := raw.Errors[class]
				hb.Errors = append(hb.Errors, errorRow{Case: caseLabel(c), Class: class, Count: e.Count, Example: oneLine(e.Example, 300)})
			}
			for _, name := range slices.Sorted(maps.Keys(raw.Dists)) {
				key, ok := strings.CutPrefix(name, analysis.ServerPrefix)
				if !ok {
					continue
				}
				d, unit := raw.Dists[name], analysis.UnitOf(name)
				hb.Server = append(hb.Server, serverRow{Case: caseLabel(c), Key: key, N: d.Count(),
					Mean: analysis.FormatValue(d.Mean(), unit), P50: analysis.FormatValue(d.Percentile(50), unit), P95: analysis.FormatValue(d.Percentile(95), unit)})
			}
		}
		hb.Telemetry = telemetryTables(bm.Cases)
		hb.Charts = benchmarkCharts(bi, bm, raws)
		trends, left := trendCharts(func(k string) string { return fmt.Sprintf("b%d-%s", bi, k) }, bm)
		hb.Charts = append(hb.Charts, trends...)
		if left > 0 {
			hb.Missing = append(hb.Missing, fmt.Sprintf("trend charts of %d more statistics left out (%d drawn, those with change points first); report.md has every case's trend line", left, len(trends)))
		}
		specs = append(specs, hb.Charts...)
		p.Benchmarks = append(p.Benchmarks, hb)
	}
	b, err := json.Marshal(specs)
	if err != nil {
		return nil, err
	}
	p.Charts = template.JS(b)
	return p, nil
}

func verdictClassOfText(t string) string {
	for _, v := range []string{analysis.Pass, analysis.Fail, analysis.Regression, analysis.Improvement, analysis.Error, analysis.Incomparable} {
		if strings.HasSuffix(t, strings.ReplaceAll(v, "_", " ")) {
			return verdictClass(v)
		}
	}
	return "neutral"
}

// otherNumbers is the headline numbers (headlineMetrics) of a case that has
// none of the overview's key metrics (a Chroma, IO500 or batch case), so
// every case that ran shows numbers: "qps 1.2 kops/s, recall_at_10.mean
// 0.98"; "" for a case with a key metric or without metrics.
func otherNumbers(c *analysis.Case) string {
	for _, k := range keyHeadline {
		if _, ok := c.Metrics[k.metric]; ok && !batchCase(c) {
			return ""
		}
	}
	var parts []string
	for _, h := range headlineMetrics(c) {
		m := c.Metrics[h[0]]
		v, _ := m.Stat(h[1])
		parts = append(parts, checkLabel(analysis.Check{Metric: h[0], Stat: h[1]})+" "+analysis.FormatValue(v, m.Unit))
	}
	return strings.Join(parts, ", ")
}

func overviewCase(c *analysis.Case, anchor string, notes []int, present []int) overviewRow {
	r := overviewRow{ID: c.ID, Anchor: anchor, Verdict: shownVerdict(c), Notes: notes}
	for _, i := range present {
		k := keyHeadline[i]
		m, ok := c.Metrics[k.metric]
		if !ok || batchCase(c) { // a batch case's numbers are in Other
			r.Key = append(r.Key, "—")
			continue
		}
		v, _ := m.Stat(k.stat)
		r.Key = append(r.Key, analysis.FormatValue(v, m.Unit))
	}
	counts := map[string]int{} // by verdict
	worst := math.Inf(-1)
	for _, ch := range c.Checks {
		counts[ch.Verdict]++
		if ch.Kind != analysis.CheckRegression || ch.Verdict == analysis.NoBaseline || ch.Verdict == analysis.Incomparable {
			continue
		}
		// "Largest" means most for the worse: a throughput drop is as bad
		// as a latency rise.
		worse := ch.Delta
		if !c.Metrics[ch.Metric].Lower(ch.Metric) { // the direction the case declared, else by name
			worse = -ch.Delta
		}
		if ch.Verdict == analysis.Regression {
			worse += 1e6 // a real regression outranks any noise
		}
		if worse > worst {
			worst = worse
			r.Worst = checkLabel(ch) + " " + fmtDelta(ch.Delta)
		}
	}
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[v], strings.ReplaceAll(v, "_", " ")))
	}
	var labels []string
	for _, l := range c.Labels {
		labels = append(labels, fmt.Sprintf("%s (%s, %s)", l.Name, l.Test, labelVerdict(l)))
	}
	r.Labels = strings.Join(labels, ", ")
	r.Other = otherNumbers(c)
	r.Checks = strings.Join(parts, ", ")
	if r.Checks == "" {
		r.Checks = "no checks"
	}
	return r
}

// gpuInventoryText is one kind of GPU of a host, as the environment
// shows it: "4 × NVIDIA A100-SXM4-40GB, driver 535.104.05".
func gpuInventoryText(g analysis.GPUInventory) string {
	d := fmt.Sprintf("%d × %s", g.Count, cmp.Or(g.Model, "unknown model"))
	if g.Driver != "" {
		d += ", driver " + g.Driver
	}
	return d
}

// serviceGPUsText is what nvidia-smi in a service's step listed, as the
// environment shows it: "1 × NVIDIA H100 80GB HBM3, driver 550.54.15", or
// "unknown (nvidia-smi exited 9)".
func serviceGPUsText(sg analysis.ServiceGPUs) string {
	if len(sg.GPUs) == 0 {
		return "unknown (" + cmp.Or(sg.Unknown, "no reason recorded") + ")"
	}
	parts := make([]string, len(sg.GPUs))
	for i, g := range sg.GPUs {
		parts[i] = gpuInventoryText(g)
	}
	return strings.Join(parts, "; ")
}

// environment is the environment section's rows (what ran where, with
// what: benchrun, the suite, the SLURM job, the services and their
// versions, the benchrun host's CPU, kernel and GPUs, the service nodes'
// GPUs the DCGM exporter labels name, each service step's GPUs as
// nvidia-smi in the step listed them) and the fingerprint's; each GPU row
// names its source.
func environment(in *Input) (env, fp []kv) {
	m := in.Manifest
	if m == nil {
		return nil, nil
	}
	add := func(k, v string) {
		if v != "" {
			env = append(env, kv{k, v})
		}
	}
	v := m.BenchrunVersion
	if m.BenchrunCommit != "" {
		v += " (" + m.BenchrunCommit + ")"
	}
	add("benchrun", v)
	add("suite file", m.SuiteFile)
	add("suite sha256", m.SuiteSHA256)
	add("host", m.Host)
	if ci := m.CI; ci != nil {
		add("CI pipeline", ci.PipelineID)
		add("CI commit", ci.CommitSHA)
	}
	if sl := m.Slurm; sl != nil {
		job := sl.JobID
		if sl.Partition != "" {
			job += " (partition " + sl.Partition + ")"
		}
		if sl.State != "" {
			job += ", " + sl.State
		}
		add("SLURM job", job)
		add("nodes", strings.Join(sl.Nodes, ", "))
	}
	if !m.Start.IsZero() {
		add("start", m.Start.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	if !m.End.IsZero() {
		add("end", m.End.UTC().Format("2006-01-02 15:04:05 UTC"))
		if !m.Start.IsZero() {
			add("duration", m.End.Sub(m.Start).Round(1e9).String())
		}
	}
	for _, s := range m.Services {
		d := s.Kind
		if s.Version != "" {
			d += " " + s.Version
		}
		d += " at " + s.URL
		if s.Node != "" {
			d += " on " + s.Node
		}
		if s.External {
			d += " (external)"
		}
		add("service "+s.Name, d)
	}
	if e := m.Environment; e != nil {
		cpu := e["cpu"]
		if e["cpus"] != "" {
			cpu = strings.TrimSpace(cpu + " × " + e["cpus"] + " (" + e["arch"] + ")")
		}
		add("CPU (benchrun host)", cpu)
		add("kernel", e["kernel"])
		gpu := e["gpu"]
		if gpu != "" && e["gpu_driver"] != "" {
			gpu += ", driver " + e["gpu_driver"]
		}
		add("GPU (benchrun host)", gpu)
	}
	for _, g := range in.Summary.GPUs {
		add("GPUs on "+cmp.Or(g.Host, "an unnamed host")+" (DCGM)", gpuInventoryText(g))
	}
	for _, sg := range in.Summary.ServiceGPUs {
		add("GPUs of "+sg.Service+" on "+cmp.Or(sg.Node, "its node")+" (nvidia-smi in the step)", serviceGPUsText(sg))
	}
	for _, k := range slices.Sorted(maps.Keys(m.Fingerprint)) {
		fp = append(fp, kv{k, m.Fingerprint[k]})
	}
	return env, fp
}
