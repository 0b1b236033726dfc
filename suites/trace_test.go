package suites

import (
	"os"
	"path/filepath"
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
		"searched":       {replay("", good) + "  [benchmark.search]\n  variable = \"rate\"\n  min = 1\n  max = 2\n  slos = [\"ttft.p99 < 1s\"]\n", "trace arrivals cannot be searched"},
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
