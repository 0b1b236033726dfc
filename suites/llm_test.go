package suites

import (
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// TestKeepAliveJSON: keep_alive goes out as Ollama reads it: seconds as a
// JSON number (Ollama rejects "-1" as a string), durations as strings; a
// suite with any other keep_alive is refused before the run.
func TestKeepAliveJSON(t *testing.T) {
	for in, want := range map[string]string{"": "", "300": "300", "-1": "-1", "0": "0", "2.5": "2.5", "5m": `"5m"`, "1h30m": `"1h30m"`} {
		got, err := KeepAliveJSON(in)
		if err != nil || string(got) != want {
			t.Errorf("KeepAliveJSON(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"soon", "5 minutes", "Inf", "NaN"} {
		if _, err := KeepAliveJSON(bad); err == nil {
			t.Errorf("KeepAliveJSON(%q): no error", bad)
		}
	}
	got := problems(t, minimal+"[benchmark.workload]\nkeep_alive = \"soon\"\n")
	if len(got) != 1 || !strings.Contains(got[0], `s.toml:11: benchmark "chat": keep_alive "soon"`) {
		t.Errorf("keep_alive \"soon\": problems %q", got)
	}
}

// TestDrainReachesLoad: the drain key becomes the case's Load.Drain (the
// load generator cuts requests off after it and counts them unfinished);
// unset, it is the documented 30s.
func TestDrainReachesLoad(t *testing.T) {
	for src, want := range map[string]time.Duration{
		minimal: results.DefaultDrain,
		minimal + "[benchmark.workload]\ndrain = \"2s\"\n": 2 * time.Second,
	} {
		s, err := Parse("s.toml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Cases()[0].Workload.(*LLMWorkload).Load().Drain; got != want {
			t.Errorf("drain: Load().Drain = %v, want %v\n%s", got, want, src)
		}
	}
	if got := problems(t, minimal+"[benchmark.workload]\ndrain = \"-1s\"\n"); len(got) != 1 || !strings.Contains(got[0], "s.toml:11:") {
		t.Errorf("drain = -1s: problems %q", got)
	}
}
