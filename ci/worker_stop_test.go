package ci

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// workerStopSuite is a long open-loop case (1,000 requests at 100/s: 10 s)
// that every test stops after a few dozen requests.
const workerStopSuite = `schema_version = 1
[suite]
name = "w"
[[service]]
name = "llm"
kind = "emulator"
model = "m"
[[benchmark]]
name = "chat"
service = "llm"
  [benchmark.workload]
  mode = "open"
  arrival = "constant"
  rate = 100
  requests = 1000
  [benchmark.dataset]
  prompt_tokens = 8
  output_tokens = 2
`

// TestWorkerStopLeavesCount: a SLURM worker stopped mid-case — by
// workerStopSignal, which srun forwards to it (the run's stopWorkerStep:
// an early-stopped probe, a stopped run), or by SIGTERM — stops its load,
// and leaves beside its samples file the count of the samples it wrote,
// which the run records so that the file is checked, not read unchecked
// (srun answers SIGTERM itself by killing the step: hence the other
// signal). The worker runs as the benchrun binary against an emulator.
func TestWorkerStopLeavesCount(t *testing.T) {
	for name, sig := range map[string]syscall.Signal{"workerStopSignal": workerStopSignal, "SIGTERM": syscall.SIGTERM} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, suiteCopy), workerStopSuite)
			if err := writeEndpoints(dir, endpoints{"llm": serveTestEmulator(t, "m", nil)}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, benchrunBinary(t), "worker", "--results", dir, "--case", "chat",
				"--start-ns", strconv.FormatInt(time.Now().UnixNano(), 10))
			cmd.Env = binEnv()
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			samples := filepath.Join(dir, results.SamplesDir, results.CaseFileName("chat"), results.CaseFileName(hostname())+"-0.jsonl")
			deadline := time.Now().Add(30 * time.Second)
			for lines(samples) < 20 {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("the worker wrote no 20 samples in 30 s\n%s", out.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted {
				t.Fatalf("worker: %v, want exit %d (stopped)\n%s", err, ExitInterrupted, out.String())
			}
			n, err := results.ReadSampleCount(samples)
			if err != nil {
				t.Fatalf("no sample count beside the samples file: %v\n%s", err, out.String())
			}
			if got := lines(samples); n != int64(got) || n < 20 || n >= 1000 {
				t.Errorf("count %d, samples file %d lines: want equal, between the 20 seen and the 1,000 of the whole case", n, got)
			}
			// The run records the count, and the file is checked against it.
			info := results.CaseInfo{ID: "chat"}
			recordWorkerCounts(&env{log: slog.New(slog.NewTextHandler(io.Discard, nil))}, &info, filepath.Dir(samples))
			if c, ok := info.RecordedSamples(samples); !ok || c != n {
				t.Errorf("manifest count %d (%v), want %d", c, ok, n)
			}
		})
	}
}

// lines counts the complete lines of file path (0 when it is missing).
func lines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}
