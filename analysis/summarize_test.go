package analysis

import (
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

const ms = time.Millisecond

func writeSamples(t *testing.T, dir, name string, ss []results.Sample) string {
	t.Helper()
	p := filepath.Join(dir, name)
	w, err := results.CreateSampleFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ss {
		if err := w.Write(&ss[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// okSample is a streamed request scheduled at sched with the given ttft,
// out output tokens 10ms apart and completion 5ms after the last token.
func okSample(rep int, sched, ttft time.Duration, out int) results.Sample {
	s := results.Sample{Rep: rep, Scheduled: sched, Sent: sched + ms, FirstByte: sched + ttft - ms,
		FirstToken: sched + ttft, InputTokens: 100, OutputTokens: out}
	s.LastToken = s.FirstToken + time.Duration(out-1)*10*ms
	s.Done = s.LastToken + 5*ms
	for range out - 1 {
		s.ITL = append(s.ITL, 10*ms)
	}
	return s
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestSummarizeCaseMetrics(t *testing.T) {
	dir := t.TempDir()
	warm := okSample(0, 0, 5*time.Second, 11)
	warm.Warmup = true
	s := []results.Sample{
		okSample(0, 0, 100*ms, 11), okSample(0, 1000*ms, 200*ms, 11),
		okSample(0, 2000*ms, 300*ms, 11), okSample(0, 3000*ms, 400*ms, 11),
		{Scheduled: 4000 * ms, Sent: 4001 * ms, Done: 4500 * ms, Error: results.ErrHTTP5xx, Status: 503, ErrorDetail: "503 busy"},
		{Scheduled: 4100 * ms, Sent: 4101 * ms, Done: 9000 * ms, Error: results.ErrCanceled},
	}
	for i, r := range []float64{0.9, 1, 0.8, 1} {
		s[i].Values = map[string]float64{"recall_at_10": r}
		s[i].Server = map[string]float64{"load_duration": 0.001 * float64(i)}
	}
	f1 := writeSamples(t, dir, "a.jsonl", append([]results.Sample{warm}, s[:2]...))
	f2 := writeSamples(t, dir, "b.jsonl", s[2:])
	info := results.CaseInfo{ID: "chat/users=1", Benchmark: "chat", Kind: "llm", Status: "done", Repetitions: 1,
		Start: time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))}
	c, raw, err := SummarizeCase(info, []string{f1, f2}, Options{SLO: map[string]float64{"ttft": 0.25}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Start != "2025-01-02T02:04:05Z" {
		t.Errorf("Start = %q", c.Start)
	}
	if !near(c.Seconds, 4.5) {
		t.Errorf("Seconds = %v, want 4.5 (first schedule 0 to last completion 4.5s)", c.Seconds)
	}
	dist := []struct {
		name string
		unit string
		n    int
		p50  float64
		mean float64
	}{
		{"ttft", "s", 4, 0.25, 0.25},
		{"ttfb", "s", 4, 0.249, 0.249},
		{"e2e", "s", 4, 0.35, 0.35},
		{"tpot", "s", 4, 0.010, 0.010},
		{"itl", "s", 40, 0.010, 0.010},
		{"queue_delay", "s", 5, 0.001, 0.001},
		{"output_tokens", "tokens", 4, 11, 11},
		{"input_tokens", "tokens", 4, 100, 100},
		{"recall_at_10", "", 4, 0.95, 0.925},
		{"server_load_duration", "s", 4, 0.0015, 0.0015},
	}
	for _, d := range dist {
		m, ok := c.Metrics[d.name]
		if !ok {
			t.Errorf("no metric %s", d.name)
			continue
		}
		if m.Kind != KindDistribution || m.Unit != d.unit || m.Count != d.n || !near(m.P50, d.p50) || !near(m.Mean, d.mean) {
			t.Errorf("%s = %+v; want unit %q n %d p50 %v mean %v", d.name, m, d.unit, d.n, d.p50, d.mean)
		}
	}
	rates := map[string]float64{
		"requests_per_second":      4 / 4.5,
		"output_tokens_per_second": 44 / 4.5,
		"total_tokens_per_second":  444 / 4.5,
		"error_rate":               0.2,
		"error_rate_http_5xx":      0.2,
		"goodput":                  2 / 4.5,
	}
	for name, want := range rates {
		m, ok := c.Metrics[name]
		if !ok || m.Kind != KindRate || !near(m.Value, want) {
			t.Errorf("%s = %+v, want value %v", name, m, want)
		}
	}
	if _, ok := c.Metrics["error_rate_canceled"]; ok {
		t.Error("canceled operations counted as errors")
	}
	if raw.Dists["ttft"].Count() != 4 || raw.Reps != nil {
		t.Errorf("raw: ttft n=%d, reps %v", raw.Dists["ttft"].Count(), raw.Reps)
	}
	// What reports draw comes from the same pass, by the same rules: the
	// canceled operation is neither an error class nor on the timeline.
	if want := map[string]ErrorClass{results.ErrHTTP5xx: {1, "503 busy"}}; !maps.Equal(raw.Errors, want) {
		t.Errorf("raw.Errors = %v, want %v", raw.Errors, want)
	}
	ts := raw.Timeline.Series(100)
	if !slices.Equal(ts.Completed, []float64{1, 1, 1, 1, 0}) || !slices.Equal(ts.Errors, []float64{0, 0, 0, 0, 1}) ||
		!slices.Equal(ts.OutputTokens, []float64{11, 11, 11, 11, 0}) || !slices.Equal(ts.InFlight, []float64{0, 0, 0, 1, 1}) {
		t.Errorf("timeline %+v", ts)
	}
	if !near(ts.LatencyP50[2], 0.4) || !math.IsNaN(ts.LatencyP50[4]) {
		t.Errorf("timeline p50 %v", ts.LatencyP50)
	}
	wantWarn := []string{"only 4 successful operations", "error rate 20%", "1 operations canceled"}
	if len(c.Warnings) != len(wantWarn) {
		t.Fatalf("warnings %q", c.Warnings)
	}
	for i, w := range wantWarn {
		if !strings.Contains(c.Warnings[i], w) {
			t.Errorf("warning %d = %q, want it to mention %q", i, c.Warnings[i], w)
		}
	}
	c.Rollup()
	if c.Verdict != Pass {
		t.Errorf("verdict %q", c.Verdict)
	}
}

func TestSummarizeCaseRepetitions(t *testing.T) {
	dir := t.TempDir()
	var s []results.Sample
	// Rep 0 over 1s, rep 1 over 2s (starting later), two requests each.
	s = append(s, okSample(0, 0, 100*ms, 2), okSample(0, 500*ms, 300*ms, 2))
	s[1].Done = 1000 * ms
	s = append(s, okSample(1, 10*time.Second, 200*ms, 2), okSample(1, 11*time.Second, 400*ms, 2))
	s[3].Done = 12 * time.Second
	f := writeSamples(t, dir, "c.jsonl", s)
	c, raw, err := SummarizeCase(results.CaseInfo{ID: "x", Status: "done", Repetitions: 2}, []string{f}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !near(c.Seconds, 3) {
		t.Errorf("Seconds = %v, want 1+2", c.Seconds)
	}
	rps := c.Metrics["requests_per_second"]
	if !near(rps.Value, 4.0/3) || len(rps.Reps) != 2 || !near(rps.Reps[0], 2) || !near(rps.Reps[1], 1) {
		t.Errorf("requests_per_second = %+v", rps)
	}
	ttft := c.Metrics["ttft"]
	// Per-repetition p50 from histograms: within 1%.
	if len(ttft.Reps) != 2 || relErr(ttft.Reps[0], 0.2) > RelativeError || relErr(ttft.Reps[1], 0.3) > RelativeError {
		t.Errorf("ttft reps = %v, want ~[0.2 0.3]", ttft.Reps)
	}
	if !slices.Equal(raw.RepIDs, []int{0, 1}) {
		t.Errorf("RepIDs = %v", raw.RepIDs)
	}
	if got := raw.RepStat("ttft", "mean"); len(got) != 2 || !near(got[0], 0.2) || !near(got[1], 0.3) {
		t.Errorf("RepStat(ttft, mean) = %v", got)
	}
	if raw.RepStat("ttft", "p97") != nil || raw.RepStat("nope", "p50") != nil {
		t.Error("RepStat of an unknown stat or metric is not nil")
	}
}

func TestSummarizeCaseWarnings(t *testing.T) {
	dir := t.TempDir()
	var s []results.Sample
	for i := range 200 {
		x := okSample(0, time.Duration(i)*100*ms, 100*ms, 3)
		x.Sent = x.Scheduled + 50*ms // the generator lags
		x.Values = map[string]float64{"num_requests_waiting": float64(i / 10)}
		if i == 7 {
			x.Server = map[string]float64{"cold_start": 1}
		}
		s = append(s, x)
	}
	f := writeSamples(t, dir, "w.jsonl", s)
	c, _, err := SummarizeCase(results.CaseInfo{ID: "w", Status: "done"}, []string{f}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"generator lag: queue_delay p99 50 ms beyond 10 ms", "cold start detected: 1", "server saturated: waiting queue grew from 2 to 17"}
	if len(c.Warnings) != len(want) {
		t.Fatalf("warnings %q", c.Warnings)
	}
	for i, w := range want {
		if !strings.HasPrefix(c.Warnings[i], w) {
			t.Errorf("warning %q, want prefix %q", c.Warnings[i], w)
		}
	}
	// The case's own lag limit applies when Options leave it unset.
	c, _, _ = SummarizeCase(results.CaseInfo{ID: "w", Status: "done", Load: &results.Load{LagLimit: 100 * ms}}, []string{f}, Options{})
	for _, w := range c.Warnings {
		if strings.HasPrefix(w, "generator lag") {
			t.Errorf("lag warning despite a 100ms limit: %q", w)
		}
	}
}

func TestQueueGrowth(t *testing.T) {
	pts := func(v ...float64) []seriesPoint {
		var p []seriesPoint
		for i, x := range v {
			p = append(p, seriesPoint{float64(len(v) - i), x}) // reversed times: must sort
		}
		return p
	}
	tests := []struct {
		name string
		p    []seriesPoint
		want bool
	}{
		{"steady", pts(5, 5, 5, 5, 5, 5, 5, 5), false},
		{"shrinking in time order", pts(9, 9, 8, 6, 5, 3, 1, 0), true},
		{"small absolute growth", pts(0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5), false},
		{"too few points", pts(0, 10), false},
	}
	for _, tt := range tests {
		if _, _, got := queueGrowth(tt.p); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSummarizeCaseStatuses(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.jsonl")
	c, _, err := SummarizeCase(results.CaseInfo{ID: "s", Status: "skipped"}, []string{missing}, Options{})
	if err != nil || c.Verdict != Skipped {
		t.Errorf("skipped: %v %q", err, c.Verdict)
	}
	c, _, err = SummarizeCase(results.CaseInfo{ID: "e", Status: "error", Error: "vllm did not become ready"}, []string{missing}, Options{})
	if err != nil || len(c.Errors) != 1 || c.Errors[0] != "vllm did not become ready" {
		t.Errorf("error case: %v %q", err, c.Errors)
	}
	c.Rollup()
	if c.Verdict != Error {
		t.Errorf("error case verdict %q", c.Verdict)
	}
	if _, _, err = SummarizeCase(results.CaseInfo{ID: "d", Status: "done"}, []string{missing}, Options{}); err == nil {
		t.Error("done case with a missing sample file: no error")
	}
	empty := writeSamples(t, t.TempDir(), "e.jsonl", nil)
	c, _, err = SummarizeCase(results.CaseInfo{ID: "d", Status: "done"}, []string{empty}, Options{})
	if err != nil || len(c.Errors) != 1 {
		t.Errorf("done case without samples: %v %q", err, c.Errors)
	}
	if _, _, err = SummarizeCase(results.CaseInfo{ID: "d", Status: "done", Settings: map[string]string{"slo_ttft": "5xs"}}, []string{empty}, Options{}); err == nil {
		t.Error("bad SLO setting accepted")
	}
}

func TestSummarizeCaseAllFailed(t *testing.T) {
	dir := t.TempDir()
	warm := okSample(0, 0, 100*ms, 3) // a successful warm-up does not count
	warm.Warmup = true
	s := []results.Sample{warm}
	for i := range 120 {
		sched := time.Duration(i) * 10 * ms
		class := results.ErrHTTP5xx
		if i%6 == 0 {
			class = results.ErrTimeout
		}
		s = append(s, results.Sample{Scheduled: sched, Sent: sched + ms, Done: sched + 5*ms, Error: class})
	}
	f := writeSamples(t, dir, "f.jsonl", s)
	c, _, err := SummarizeCase(results.CaseInfo{ID: "f", Status: "done"}, []string{f}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "all 120 measured operations failed (http_5xx: 100, timeout: 20)"
	if len(c.Errors) != 1 || c.Errors[0] != want {
		t.Errorf("errors %q, want [%q]", c.Errors, want)
	}
	if m := c.Metrics[MetricErrorRate]; m.Value != 1 || m.Count != 120 {
		t.Errorf("error_rate %+v, want 1 of 120", m)
	}
	c.Rollup()
	if c.Verdict != Error {
		t.Errorf("verdict %q, want error", c.Verdict)
	}
	// One success among the failures is not an error.
	ok := okSample(0, 2*time.Second, 100*ms, 3)
	f = writeSamples(t, dir, "g.jsonl", append(s, ok))
	c, _, err = SummarizeCase(results.CaseInfo{ID: "g", Status: "done"}, []string{f}, Options{})
	if err != nil || len(c.Errors) != 0 {
		t.Errorf("one success: %v %q", err, c.Errors)
	}
	// A case that already errored keeps its own error only.
	c, _, err = SummarizeCase(results.CaseInfo{ID: "e", Status: "error", Error: "server died"}, []string{writeSamples(t, dir, "e.jsonl", s)}, Options{})
	if err != nil || len(c.Errors) != 1 || c.Errors[0] != "server died" {
		t.Errorf("error case: %v %q", err, c.Errors)
	}
}

func TestSLOFromSettings(t *testing.T) {
	slo, err := sloTargets(Options{SLO: map[string]float64{"e2e": 2}},
		results.CaseInfo{Settings: map[string]string{"slo_ttft": "500ms", "slo_e2e": "9s", "other": "x"}})
	if err != nil || len(slo) != 2 || slo["ttft"] != 0.5 || slo["e2e"] != 2 {
		t.Errorf("sloTargets = %v, %v", slo, err)
	}
}

// TestSummarizeCaseUnfinished: operations cut off at the drain are counted
// in the error rate, and the case says its latency percentiles leave them
// out; without them there is no such warning.
func TestSummarizeCaseUnfinished(t *testing.T) {
	dir := t.TempDir()
	var s []results.Sample
	for i := range 8 {
		s = append(s, okSample(0, time.Duration(i)*100*ms, 100*ms, 3))
	}
	for i := range 2 {
		s = append(s, results.Sample{Seq: int64(8 + i), Scheduled: time.Duration(8+i) * 100 * ms, Done: 40 * time.Second,
			Error: results.ErrUnfinished, ErrorDetail: "still in flight when the 30s drain ended"})
	}
	c, _, err := SummarizeCase(results.CaseInfo{ID: "u", Status: "done"}, []string{writeSamples(t, dir, "u.jsonl", s)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if er := c.Metrics[MetricErrorRate].Value; !near(er, 0.2) {
		t.Errorf("error_rate %v, want 0.2 (2 unfinished of 10)", er)
	}
	if len(c.Warnings) == 0 || !strings.HasPrefix(c.Warnings[0], "2 of 10 measured operations (20%) were unfinished") {
		t.Errorf("warnings %q, want the unfinished note first", c.Warnings)
	}
	c, _, _ = SummarizeCase(results.CaseInfo{ID: "u", Status: "done"}, []string{writeSamples(t, dir, "v.jsonl", s[:8])}, Options{})
	for _, w := range c.Warnings {
		if strings.Contains(w, "unfinished") {
			t.Errorf("warning %q without unfinished operations", w)
		}
	}
}

// TestSummarizeCaseDeclaredMetrics: a metric the case declares in its
// manifest entry (results.CaseInfo.Metrics) gets that unit and direction,
// over the rules by name: "find_rate" would be a plain number of unknown
// direction, "write_seconds" lower-is-better by its suffix.
func TestSummarizeCaseDeclaredMetrics(t *testing.T) {
	s := okSample(0, 0, 100*ms, 3)
	s.Values = map[string]float64{"find_rate": 2500, "write_seconds": 30, "plain": 1}
	info := results.CaseInfo{ID: "d", Status: "done", Metrics: map[string]results.MetricSpec{
		"find_rate":     {Unit: UnitOpsPerSecond, Better: results.HigherIsBetter},
		"write_seconds": {Unit: UnitSeconds, Better: results.HigherIsBetter}, // declared against its suffix
	}}
	c, _, err := SummarizeCase(info, []string{writeSamples(t, t.TempDir(), "d.jsonl", []results.Sample{s})}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct {
		unit  string
		lower bool
	}{"find_rate": {UnitOpsPerSecond, false}, "write_seconds": {UnitSeconds, false}, "plain": {UnitNone, false}, "ttft": {UnitSeconds, true}} {
		m := c.Metrics[name]
		if m.Unit != want.unit || m.Lower(name) != want.lower {
			t.Errorf("%s: unit %q lower %v, want %q %v", name, m.Unit, m.Lower(name), want.unit, want.lower)
		}
	}
}

// A case whose samples are runs of a batch command (results.SettingSamples)
// has no footnote on too few operations for p99: that is about request
// latencies. The same samples without the setting have it.
func TestSummarizeCasePerRunSamples(t *testing.T) {
	s := okSample(0, 0, 100*ms, 0)
	s.Values = map[string]float64{"score": 7}
	files := []string{writeSamples(t, t.TempDir(), "b.jsonl", []results.Sample{s})}
	for _, c := range []struct {
		settings map[string]string
		footnote bool
	}{{nil, true}, {map[string]string{results.SettingSamples: results.SamplesRuns}, false}} {
		got, _, err := SummarizeCase(results.CaseInfo{ID: "b", Status: "done", Settings: c.settings}, files, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(strings.Join(got.Warnings, " "), "successful operations"); has != c.footnote {
			t.Errorf("settings %v: warnings %q, want the min-samples footnote: %v", c.settings, got.Warnings, c.footnote)
		}
	}
}

// TestSummarizeCaseSideOperations: a side operation (results.Sample.Op: a
// writer's upsert beside the queries, the check after a load) adds its
// Values, and its failure to the error rate, but never its latency, its
// count to the throughput, or its time to the measured window.
func TestSummarizeCaseSideOperations(t *testing.T) {
	q := func(sched time.Duration) results.Sample {
		return results.Sample{Scheduled: sched, Sent: sched, Done: sched + 10*ms, Values: map[string]float64{"recall_at_10": 0.9}}
	}
	ss := []results.Sample{q(0), q(500 * ms), q(1000 * ms)}
	ss = append(ss,
		results.Sample{Op: "upsert", Scheduled: 0, Sent: 900 * ms, Done: 5000 * ms, Values: map[string]float64{"upsert_latency": 5}},
		results.Sample{Op: "upsert", Scheduled: 100 * ms, Sent: 100 * ms, Done: 200 * ms, Error: results.ErrHTTP5xx, ErrorDetail: "500: boom"},
	)
	info := results.CaseInfo{ID: "m", Status: "done", Load: &results.Load{Mode: results.ModeClosed, Users: 1}}
	c, raw, err := SummarizeCase(info, []string{writeSamples(t, t.TempDir(), "m.jsonl", ss)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Metrics[MetricE2E]; m.Count != 3 || !near(m.Max, 0.010) {
		t.Errorf("e2e: count %d max %v, want the 3 queries of 10ms", m.Count, m.Max)
	}
	if m := c.Metrics["upsert_latency"]; m.Count != 1 || m.Mean != 5 {
		t.Errorf("upsert_latency: %+v", m)
	}
	if m := c.Metrics[MetricRequestsPerSecond]; !near(m.Value, 3/1.010) {
		t.Errorf("requests_per_second %v, want 3 queries over 1.01s", m.Value)
	}
	if m := c.Metrics[MetricErrorRate]; !near(m.Value, 0.25) {
		t.Errorf("error_rate %v, want the failed upsert among 4 counted operations", m.Value)
	}
	if raw.Errors[results.ErrHTTP5xx].Count != 1 {
		t.Errorf("error classes %+v", raw.Errors)
	}
	if m, ok := c.Metrics[MetricQueueDelay]; ok && m.Max > 0 {
		t.Errorf("queue_delay %+v: the writer's lag is not the queries'", m)
	}
	for _, w := range c.Warnings {
		if strings.Contains(w, "lag") {
			t.Errorf("warning %q: the writer's lag is not the query generator's", w)
		}
	}
	for _, l := range c.Labels {
		t.Errorf("label %+v: the writer's lag is not the query generator's", l)
	}
}
