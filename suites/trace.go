package suites

import (
	"math"
	"path/filepath"

	"github.com/benchrun/benchrun/runner/dataset"
)

// checkTrace validates a trace replay (workload arrival = "trace"): an
// open loop over a trace dataset, a positive time_scale, no warm-up or
// ramp-up (the trace is the schedule), and a trace file that reads
// (dataset.ReadTrace); the case's requests become the trace's length
// unless requests or duration cut it shorter. A trace dataset without
// trace arrivals is refused: its lengths would be replayed without its
// schedule. A search varies a trace replay only over its speed.
func (d *decoder) checkTrace(s *Suite, p []string, b *Benchmark, c *Case, w *LLMWorkload, ds *LLMDataset) {
	if w.Arrival != "trace" {
		if ds.Kind == "trace" {
			d.problem(c.at(p, "workload", "arrival"), "benchmark %q: a trace dataset is replayed with arrival = \"trace\"", b.Name)
		}
		return
	}
	searched := b.Search != nil && b.Search.Variable == SearchSpeed
	if b.Search != nil && !searched {
		d.problem(c.at(p, "workload", "arrival"), "benchmark %q: a trace replay is searched over its speed (search.variable = \"speed\"), not %s", b.Name, b.Search.Variable)
	}
	if w.Mode != "open" {
		d.problem(c.at(p, "workload", "mode"), "benchmark %q: trace arrivals need mode = \"open\"", b.Name)
	}
	if ds.Kind != "trace" {
		d.problem(c.at(p, "dataset", "kind"), "benchmark %q: trace arrivals need a trace dataset (kind = \"trace\", path = ...)", b.Name)
	}
	if !(w.TimeScale > 0) || math.IsInf(w.TimeScale, 0) {
		d.problem(c.at(p, "workload", "time_scale"), "benchmark %q: time_scale must be a positive number, got %v", b.Name, w.TimeScale)
	}
	if w.Warmup != 0 || w.WarmupRequests != 0 || w.RampUp != 0 {
		d.problem(c.at(p, "workload", "arrival"), "benchmark %q: trace arrivals replay the trace as it is: no warmup, warmup_requests or ramp_up", b.Name)
	}
	if ds.Kind != "trace" || ds.Path == "" {
		return
	}
	path := ds.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(d.dir, path)
	}
	tr, err := dataset.ReadTraceFile(path)
	if err != nil {
		d.problem(c.at(p, "dataset", "path"), "benchmark %q: %v", b.Name, err)
		return
	}
	if searched {
		d.checkSearchedTrace(c.at(p, "workload", "requests"), b, w, tr)
	}
	if w.Requests == 0 || w.Requests > len(tr) {
		w.Requests = len(tr)
	}
}

// checkSearchedTrace checks the trace of a search over speed: every probe
// replays it whole (looped when the probe needs more requests), so its
// requests cannot cut it, and its arrivals must span some time — a trace
// whose requests all arrive at once has no pace to scale.
func (d *decoder) checkSearchedTrace(p []string, b *Benchmark, w *LLMWorkload, tr []dataset.TraceEntry) {
	if w.Requests != 0 && w.Requests < len(tr) {
		d.problem(p, "benchmark %q: a search over speed replays the whole trace (%d requests; looped for longer probes): cut the trace file, not workload.requests (%d)", b.Name, len(tr), w.Requests)
	}
	if tr[len(tr)-1].Offset <= 0 {
		d.problem(p, "benchmark %q: every request of the trace arrives at once: a search over speed needs arrivals that span some time", b.Name)
	}
}
