package slurm

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchrun/benchrun/slurm/slurmtest"
)

// The tests in this file submit real jobs to the cluster of
// .ci/slurm-cluster.sh (partition "bench", nodes node1..node3) and kill one
// of its nodes. They run only when asked to, with BENCHRUN_SLURM=1 (`make
// slurm-test`), and then fail when that cluster is not up; a cluster that
// merely answers is no reason to run them. Otherwise, and under -short,
// they skip loudly (slurmtest.RequireCluster).

// recorder keeps the last output of each command, to refresh
// testdata/recorded under -update.
type recorder struct {
	mu   sync.Mutex
	last map[string][]byte
}

func (r *recorder) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	out, err := ExecCommander{}.Run(ctx, name, args...)
	if err == nil {
		r.mu.Lock()
		r.last[name] = out
		r.mu.Unlock()
	}
	return out, err
}

func (r *recorder) save(t *testing.T, name, file string) {
	if !*update {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.WriteFile(filepath.Join("testdata", "recorded", file), r.last[name], 0o644); err != nil {
		t.Error(err)
	}
}

// ClusterJob is a helper for cluster tests of whole benchrun runs: it renders
// j, writes the script into j.ResultsDir, submits it and follows it to the
// end, streaming the job's output to the test log. The lead's
// benchrun-through-sbatch test uses it with a real benchrun binary.
func ClusterJob(t *testing.T, c *Client, j Job, timeout time.Duration) State {
	t.Helper()
	script, err := RenderScript(j)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(j.ResultsDir, "job.sh")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	id, err := c.Submit(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("submitted job %s", id)
	var log bytes.Buffer
	st, err := c.Follow(ctx, id, FollowOptions{Poll: 500 * time.Millisecond, LogPath: filepath.Join(j.ResultsDir, OutputFile), Out: &log})
	t.Logf("job %s output:\n%s", id, log.String())
	if err != nil {
		t.Fatalf("follow: %v", err)
	}
	t.Logf("job %s ended: %v", id, st)
	return st
}

// buildNetcheck builds the stand-in for benchrun into a directory every
// node sees (the nodes share this machine's file system).
func buildNetcheck(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "netcheck")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/netcheck").CombinedOutput()
	if err != nil {
		t.Fatalf("go build netcheck: %v\n%s", err, out)
	}
	return bin
}

func resultsDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCluster(t *testing.T) {
	slurmtest.RequireCluster(t)
	netcheck := buildNetcheck(t)
	rec := &recorder{last: map[string][]byte{}}
	c := &Client{Cmd: rec}

	t.Run("roles across nodes", func(t *testing.T) {
		dir := resultsDir(t)
		j := Job{
			Name:   "benchrun-test-roles",
			Config: Config{Partition: "bench", Time: "00:05:00", SignalGrace: "30s", Nodes: 3},
			Services: []ServiceRole{{Name: "echo", Kind: "test", Nodes: []int{0}, Port: 18080,
				Command: []string{netcheck, "serve", "18080"}}},
			Clients:    ClientRole{Args: []string{dir}},
			ResultsDir: dir, Benchrun: netcheck,
		}
		b, _ := json.Marshal(j)
		jobFile := filepath.Join(dir, "job.json")
		if err := os.WriteFile(jobFile, b, 0o644); err != nil {
			t.Fatal(err)
		}
		j.Command = []string{netcheck, "inside", jobFile}
		start := time.Now()
		st := ClusterJob(t, c, j, 3*time.Minute)
		t.Logf("3-node job took %v", time.Since(start).Round(time.Second))
		if st.Name != Completed || st.ExitStatus() != 0 {
			t.Fatalf("job ended %v, want COMPLETED with status 0", st)
		}
		for i, node := range []string{"node2", "node3"} {
			b, err := os.ReadFile(filepath.Join(dir, "worker-"+string(rune('0'+i))+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			if want := node + ` got "hello from node1"`; strings.TrimSpace(string(b)) != want {
				t.Errorf("worker %d wrote %q, want %q", i, b, want)
			}
		}
	})

	t.Run("failures", func(t *testing.T) {
		t.Run("time limit sends USR1 then TIMEOUT", func(t *testing.T) {
			t.Parallel()
			dir := resultsDir(t)
			j := Job{
				Name:       "benchrun-test-timeout",
				Config:     Config{Partition: "bench", Time: "1", SignalGrace: "30s", Nodes: 1, Extra: []string{"--nodelist=node1"}},
				ResultsDir: dir, Command: []string{netcheck, "sleep-usr1", dir},
			}
			st := ClusterJob(t, c, j, 4*time.Minute)
			rec.save(t, "scontrol", "scontrol-timeout.txt")
			if st.Name != Timeout || !st.Failed() || st.ExitStatus() != ExitExecutionError {
				t.Errorf("job ended %v, want TIMEOUT, an execution error", st)
			}
			if _, err := os.Stat(filepath.Join(dir, "usr1")); err != nil {
				t.Errorf("benchrun's stand-in never got USR1: %v", err)
			}
		})
		t.Run("killed slurmd gives NODE_FAIL", func(t *testing.T) {
			t.Parallel()
			dir := resultsDir(t)
			j := Job{
				Name:       "benchrun-test-nodefail",
				Config:     Config{Partition: "bench", Time: "00:05:00", SignalGrace: "30s", Nodes: 2, Extra: []string{"--nodelist=node2,node3"}},
				ResultsDir: dir, Command: []string{"srun", "--overlap", "-N2", "-n2", "sleep", "300"},
			}
			t.Cleanup(func() {
				// Bring node3 back; ReturnToService=2 returns it to idle.
				out, err := exec.Command("../.ci/slurm-cluster.sh", "up").CombinedOutput()
				if err != nil {
					t.Errorf(".ci/slurm-cluster.sh up: %v\n%s", err, out)
				}
			})
			go func() {
				// Kill node3's slurmd once the job runs there.
				for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
					out, _ := exec.Command("squeue", "-h", "-n", j.Name, "-o", "%T").Output()
					if strings.TrimSpace(string(out)) == "RUNNING" {
						time.Sleep(time.Second)
						pid, err := os.ReadFile("/run/slurmd-node3.pid")
						if err == nil {
							exec.Command("kill", strings.TrimSpace(string(pid))).Run()
						}
						return
					}
				}
			}()
			st := ClusterJob(t, c, j, 3*time.Minute)
			if st.Name != NodeFail || !st.Failed() || st.ExitStatus() != ExitExecutionError {
				t.Errorf("job ended %v, want NODE_FAIL, an execution error", st)
			}
			if !*update {
				return
			}
			out, err := exec.Command("scontrol", "show", "job", "-o", st.JobID).Output()
			if err == nil {
				os.WriteFile(filepath.Join("testdata", "recorded", "scontrol-node-fail.txt"), out, 0o644)
			}
		})
	})
}
