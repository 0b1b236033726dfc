package ci

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// TestTraceReplay: a trace replayed against the emulator at time_scale
// 0.5 sends each of its requests at half its offset, with its input and
// output lengths, and nothing else; the manifest records the replay.
func TestTraceReplay(t *testing.T) {
	work := t.TempDir()
	offsets := []float64{0, 0.01, 0.012, 0.1, 0.25, 0.251, 0.252, 0.4, 0.6, 0.61}
	var tr strings.Builder
	for i, o := range offsets {
		fmt.Fprintf(&tr, `{"timestamp": %g, "input_length": %d, "output_length": %d, "hash_ids": [%d]}`+"\n", 1000+o, 4+i, 1+i%3, i)
	}
	if err := os.WriteFile(filepath.Join(work, "trace.jsonl"), []byte(tr.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	suite := `schema_version = 1
[suite]
name = "replay"
[[service]]
name = "llm"
kind = "emulator"
model = "m"
  [service.emulator]
  flavor = "vllm"
  prefill_base = "2ms"
  decode_base = "2ms"
  jitter = 0
[[benchmark]]
name = "yesterday"
service = "llm"
  [benchmark.workload]
  mode = "open"
  arrival = "trace"
  time_scale = 0.5
  [benchmark.dataset]
  kind = "trace"
  path = "TRACE"
`
	// Relative to the suite file: the run, its re-analysis (report) and
	// its SLURM workers load the copy in the results directory, and the
	// path must still resolve beside the suite as run, not there.
	suite = strings.Replace(suite, "TRACE", "trace.jsonl", 1)
	if err := os.WriteFile(filepath.Join(work, "s.toml"), []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, work, binEnv(), "-q", "suite", "-o", "r", "s.toml")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %v", r.code, r)
	}
	files := sampleFiles(t, filepath.Join(work, "r"))
	if len(files) != 1 {
		t.Fatalf("sample files %q", files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []results.Sample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var s results.Sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if len(got) != len(offsets) {
		t.Fatalf("%d samples, want the trace's %d", len(got), len(offsets))
	}
	for _, s := range got {
		i := int(s.Seq)
		want := time.Duration(offsets[i] * 0.5 * float64(time.Second))
		// The schedule starts when the runner does, a few µs after the
		// case start.
		if d := s.Scheduled - want; d < 0 || d > time.Millisecond {
			t.Errorf("request %d scheduled at %v, want %v", i, s.Scheduled, want)
		}
		if s.Error != "" || s.InputTokens != 4+i || s.OutputTokens != 1+i%3 {
			t.Errorf("request %d: error %q, %d input and %d output tokens, want %d and %d", i, s.Error, s.InputTokens, s.OutputTokens, 4+i, 1+i%3)
		}
	}
	var m struct {
		Cases []struct{ Load results.Load }
	}
	readJSON(t, filepath.Join(work, "r", "manifest.json"), &m)
	if len(m.Cases) != 1 || m.Cases[0].Load.Arrival != "trace" || m.Cases[0].Load.TimeScale != 0.5 || m.Cases[0].Load.Requests != int64(len(offsets)) {
		t.Errorf("manifest load %+v", m.Cases)
	}
	if r := runBin(t, work, binEnv(), "-q", "report", "r"); r.code != ExitOK {
		t.Errorf("report of a run whose suite names its trace relative to itself: %v", r)
	}
}
