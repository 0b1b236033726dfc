package ci

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm/slurmtest"
)

// The tests in this file submit suites through real sbatch to the cluster
// of .ci/slurm-cluster.sh (partition "bench", node1..node3), and one kills a
// node's slurmd. They run only when asked to, with BENCHRUN_SLURM=1 (`make
// slurm-test` runs them one package at a time), and then fail when that
// cluster is not up; a cluster that merely answers is no reason to run
// them. Otherwise, and under -short, they skip loudly
// (slurmtest.RequireCluster).

// submitSuite runs `benchrun suite` on a suite from outside the
// allocation (SLURM_* variables removed) and returns its exit code, its
// output and the results directory.
func submitSuite(t *testing.T, suite string, during func(dir string)) (int, string, string) {
	t.Helper()
	bin := benchrunBinary(t)
	dir := filepath.Join(t.TempDir(), "results")
	abs, err := filepath.Abs(filepath.Join("testdata", "slurm", suite))
	if filepath.IsAbs(suite) { // a suite the test wrote
		abs = suite
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--baselines", t.TempDir(), "suite", "-o", dir, abs)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLURM_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if during != nil {
		go during(dir)
	}
	err = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if ctx.Err() != nil {
		t.Fatalf("benchrun suite did not end in 5m: %v\n%s", err, out.String())
	}
	return code, out.String(), dir
}

func readManifestT(t *testing.T, dir string) *results.Manifest {
	t.Helper()
	m, err := results.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSlurm(t *testing.T) {
	slurmtest.RequireCluster(t)
	benchrunBinary(t)

	t.Run("roles across three nodes", func(t *testing.T) {
		code, out, dir := submitSuite(t, "ok.toml", nil)
		if code != ExitOK {
			t.Fatalf("exit %d, want 0\n%s", code, out)
		}
		m := readManifestT(t, dir)
		if m.Slurm == nil || m.Slurm.State != "COMPLETED" || len(m.Slurm.Nodes) != 3 {
			t.Errorf("manifest slurm = %+v, want COMPLETED on 3 nodes", m.Slurm)
		}
		if len(m.Services) != 1 || m.Services[0].Node != "node1" || m.Services[0].URL != "http://node1:8000" {
			t.Errorf("services = %+v, want llm on node1", m.Services)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "samples", "chat", "*.jsonl"))
		nodes := map[string]bool{}
		for _, f := range files {
			results.ReadSampleFile(f, func(s *results.Sample) error {
				nodes[strings.Split(s.Worker, "/")[0]] = true
				return nil
			})
		}
		if !nodes["node2"] || !nodes["node3"] || len(nodes) != 2 {
			t.Errorf("samples come from %v, want node2 and node3", nodes)
		}
		for _, f := range []string{"summary.json", "report.html", "report.md", "junit.xml", "metrics.txt", "job.sh", "logs/llm-node1.log"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("missing %s: %v", f, err)
			}
		}
		var sum struct{ Verdict string }
		b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
		json.Unmarshal(b, &sum)
		if sum.Verdict != "pass" {
			t.Errorf("verdict %q, want pass", sum.Verdict)
		}
	})

	t.Run("service in apptainer (stand-in)", func(t *testing.T) {
		standin, err := filepath.Abs(filepath.Join("testdata", "apptainer-standin"))
		if err != nil {
			t.Fatal(err)
		}
		log := filepath.Join(t.TempDir(), "apptainer.log")
		t.Setenv("PATH", standin+string(os.PathListSeparator)+os.Getenv("PATH"))
		t.Setenv("APPTAINER_STANDIN_LOG", log)
		code, out, dir := submitSuite(t, "apptainer.toml", nil)
		if code != ExitOK {
			t.Fatalf("exit %d, want 0\n%s", code, out)
		}
		calls, err := os.ReadFile(log)
		if err != nil {
			t.Fatalf("the apptainer stand-in was never called: %v", err)
		}
		want := "apptainer-standin node1 exec --bind /tmp:/scratch /images/emulator.sif -- "
		if !strings.Contains(string(calls), want) || !strings.Contains(string(calls), " emulate vllm ") {
			t.Errorf("apptainer calls:\n%s\nwant one starting %q running benchrun emulate", calls, want)
		}
		if n, _ := countSamples(filepath.Join(dir, "samples", "chat")); n == 0 {
			t.Error("no samples")
		}
	})

	t.Run("monitor role", func(t *testing.T) { testSlurmMonitor(t) })

	t.Run("chroma", func(t *testing.T) { testSlurmChroma(t) })

	t.Run("failures", func(t *testing.T) {
		t.Run("killed slurmd gives NODE_FAIL", func(t *testing.T) {
			t.Parallel()
			t.Cleanup(func() {
				if out, err := exec.Command("../.ci/slurm-cluster.sh", "up").CombinedOutput(); err != nil {
					t.Errorf(".ci/slurm-cluster.sh up: %v\n%s", err, out)
				}
			})
			code, out, dir := submitSuite(t, "nodefail.toml", func(dir string) {
				// Once node3's worker has written samples, kill node3's slurmd.
				for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
					if n, _ := countSamples(filepath.Join(dir, "samples", "chat")); n > 0 {
						if pid, err := os.ReadFile("/run/slurmd-node3.pid"); err == nil {
							exec.Command("kill", "-9", strings.TrimSpace(string(pid))).Run()
						}
						return
					}
				}
			})
			if code != ExitError {
				t.Fatalf("exit %d, want %d\n%s", code, ExitError, out)
			}
			m := readManifestT(t, dir)
			if m.Slurm == nil || m.Slurm.State != "NODE_FAIL" || !m.Incomplete {
				t.Errorf("manifest slurm = %+v incomplete %v, want NODE_FAIL", m.Slurm, m.Incomplete)
			}
			if n, _ := countSamples(filepath.Join(dir, "samples", "chat")); n == 0 {
				t.Error("no partial samples kept")
			}
			junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
			if !strings.Contains(string(junit), "<error") || !strings.Contains(string(junit), "NODE_FAIL") {
				t.Errorf("junit.xml has no <error> naming NODE_FAIL:\n%s", junit)
			}
		})
		t.Run("time limit stops the run through USR1", func(t *testing.T) {
			t.Parallel()
			code, out, dir := submitSuite(t, "timelimit.toml", nil)
			if code != ExitError {
				t.Fatalf("exit %d, want %d\n%s", code, ExitError, out)
			}
			m := readManifestT(t, dir)
			if !m.Incomplete || !strings.Contains(m.Reason, "time limit") {
				t.Errorf("manifest incomplete %v reason %q, want the time limit", m.Incomplete, m.Reason)
			}
			statuses := map[string]results.Status{}
			for _, c := range m.Cases {
				statuses[c.ID] = c.Status
			}
			if statuses["chat/users=1"] != "error" || statuses["chat/users=2"] != "skipped" {
				t.Errorf("case statuses %v, want the running case an error and the next skipped", statuses)
			}
			for _, f := range []string{"summary.json", "report.html", "report.md", "junit.xml"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("missing %s: %v", f, err)
				}
			}
			junit, _ := os.ReadFile(filepath.Join(dir, "junit.xml"))
			if !strings.Contains(string(junit), "<error") || !strings.Contains(string(junit), "<skipped") {
				t.Errorf("junit.xml lacks <error> and <skipped>:\n%s", junit)
			}
		})
	})
}

// testSlurmMonitor submits monitor.toml: the job leaves a TSDB snapshot
// in which a Prometheus opened afterwards finds the emulated vLLM's series
// (at the endpoint endpoints.json records), every node's node_exporter,
// and the load the two workers reported.
func testSlurmMonitor(t *testing.T) {
	prom := needBinary(t, "prometheus", "prometheus")
	needBinary(t, "prometheus-node-exporter", "prometheus-node-exporter")
	code, out, dir := submitSuite(t, "monitor.toml", nil)
	if code != ExitOK {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	snap := filepath.Join(dir, "monitor", "prometheus", "snapshot")
	if _, err := os.Stat(snap); err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "logs", "monitor-*"))
		t.Fatalf("no TSDB snapshot: %v (monitor logs: %v)\n%s", err, logs, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "monitor", "prometheus", "data")); !os.IsNotExist(err) {
		t.Errorf("the working TSDB is still there after a snapshot: %v", err)
	}
	ep, err := readEndpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	instance := strings.TrimPrefix(ep["llm"], "http://")
	re := reopenTSDB(t, prom, snap)
	if v := promQuery(t, re, `max_over_time(vllm:e2e_request_latency_seconds_count{job="service-llm",instance="`+instance+`"}[1h])`); v <= 0 {
		t.Errorf("vllm:e2e_request_latency_seconds_count of %s in the snapshot: %v, want the requests of the run", instance, v)
	}
	if v := promQuery(t, re, `count(count by (instance) (node_cpu_seconds_total{job="node"}))`); v != 3 {
		t.Errorf("node_exporters in the snapshot: %v, want 3", v)
	}
	ok := promQuery(t, re, `sum(max_over_time(benchrun_requests_total{job="benchrun",role="worker",outcome="ok"}[1h]))`)
	if n, _ := countSamples(filepath.Join(dir, "samples", "chat")); ok <= 0 || ok > float64(n) {
		t.Errorf("workers' ok requests in the snapshot: %v; samples: %d", ok, n)
	}
	if v := promQuery(t, re, `max_over_time(benchrun_case_running{role="run",case="chat"}[1h])`); v != 1 {
		t.Errorf("the inside-job run's benchrun_case_running in the snapshot: %v, want 1", v)
	}
}
