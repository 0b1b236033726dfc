package results

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSampleFileFlushInterval: a sample written to a samples file reaches
// the file, without Close, within SampleFlushInterval (plus scheduling
// slack), and not a line of it is held longer. Broken periodic flushing
// (only Close or a full buffer flushing) fails it.
func TestSampleFileFlushInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	w, err := CreateSampleFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for round := range 2 {
		written := time.Now()
		if err := w.Write(&Sample{Seq: int64(round), Done: 1}); err != nil {
			t.Fatal(err)
		}
		for {
			n := countLines(t, path)
			if n == round+1 {
				break
			}
			if waited := time.Since(written); waited > SampleFlushInterval+time.Second {
				t.Fatalf("round %d: %d lines in the file %v after the write, want %d within the %v flush interval",
					round, n, waited, round+1, SampleFlushInterval)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestSampleWriterUnencodable: a sample that JSON cannot carry (a NaN
// value) is refused alone; the writer keeps working.
func TestSampleWriterUnencodable(t *testing.T) {
	var b strings.Builder
	w := NewSampleWriter(&b)
	if err := w.Write(&Sample{Seq: 1, Values: map[string]float64{"x": math.NaN()}}); err == nil {
		t.Error("a NaN value was written")
	}
	if err := w.Write(&Sample{Seq: 2}); err != nil {
		t.Fatalf("the writer failed after an unencodable sample: %v", err)
	}
	if got := b.String(); !strings.HasPrefix(got, `{"seq":2,`) || strings.Count(got, "\n") != 1 {
		t.Errorf("written %q, want the second sample's line only", got)
	}
}

// TestSampleFileKilled: a process writing a sample every 10ms and killed
// with SIGKILL leaves every sample written up to one flush interval (plus
// slack) before the kill on disk: batching loses at most one interval.
func TestSampleFileKilled(t *testing.T) {
	if path := os.Getenv("BENCHRUN_SAMPLE_KILL_CHILD"); path != "" {
		writeUntilKilled(path)
		return
	}
	path := filepath.Join(t.TempDir(), "s.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestSampleFileKilled$")
	cmd.Env = append(os.Environ(), "BENCHRUN_SAMPLE_KILL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child prints "started" once it writes; it writes until killed.
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "started\n" {
		cmd.Process.Kill()
		t.Fatalf("child: %q, %v", line, err)
	}
	started := time.Now()
	time.Sleep(2*SampleFlushInterval + 500*time.Millisecond)
	cmd.Process.Kill()
	killed := time.Since(started)
	cmd.Wait()

	var last time.Duration
	in, err := ScanSampleFile(path, func(s *Sample) error {
		last = max(last, s.Sent)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The child stamps Sent from its own start, a little before ours.
	const slack = 400 * time.Millisecond
	if lost := killed - last; lost > SampleFlushInterval+slack {
		t.Errorf("killed %v after the start, the newest sample on disk was written at %v (%d samples): %v lost, want at most the %v flush interval (+%v slack)",
			killed, last, in.Samples, lost, SampleFlushInterval, slack)
	}
}

// writeUntilKilled is TestSampleFileKilled's child.
func writeUntilKilled(path string) {
	w, err := CreateSampleFile(path)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	start := time.Now()
	fmt.Println("started")
	for seq := int64(0); ; seq++ {
		if err := w.Write(&Sample{Seq: seq, Sent: time.Since(start), Done: time.Since(start)}); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// TestSampleFileWriteAfterClose: a sample written after Close is refused
// and not counted; a batched writer would otherwise buffer it where no
// flush reaches and count it as written.
func TestSampleFileWriteAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	w, err := CreateSampleFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Sample{Seq: 0}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Sample{Seq: 1}); err == nil {
		t.Error("Write after Close succeeded")
	}
	if n, lines := w.Count(), countLines(t, path); n != 1 || lines != 1 {
		t.Errorf("count %d, %d lines in the file: want 1 and 1", n, lines)
	}
}
