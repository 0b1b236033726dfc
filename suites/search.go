package suites

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/benchrun/benchrun/analysis"
)

// Search is [benchmark.search]: find the highest load that meets the SLOs
// (docs/capacity.md). The benchmark's workload gives everything but the
// searched variable and the probe length; the search sets them per probe.
type Search struct {
	Variable   string   `toml:"variable" enum:"rate|users|speed" doc:"What the search varies: rate (open loop, requests/s), users (closed loop), or speed (a trace replay's pace: 2 replays the trace twice as fast as recorded)."`
	Min        float64  `toml:"min" doc:"Lowest load probed first; required."`
	Max        float64  `toml:"max" doc:"Highest load probed; required."`
	SLOs       []string `toml:"slos" doc:"Objectives every passing probe meets, as threshold expressions on percentiles or rates: \"ttft.p99 < 500ms\", \"error_rate < 1%\", \"recall_at_10.mean > 0.9\"."`
	Attainment Ratio    `toml:"attainment" doc:"Share of requests that must meet every [benchmark.slo] objective (goodput), e.g. 99%; 0 = not judged."`
	Precision  Ratio    `toml:"precision" doc:"The search ends when the lowest failing load is within this of the highest passing one; default 10%."`
	Requests   int      `toml:"requests" doc:"Measured requests of a first probe; default and floor 10/(1−p) for the highest percentile judged (1,000 for p99)."`
	Remeasure  int      `toml:"remeasure" doc:"Times a probe whose interval straddles an SLO is run again with twice the requests before it is indeterminate; default 1."`
	Budget     Duration `toml:"budget" doc:"Wall time after which no new probe starts; default 30m."`
}

// SearchSpec converts the validated table into analysis's form.
func (s *Search) SearchSpec() analysis.SearchSpec {
	ts, _ := analysis.ParseThresholds(s.SLOs) // validated at load
	return analysis.SearchSpec{Variable: s.Variable, Min: s.Min, Max: s.Max, SLOs: ts,
		Attainment: float64(s.Attainment), Precision: float64(s.Precision), Requests: s.Requests, Remeasure: s.Remeasure}
}

// validateSearch checks b.Search and fills in its defaults.
func (d *decoder) validateSearch(p []string, b *Benchmark) {
	s := b.Search
	if s == nil {
		return
	}
	p = child(p, "search")
	if s.Variable != "rate" && s.Variable != "users" && s.Variable != SearchSpeed {
		d.problem(child(p, "variable"), "benchmark %q: search.variable must be rate, users or speed", b.Name)
	}
	if !(s.Min > 0) || !(s.Max > s.Min) || math.IsInf(s.Max, 0) {
		d.problem(p, "benchmark %q: search needs 0 < min < max (got min %v, max %v)", b.Name, s.Min, s.Max)
	}
	if len(s.SLOs) == 0 && s.Attainment == 0 {
		d.problem(p, "benchmark %q: search needs slos or an attainment", b.Name)
	}
	if s.Attainment < 0 || s.Attainment >= 1 {
		d.problem(child(p, "attainment"), "benchmark %q: search.attainment must be in [0, 100%%)", b.Name)
	}
	if s.Attainment > 0 && b.SLO.TTFT == 0 && b.SLO.TPOT == 0 && b.SLO.E2E == 0 {
		d.problem(child(p, "attainment"), "benchmark %q: search.attainment needs [benchmark.slo] objectives", b.Name)
	}
	for j, expr := range s.SLOs {
		if _, err := analysis.ParseThreshold(expr); err != nil {
			d.problem(child(child(p, "slos"), strconv.Itoa(j)), "benchmark %q: %v", b.Name, err)
		}
	}
	// The case expands with the first probe's load; each probe sets its own.
	if b.Workload == nil {
		b.Workload = map[string]any{}
	}
	switch s.Variable {
	case "rate":
		b.Workload["mode"], b.Workload["rate"] = "open", s.Min
	case "users":
		b.Workload["mode"], b.Workload["users"] = "closed", int64(math.Max(1, math.Round(s.Min)))
	case SearchSpeed:
		d.validateSpeedSearch(p, b)
	}
	if s.Precision == 0 {
		s.Precision = 0.1
	}
	if s.Precision < 0 || s.Precision > 1 {
		d.problem(child(p, "precision"), "benchmark %q: search.precision must be in (0, 100%%]", b.Name)
	}
	if s.Remeasure == 0 {
		s.Remeasure = 1
	}
	if s.Budget == 0 {
		s.Budget = Duration(30 * 60 * 1e9)
	}
	if b.Repetitions > 1 {
		d.problem(child(p, "variable"), "benchmark %q: a search runs each probe once; repetitions must be 1", b.Name)
	}
	switch b.Kind {
	case "openai", "ollama", "":
	case "chroma":
		d.validateChromaSearch(p, b)
	default:
		d.problem(p, "benchmark %q: a search drives an LLM service (openai, ollama) or Chroma queries, not %s", b.Name, b.Kind)
	}
	if sweeps(b) {
		d.problem(p, "benchmark %q: a search benchmark cannot also sweep (give every workload and dataset key one value)", b.Name)
	}
}

// SearchSpeed is the search variable of a trace replay: the pace the
// trace is replayed at, in multiples of the recorded one (time_scale =
// 1/speed), so the capacity is how many times the recorded traffic the
// service carries within the SLOs.
const SearchSpeed = "speed"

// validateSpeedSearch checks a search over a trace replay's speed: trace
// arrivals (the trace itself is checked with the case, checkTrace), no
// time_scale of its own (the search sets it), and bounds a time_scale
// can take.
func (d *decoder) validateSpeedSearch(p []string, b *Benchmark) {
	s := b.Search
	if a, _ := b.Workload["arrival"].(string); a != "trace" {
		d.problem(child(p, "variable"), "benchmark %q: search.variable speed replays a trace: it needs arrival = \"trace\" and a trace dataset", b.Name)
	}
	if _, ok := b.Workload["time_scale"]; ok {
		d.problem(child(p, "variable"), "benchmark %q: a search over speed sets the replay's time_scale itself (1/speed): remove workload.time_scale", b.Name)
	}
	if s.Min < 1e-6 || s.Max > 1e6 {
		d.problem(p, "benchmark %q: a search over speed needs min ≥ 0.000001 and max ≤ 1000000 (as workload.time_scale), got min %v, max %v", b.Name, s.Min, s.Max)
		return
	}
	b.Workload["mode"], b.Workload["time_scale"] = "open", 1/s.Min
}

// validateChromaSearch checks what a search of Chroma queries needs: a
// query or mixed workload (a load inserts the dataset once: nothing to
// search), and an SLO that recall stays above a floor — a server that
// answers fast with the wrong neighbours must not set a capacity.
func (d *decoder) validateChromaSearch(p []string, b *Benchmark) {
	if w, _ := b.Workload["workload"].(string); w == ChromaLoad {
		d.problem(p, "benchmark %q: a search varies the query load; workload load inserts the dataset once (use query or mixed)", b.Name)
	}
	for _, expr := range b.Search.SLOs {
		t, err := analysis.ParseThreshold(expr)
		if err == nil && strings.HasPrefix(t.Metric, "recall_at_") && (t.Op == ">" || t.Op == ">=") {
			return
		}
	}
	d.problem(child(p, "slos"), "benchmark %q: a Chroma search needs an SLO on recall (e.g. \"recall_at_10.mean > 0.9\"): without one, fast wrong answers would set the capacity", b.Name)
}

// sweeps reports whether any workload or dataset key of b is an array.
func sweeps(b *Benchmark) bool {
	for _, t := range []map[string]any{b.Workload, b.Dataset} {
		for _, v := range t {
			if l, ok := asList(v); ok && len(l) > 1 {
				return true
			}
		}
	}
	return false
}

// ProbeCase is case c with the search variable set to load and the probe
// length set to requests measured requests (duration cleared), with the
// id benchmark/search=variable:load, and ",try=n" for a re-measure n > 1.
// A search over speed replays the trace at time_scale 1/load, looped
// (dataset.LoopTrace) as many whole times as requests needs: its params'
// requests (what the probe measures) is then a multiple of the trace's
// length, and ProbeCase given it returns the same probe.
func ProbeCase(c Case, load float64, requests, try int) (Case, error) {
	s := c.Benchmark.Search
	pc := c
	v := strconv.FormatFloat(load, 'g', 6, 64)
	pc.ID = fmt.Sprintf("%s/search=%s:%s", c.Benchmark.Name, s.Variable, v)
	pc.Params = map[string]string{"search": s.Variable + ":" + v, "requests": strconv.Itoa(requests)}
	if try > 1 {
		pc.ID += ",try=" + strconv.Itoa(try)
		pc.Params["try"] = strconv.Itoa(try)
	}
	pc.Keys = []string{"search"}
	switch w := c.Workload.(type) {
	case *LLMWorkload:
		cp := *w
		cp.Requests, cp.Duration = requests, 0
		switch s.Variable {
		case "rate":
			cp.Mode, cp.Rate = "open", load
		case SearchSpeed:
			if w.Arrival != "trace" || w.Requests < 1 {
				return pc, fmt.Errorf("benchmark %q: a search over speed replays a trace", c.Benchmark.Name)
			}
			// Whole loops of the trace (its length is the validated
			// requests): at least the requests the probe needs.
			cp.Requests = (requests + w.Requests - 1) / w.Requests * w.Requests
			cp.Mode, cp.TimeScale = "open", 1/load
			pc.Params["requests"] = strconv.Itoa(cp.Requests)
		default:
			cp.Mode, cp.Users = "closed", int(load)
		}
		pc.Workload = &cp
	case *ChromaWorkload:
		cp := *w
		cp.Requests, cp.Duration = requests, 0
		if s.Variable == "rate" {
			cp.Mode, cp.Rate = "open", load
		} else {
			cp.Mode, cp.Users = "closed", int(load)
		}
		pc.Workload = &cp
	default:
		return pc, fmt.Errorf("benchmark %q: search supports LLM and Chroma query workloads, not %T", c.Benchmark.Name, c.Workload)
	}
	return pc, nil
}
