package suites

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTraceValidation: a trace replay needs open loop, a trace dataset
// that reads, a positive time_scale and no warm-up; its requests become
// the trace's length; a trace dataset without trace arrivals is refused.
func TestTraceValidation(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "t.jsonl")
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(good, []byte("{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 2}\n{\"timestamp\": 0.5, \"input_length\": 4, \"output_length\": 2}\n"), 0o644)
	os.WriteFile(bad, []byte("{\"timestamp\": 0, \"input_length\": 0, \"output_length\": 2}\n"), 0o644)
	replay := func(workload, path string) string {
		return minimal + "  [benchmark.workload]\n  mode = \"open\"\n  arrival = \"trace\"\n" + workload +
			"  [benchmark.dataset]\n  kind = \"trace\"\n  path = \"" + path + "\"\n"
	}
	s, err := Parse("s.toml", []byte(replay("  time_scale = 0.5\n", good)))
	if err != nil {
		t.Fatal(err)
	}
	w := s.Cases()[0].Workload.(*LLMWorkload)
	if l := w.Load(); l.Requests != 2 || l.TimeScale != 0.5 || l.Duration != 0 || l.Arrival != "trace" {
		t.Errorf("load %+v: want the trace's 2 requests at scale 0.5, no duration", l)
	}
	for name, tc := range map[string]struct{ src, want string }{
		"searched":       {replay("", good) + "  [benchmark.search]\n  variable = \"rate\"\n  min = 1\n  max = 2\n  slos = [\"ttft.p99 < 1s\"]\n", `searched over its speed (search.variable = "speed"), not rate`},
		"closed":         {strings.Replace(replay("", good), `mode = "open"`, `mode = "closed"`, 1), `trace arrivals need mode = "open"`},
		"zero scale":     {replay("  time_scale = 0\n", good), "time_scale: 0 is below the minimum"},
		"warm-up":        {replay("  warmup_requests = 1\n", good), "no warmup"},
		"bad trace":      {replay("", bad), "input_length and output_length must be whole numbers"},
		"missing trace":  {replay("", filepath.Join(dir, "none.jsonl")), "does not exist"},
		"not a trace":    {strings.Replace(replay("", good), `kind = "trace"`, `kind = "jsonl"`, 1), "trace arrivals need a trace dataset"},
		"trace, poisson": {strings.Replace(replay("", good), `arrival = "trace"`, `arrival = "poisson"`+"\n  rate = 1", 1), `a trace dataset is replayed with arrival = "trace"`},
	} {
		got := strings.Join(problems(t, tc.src), "\n")
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: problems %q, want %q", name, got, tc.want)
		}
	}
}

// TestTraceSpeedSearch: a search over a trace replay's speed sets
// time_scale = 1/speed per probe and measures whole loops of the trace,
// at least the requests the probe needs (here 1,000 of a 2-request
// trace: 500 loops; 1,001 → 501 loops); ProbeCase given a probe's own
// requests returns the same probe (the SLURM workers rebuild it so).
// Refused: speed without trace arrivals, a time_scale of its own, a trace
// cut by workload.requests, a trace arriving all at once.
func TestTraceSpeedSearch(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "t.jsonl")
	three := filepath.Join(dir, "three.jsonl")
	burst := filepath.Join(dir, "burst.jsonl")
	line := func(ts float64) string {
		return fmt.Sprintf("{\"timestamp\": %v, \"input_length\": 4, \"output_length\": 2}\n", ts)
	}
	os.WriteFile(good, []byte(line(0)+line(0.5)), 0o644)
	os.WriteFile(three, []byte(line(0)+line(0.5)+line(1)), 0o644)
	os.WriteFile(burst, []byte(line(3)+line(3)), 0o644)
	search := func(workload, path, variable string) string {
		return minimal + "  [benchmark.workload]\n  arrival = \"trace\"\n" + workload +
			"  [benchmark.dataset]\n  kind = \"trace\"\n  path = \"" + path + "\"\n" +
			"  [benchmark.search]\n  variable = \"" + variable + "\"\n  min = 0.5\n  max = 8\n  slos = [\"ttft.p99 < 1s\"]\n"
	}
	s, err := Parse("s.toml", []byte(search("", good, "speed")))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cases()[0]
	if l := c.Workload.(*LLMWorkload).Load(); l.Mode != "open" || l.TimeScale != 2 || l.Requests != 2 {
		t.Errorf("the benchmark's case %+v: want open loop at the min speed (time_scale 2), the trace's 2 requests", l)
	}
	for _, tc := range []struct {
		speed          float64
		requests, want int
	}{{4, 1000, 1000}, {4, 1001, 1002}, {0.5, 1, 2}} {
		pc, err := ProbeCase(c, tc.speed, tc.requests, 1)
		if err != nil {
			t.Fatal(err)
		}
		l := pc.Workload.(*LLMWorkload).Load()
		if l.TimeScale != 1/tc.speed || l.Requests != int64(tc.want) || l.Arrival != "trace" || pc.Params["requests"] != strconv.Itoa(tc.want) || pc.Params["search"] != "speed:"+strconv.FormatFloat(tc.speed, 'g', -1, 64) {
			t.Errorf("probe at speed %v for %d requests: %s %+v %v; want time_scale %v, %d requests", tc.speed, tc.requests, pc.ID, l, pc.Params, 1/tc.speed, tc.want)
		}
		again, _ := ProbeCase(c, tc.speed, tc.want, 1)
		if again.Workload.(*LLMWorkload).Requests != tc.want {
			t.Errorf("rebuilt from its own requests: %d, want %d", again.Workload.(*LLMWorkload).Requests, tc.want)
		}
	}
	s3, err := Parse("s.toml", []byte(search("", three, "speed")))
	if err != nil {
		t.Fatal(err)
	}
	if pc, _ := ProbeCase(s3.Cases()[0], 2, 1000, 1); pc.Workload.(*LLMWorkload).Requests != 1002 {
		t.Errorf("3-request trace, 1000 requests: %d, want 334 whole loops (1002)", pc.Workload.(*LLMWorkload).Requests)
	}
	for name, tc := range map[string]struct{ src, want string }{
		"poisson":      {strings.NewReplacer(`arrival = "trace"`, `arrival = "poisson"`).Replace(search("", good, "speed")), `search.variable speed replays a trace: it needs arrival = "trace"`},
		"time_scale":   {search("  time_scale = 0.5\n", good, "speed"), "remove workload.time_scale"},
		"cut":          {search("  requests = 1\n", three, "speed"), "replays the whole trace (3 requests; looped for longer probes): cut the trace file"},
		"burst":        {search("", burst, "speed"), "every request of the trace arrives at once"},
		"users":        {search("", good, "users"), `not users`},
		"speed bounds": {strings.Replace(search("", good, "speed"), "min = 0.5", "min = 0.0000001", 1), "needs min ≥ 0.000001"},
	} {
		got := strings.Join(problems(t, tc.src), "\n")
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: problems %q, want %q", name, got, tc.want)
		}
	}
}
