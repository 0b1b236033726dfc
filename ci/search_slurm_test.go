package ci

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm/slurmtest"
)

// TestClusterSearch: a capacity search and a trace replay in one SLURM
// job (testdata/slurm/search.toml): the probes share the allocation and
// the emulator already running on node1, each probe's load runs as a
// worker step on node2 and is a case with its samples; the probes over
// capacity are stopped early from the samples the worker writes; the
// capacity is 40 requests/s, bracket [40, 60]; the trace is replayed from
// node2 on its schedule, time-scaled, and searched over its speed (the
// workers rebuild each probe's looped schedule). Every worker, stopped
// early or not, leaves its sample count.
func TestClusterSearch(t *testing.T) {
	slurmtest.RequireCluster(t)
	benchrunBinary(t)
	work := t.TempDir()
	offsets := []float64{0, 0.05, 0.06, 0.2, 0.5, 0.51, 0.8, 1.2}
	var tr strings.Builder
	for i, o := range offsets {
		fmt.Fprintf(&tr, `{"timestamp": %g, "input_length": %d, "output_length": 2}`+"\n", 500+o, 4+i)
	}
	trace := filepath.Join(work, "trace.jsonl")
	src, err := os.ReadFile(filepath.Join("testdata", "slurm", "search.toml"))
	if err != nil {
		t.Fatal(err)
	}
	suite := filepath.Join(work, "search.toml")
	if os.WriteFile(trace, []byte(tr.String()), 0o644) != nil || os.WriteFile(suite, []byte(strings.ReplaceAll(string(src), `"TRACE"`, `"`+trace+`"`)), 0o644) != nil {
		t.Fatal("writing the suite")
	}
	code, out, dir := submitSuite(t, suite, nil)
	if code != ExitOK {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	m := readManifestT(t, dir)
	if len(m.Services) != 1 || m.Services[0].Node != "node1" {
		t.Errorf("services %+v, want the emulator on node1", m.Services)
	}
	var ids []string
	for _, c := range m.Cases {
		ids = append(ids, c.ID)
		n, nodes := probeSampleNodes(filepath.Join(dir, c.Samples))
		if c.Status != results.StatusDone || n == 0 || strings.Join(nodes, ",") != "node2" {
			t.Errorf("case %s: %s %s, %d samples from %v: want done, samples from node2", c.ID, c.Status, c.Error, n, nodes)
		}
		// Every worker left its count, the stopped ones too (they stop
		// on workerStopSignal): no samples file is read unchecked.
		var counted int64
		for _, k := range c.SampleCounts {
			counted += k
		}
		if files, _ := filepath.Glob(filepath.Join(dir, c.Samples, "*.jsonl")); len(c.SampleCounts) != len(files) || counted != int64(n) {
			t.Errorf("case %s: sample counts %v for %d files of %d samples: want every file counted", c.ID, c.SampleCounts, len(files), n)
		}
		stopped := c.Settings["early_stop"] != ""
		switch c.ID {
		case "yesterday/search=speed:8", "yesterday/search=speed:16":
			if stopped || n != 104 || c.Params["requests"] != "104" || c.Load == nil || c.Load.Requests != 104 {
				t.Errorf("%s: %d samples, params %v: want 13 whole loops of the 8-request trace, 104", c.ID, n, c.Params)
			}
		case "chat/search=rate:40":
			if stopped || n != 400 {
				t.Errorf("%s: %d samples, early stop %q: want all 400, not stopped", c.ID, n, c.Settings["early_stop"])
			}
		case "chat/search=rate:80", "chat/search=rate:60":
			if !stopped || n >= 300 {
				t.Errorf("%s: %d samples, early stop %q: want stopped early from the worker's samples", c.ID, n, c.Settings["early_stop"])
			}
		}
	}
	// The replay is in the manifest from the start; each probe is added
	// when it starts.
	if want := "replay chat/search=rate:40 chat/search=rate:80 chat/search=rate:60 yesterday/search=speed:8 yesterday/search=speed:16"; !strings.HasPrefix(strings.Join(ids, " "), want) {
		t.Errorf("cases %q, want first %s, then the speed search's bisection", ids, want)
	}
	var s capacitySummary
	readJSON(t, filepath.Join(dir, "summary.json"), &s)
	c, ci, verdict, _ := s.capacity(t)
	if c != 40 || ci != [2]float64{40, 60} || verdict != "pass" {
		t.Errorf("capacity %v %v, verdict %s: want 40 requests/s, bracket [40, 60]", c, ci, verdict)
	}
	s.logWall(t, "TestClusterSearch")
	for _, cs := range s.Cases {
		// At speed 16 the trace offers about 107 requests/s to a server
		// of 50: its ttft stays inside the generous SLO over 104
		// requests, but it falls behind (label saturated, test rate), and
		// that probe fails; the capacity is bracketed between 8 and 16.
		if cs.ID == "yesterday/search=speed:16" && !slices.ContainsFunc(cs.Labels, func(l capacityLabel) bool { return l.Name == "saturated" && l.Test == "rate" }) {
			t.Errorf("%s: labels %+v, want saturated (rate): the server falls behind", cs.ID, cs.Labels)
		}
		if m := cs.Metrics["capacity"]; cs.ID == "yesterday/capacity" && (m.Value < 8 || m.Value >= 16 || !(m.CI["value"][1] > m.Value) || cs.Verdict != "pass") {
			t.Errorf("yesterday/capacity %v %v, verdict %s: want a speed in [8, 16) with a bracket", m.Value, m.CI["value"], cs.Verdict)
		}
	}
	checkReplay(t, filepath.Join(dir, "samples", "replay"), offsets, 0.5)
}

// probeSampleNodes counts the samples in the files under dir and returns the
// nodes whose workers wrote them, sorted.
func probeSampleNodes(dir string) (n int, nodes []string) {
	for node, k := range samplesByNode(dir) {
		n += k
		nodes = append(nodes, node)
	}
	slices.Sort(nodes)
	return n, nodes
}

// checkReplay: the samples under dir are the trace's requests, each
// scheduled at its offset × scale from the case start (5 ms allowed for
// the worker's own start), each successful with its input length.
func checkReplay(t *testing.T, dir string, offsets []float64, scale float64) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	n := 0
	for _, f := range files {
		results.ReadSampleFile(f, func(s *results.Sample) error {
			n++
			i := int(s.Seq)
			want := time.Duration(offsets[i] * scale * float64(time.Second))
			if d := s.Scheduled - want; d < -time.Millisecond || d > 5*time.Millisecond || s.Error != "" || s.InputTokens != 4+i {
				t.Errorf("replayed request %d: scheduled %v (want %v), error %q, %d input tokens", i, s.Scheduled, want, s.Error, s.InputTokens)
			}
			return nil
		})
	}
	if n != len(offsets) {
		t.Errorf("%d replayed requests, want the trace's %d", n, len(offsets))
	}
}

// TestFeedNewSamples: a SLURM worker's samples file is read as it grows;
// each call feeds only the complete lines written since the last one, and
// a line still being written waits for the next call.
func TestFeedNewSamples(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node2-0.jsonl")
	var seqs []int64
	fn := func(s *results.Sample) { seqs = append(seqs, s.Seq) }
	write := func(s string) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	var off int64
	write(`{"seq":1}` + "\n" + `{"seq":2}` + "\n" + `{"se`)
	off += feedNewSamples(path, off, fn)
	if !slices.Equal(seqs, []int64{1, 2}) || off != 20 {
		t.Fatalf("first read: seqs %v, offset %d", seqs, off)
	}
	off += feedNewSamples(path, off, fn) // nothing new
	write(`q":3}` + "\n")
	off += feedNewSamples(path, off, fn)
	if !slices.Equal(seqs, []int64{1, 2, 3}) || off != 30 {
		t.Fatalf("after the torn line was completed: seqs %v, offset %d", seqs, off)
	}
	if n := feedNewSamples(filepath.Join(t.TempDir(), "none.jsonl"), 0, fn); n != 0 {
		t.Errorf("a missing file consumed %d bytes", n)
	}
}
