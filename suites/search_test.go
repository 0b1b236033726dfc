package suites

import (
	"strings"
	"testing"
)

// chromaSearch is a Chroma query benchmark searched over workload,
// slos the [benchmark.search] slos array.
func chromaSearch(workload, slos string) string {
	return `[suite]
name = "s"
[[service]]
name = "db"
kind = "chroma"
[[benchmark]]
name = "q"
service = "db"
  [benchmark.workload]
` + workload + `
  [benchmark.search]
  variable = "rate"
  min = 10
  max = 100
  slos = ` + slos + "\n"
}

// TestChromaSearch: a search of Chroma queries validates with a recall
// SLO, and each probe case sets the rate, the measured queries and no
// duration; a load workload, or no recall floor, is refused.
func TestChromaSearch(t *testing.T) {
	s, err := Parse("s.toml", []byte(chromaSearch(`  workload = "query"`, `["e2e.p99 < 50ms", "recall_at_10.mean > 0.9"]`)))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cases()[0]
	pc, err := ProbeCase(c, 40, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	w := pc.Workload.(*ChromaWorkload)
	if pc.ID != "q/search=rate:40,try=2" || w.Mode != "open" || w.Rate != 40 || w.Requests != 1000 || w.Duration != 0 || w.Workload != ChromaQuery {
		t.Errorf("probe %s: %+v", pc.ID, w)
	}
	if c.Workload.(*ChromaWorkload).Rate != 10 {
		t.Errorf("the probe changed the benchmark's own case")
	}
	for name, tc := range map[string]struct{ src, want string }{
		"load":           {chromaSearch(`  workload = "load"`, `["recall_at_10.mean > 0.9"]`), "workload load inserts the dataset once"},
		"no recall":      {chromaSearch(`  workload = "query"`, `["e2e.p99 < 50ms"]`), "a Chroma search needs an SLO on recall"},
		"recall ceiling": {chromaSearch(`  workload = "query"`, `["recall_at_10.mean < 0.9"]`), "a Chroma search needs an SLO on recall"},
	} {
		got := strings.Join(problems(t, tc.src), "\n")
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: problems %q, want %q", name, got, tc.want)
		}
	}
}
