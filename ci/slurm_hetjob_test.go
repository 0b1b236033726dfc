package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm/slurmtest"
)

// TestClusterHetjob submits heterogeneous jobs to the two-partition
// cluster of .ci/slurm-cluster.sh: services packed on node4 (partition
// gpu, 4 stand-in GPUs as GRES), clients on node2 and node3 (partition
// cpu).
func TestClusterHetjob(t *testing.T) {
	slurmtest.RequireCluster(t)
	benchrunBinary(t)

	t.Run("two services share the GPU node on GPUs of their own, clients on the CPU nodes", func(t *testing.T) {
		code, out, dir := submitSuite(t, hetjobWithIO500(t), nil)
		if code != ExitOK {
			t.Fatalf("exit %d, want 0\n%s", code, out)
		}
		m := readManifestT(t, dir)
		if m.Slurm == nil || m.Slurm.State != "COMPLETED" {
			t.Errorf("manifest slurm = %+v, want COMPLETED", m.Slurm)
		}
		gpus := map[string]string{}
		for _, sv := range m.Services {
			if sv.Node != m.Services[0].Node || sv.Node != "node1" && sv.Node != "node4" {
				t.Errorf("service %s on %q, want both on one GPU node (node1 or node4)", sv.Name, sv.Node)
			}
			// Recorded from inside the service's step: one device each.
			if sv.GPUs == "" || strings.Contains(sv.GPUs, ",") {
				t.Errorf("service %s saw CUDA_VISIBLE_DEVICES=%q, want one GPU", sv.Name, sv.GPUs)
			}
			if other, ok := gpus[sv.GPUs]; ok {
				t.Errorf("services %s and %s both got GPU %s", other, sv.Name, sv.GPUs)
			}
			gpus[sv.GPUs] = sv.Name
			// The wrapper looked for nvidia-smi in the step, and the
			// server started all the same: the test cluster's nodes have
			// none (unless this machine has one), so the GPUs are unknown.
			sg := sv.StepGPUs
			if _, err := exec.LookPath("nvidia-smi"); err != nil && (sg == nil || sg.Unknown != "no nvidia-smi on the node" || len(sg.Devices) != 0) {
				t.Errorf("service %s's step GPUs = %+v, want unknown: no nvidia-smi on the node", sv.Name, sg)
			}
		}
		if len(m.Services) != 2 {
			t.Fatalf("services = %+v, want llm-a and llm-b", m.Services)
		}
		if a := m.Services[0]; a.Name != "llm-a" || len(a.Pre) != 1 || a.Pre[0].Error != "" || a.Pre[0].Seconds < 0.3 {
			t.Errorf("llm-a's pre steps = %+v, want one that took at least 0.3 s", a.Pre)
		}
		for _, c := range []string{"chat-a", "chat-b"} {
			nodes := sampleNodes(t, dir, c)
			if nodes["node2"] == 0 || nodes["node3"] == 0 || len(nodes) != 2 {
				t.Errorf("%s: samples come from %v, want node2 and node3 (the cpu partition)", c, nodes)
			}
		}
		for _, c := range m.Cases {
			if c.Status != results.StatusDone {
				t.Errorf("case %s: %s %s", c.ID, c.Status, c.Error)
			}
		}
		checkHetjobTelemetry(t, dir, m)
		t.Run("monitor role", func(t *testing.T) { checkHetjobMonitor(t, dir, m) })
		t.Run("batch benchmark in the clients' component", func(t *testing.T) { checkHetjobIO500(t, dir) })
	})

	t.Run("same_partition: one component, clients on a further node of the services' partition", func(t *testing.T) {
		testSamePartition(t)
	})

	t.Run("the nightly example's placement with emulators", func(t *testing.T) {
		if _, err := exec.LookPath("chroma"); err != nil {
			t.Fatal("chroma is not installed (.ci/deps.sh): the nightly variant needs it on the nodes")
		}
		code, out, dir := submitSuite(t, "nightly-emulated.toml", nil)
		if code != ExitOK {
			t.Fatalf("exit %d, want 0\n%s", code, out)
		}
		m := readManifestT(t, dir)
		if m.Slurm == nil || m.Slurm.State != "COMPLETED" || len(m.Slurm.Nodes) != 3 {
			t.Errorf("manifest slurm = %+v, want COMPLETED on 3 nodes", m.Slurm)
		}
		gpus := map[string]string{}
		for _, sv := range m.Services {
			if sv.Node != m.Services[0].Node || sv.Node != "node1" && sv.Node != "node4" {
				t.Errorf("service %s on %q, want all on one GPU node (node1 or node4)", sv.Name, sv.Node)
			}
			gpus[sv.Name] = sv.GPUs
		}
		if gpus["vllm"] == "" || gpus["ollama"] == "" || gpus["vllm"] == gpus["ollama"] ||
			strings.Contains(gpus["vllm"]+gpus["ollama"], ",") {
			t.Errorf("GPUs seen inside the steps: %v, want one each, different", gpus)
		}
		for _, c := range []string{"chat", "ollama-generate"} {
			nodes := sampleNodes(t, dir, c)
			if nodes["node2"] == 0 || nodes["node3"] == 0 || len(nodes) != 2 {
				t.Errorf("%s: samples come from %v, want node2 and node3 (the cpu partition)", c, nodes)
			}
		}
		for _, c := range m.Cases {
			if c.Status != results.StatusDone {
				t.Errorf("case %s: %s %s", c.ID, c.Status, c.Error)
			}
		}
		for _, sv := range m.Services {
			if sv.Name == "ollama" && (len(sv.Pre) != 1 || sv.Pre[0].Error != "") {
				t.Errorf("ollama's pre steps: %+v, want one that succeeded", sv.Pre)
			}
		}
	})

	t.Run("a node failing in the services' component errors only its service's cases", func(t *testing.T) {
		t.Cleanup(func() {
			if out, err := exec.Command("../.ci/slurm-cluster.sh", "up").CombinedOutput(); err != nil {
				t.Errorf(".ci/slurm-cluster.sh up: %v\n%s", err, out)
			}
		})
		code, out, dir := submitSuite(t, "hetjob-nodefail.toml", func(dir string) {
			// Once chat-b has samples, node4 fails: every process in its
			// namespace (slurmd, the step daemons, llm-b) is killed.
			for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
				if n, _ := countSamples(filepath.Join(dir, "samples", "chat-b")); n > 0 {
					pids, _ := exec.Command("ip", "netns", "pids", "node4").Output()
					if f := strings.Fields(string(pids)); len(f) > 0 {
						exec.Command("kill", append([]string{"-9"}, f...)...).Run()
					}
					return
				}
			}
		})
		if code != ExitError {
			t.Fatalf("exit %d, want %d\n%s", code, ExitError, out)
		}
		m := readManifestT(t, dir)
		status := map[string]string{}
		for _, c := range m.Cases {
			status[c.ID] = string(c.Status) + " " + c.Error
		}
		t.Logf("case statuses %q; slurm %+v", status, m.Slurm)
		if !strings.HasPrefix(status["chat-b"], "error") || !strings.HasPrefix(status["chat-a"], "done") {
			t.Errorf("case statuses %q, want chat-b an error and chat-a done\n%s", status, out)
		}
		if nodes := sampleNodes(t, dir, "chat-a"); nodes["node2"] == 0 || nodes["node3"] == 0 {
			t.Errorf("chat-a: samples from %v, want node2 and node3", nodes)
		}
	})

	t.Run("a client node set DOWN before the case: no pass", func(t *testing.T) {
		testClientNodeLost(t)
	})

	t.Run("a service failing on its node errors only its cases", func(t *testing.T) {
		code, out, dir := submitSuite(t, "hetjob-broken.toml", nil)
		if code != ExitError {
			t.Fatalf("exit %d, want %d\n%s", code, ExitError, out)
		}
		m := readManifestT(t, dir)
		status := map[string]results.Status{}
		for _, c := range m.Cases {
			status[c.ID] = c.Status
		}
		if status["chat-broken"] != results.StatusError || status["chat-a"] != results.StatusDone || status["chat-b"] != results.StatusDone {
			t.Errorf("case statuses %v, want chat-broken an error, chat-a and chat-b done", status)
		}
		for _, c := range []string{"chat-a", "chat-b"} {
			if n, _ := countSamples(filepath.Join(dir, "samples", c)); n == 0 {
				t.Errorf("%s: no samples", c)
			}
		}
	})
}

// sampleNodes counts the samples of a case's files by the node that
// wrote them.
func sampleNodes(t *testing.T, dir, caseID string) map[string]int {
	t.Helper()
	return samplesByNode(filepath.Join(dir, "samples", results.CaseFileName(caseID)))
}

// samplesByNode counts the samples of the workers' files in dir by the
// node that took them (the first part of Sample.Worker).
func samplesByNode(dir string) map[string]int {
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	nodes := map[string]int{}
	for _, f := range files {
		results.ReadSampleFile(f, func(s *results.Sample) error {
			nodes[strings.Split(s.Worker, "/")[0]]++
			return nil
		})
	}
	return nodes
}

// checkHetjobTelemetry: the inside-job run (on the GPU node, the batch
// host) scraped each case's service at the endpoint the job placed it at,
// and analysis turned the series into server-side figures.
func checkHetjobTelemetry(t *testing.T, dir string, m *results.Manifest) {
	t.Helper()
	ep, err := readEndpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	service := map[string]string{"chat-a": "llm-a", "chat-b": "llm-b"}
	for _, c := range m.Cases {
		if service[c.ID] == "" {
			continue
		}
		want := ep[service[c.ID]] + "/metrics"
		if len(c.Telemetry) != 1 || c.Telemetry[0].URL != want || c.Telemetry[0].Points == 0 || c.Telemetry[0].Failures != 0 {
			t.Errorf("case %s: telemetry %+v, want %s scraped without a failure", c.ID, c.Telemetry, want)
		}
	}
	var sum struct {
		Cases []struct {
			ID        string              `json:"id"`
			Telemetry *analysis.Telemetry `json:"telemetry"`
		} `json:"cases"`
	}
	readJSON(t, filepath.Join(dir, "summary.json"), &sum)
	for _, c := range sum.Cases {
		if c.ID == "io500" {
			continue
		}
		if c.Telemetry == nil || c.Telemetry.Server == nil || c.Telemetry.Server.E2E == nil || c.Telemetry.Server.E2E.Count <= 0 {
			t.Errorf("summary case %s: telemetry %+v, want the server's E2E count", c.ID, c.Telemetry)
		}
	}
}

// checkHetjobMonitor: the monitor role of a heterogeneous job. Prometheus
// ran on a client node (partition cpu) and its snapshot holds both
// services' series at their endpoints on the GPU node, a node_exporter
// of each of the job's three nodes, and the workers' load.
func checkHetjobMonitor(t *testing.T, dir string, m *results.Manifest) {
	prom := needBinary(t, "prometheus", "prometheus")
	needBinary(t, "prometheus-node-exporter", "prometheus-node-exporter")
	logs, _ := filepath.Glob(filepath.Join(dir, "logs", "monitor-prometheus-*.log"))
	if len(logs) != 1 || !strings.HasSuffix(logs[0], "-node2.log") && !strings.HasSuffix(logs[0], "-node3.log") {
		t.Errorf("Prometheus logs %v, want one, of node2 or node3 (the clients' component)", logs)
	}
	snap := filepath.Join(dir, "monitor", "prometheus", "snapshot")
	if _, err := os.Stat(snap); err != nil {
		t.Fatalf("no TSDB snapshot: %v", err)
	}
	ep, err := readEndpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	re := reopenTSDB(t, prom, snap)
	for _, sv := range []string{"llm-a", "llm-b"} {
		instance := strings.TrimPrefix(ep[sv], "http://")
		if !strings.HasPrefix(instance, m.Services[0].Node+":") {
			t.Errorf("%s's endpoint %q, want on %s", sv, ep[sv], m.Services[0].Node)
		}
		q := `max_over_time(vllm:e2e_request_latency_seconds_count{job="service-` + sv + `",instance="` + instance + `"}[1h])`
		if v := promQuery(t, re, q); v <= 0 {
			t.Errorf("%s in the snapshot: %v, want the requests of its case", q, v)
		}
	}
	if v := promQuery(t, re, `count(count by (instance) (node_cpu_seconds_total{job="node"}))`); v != 3 {
		t.Errorf("node_exporters in the snapshot: %v, want 3 (the GPU node and both CPU nodes)", v)
	}
	if v := promQuery(t, re, `count(count by (instance) (max_over_time(benchrun_requests_total{job="benchrun",role="worker",outcome="ok"}[1h])))`); v != 2 {
		t.Errorf("workers with ok requests in the snapshot: %v, want 2", v)
	}
	// The inside-job run serves on the batch host, the services' first node.
	q := `max_over_time(benchrun_case_running{role="run",case="chat-a",instance="` + m.Services[0].Node + `:9464"}[1h])`
	if v := promQuery(t, re, q); v != 1 {
		t.Errorf("%s in the snapshot: %v, want 1", q, v)
	}
}

// testSamePartition submits same-partition.toml: one component of two
// nodes of partition gpu (node1, node4), no hetjob. Both services on the
// first node, each on a GPU of its own as recorded from inside its step;
// both workers on the second node; and, as docs/slurm.md says, the
// component's --gres=gpu:2 held on every node of the job, the client
// node's too (scontrol show job -d while the job runs).
func testSamePartition(t *testing.T) {
	var (
		mu   sync.Mutex
		jobs string // scontrol show job -d, once the job runs
	)
	done := make(chan struct{})
	code, out, dir := submitSuite(t, "same-partition.toml", func(dir string) {
		defer close(done)
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
			logs, _ := filepath.Glob(filepath.Join(dir, "slurm-*.out"))
			if len(logs) == 0 {
				continue
			}
			id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(logs[0]), "slurm-"), ".out")
			b, _ := exec.Command("scontrol", "show", "job", "-d", id).CombinedOutput()
			mu.Lock()
			jobs = string(b)
			mu.Unlock()
			return
		}
	})
	select {
	case <-done:
	case <-time.After(time.Minute):
	}
	if code != ExitOK {
		t.Fatalf("exit %d, want 0\n%s", code, out)
	}
	m := readManifestT(t, dir)
	if m.Slurm == nil || m.Slurm.State != "COMPLETED" || strings.Join(m.Slurm.Nodes, ",") != "node1,node4" {
		t.Errorf("manifest slurm = %+v, want COMPLETED on node1,node4", m.Slurm)
	}
	gpus := map[string]string{}
	for _, sv := range m.Services {
		if sv.Node != "node1" {
			t.Errorf("service %s on %q, want node1 (node 0 of the allocation)", sv.Name, sv.Node)
		}
		if sv.GPUs == "" || strings.Contains(sv.GPUs, ",") || gpus[sv.GPUs] != "" {
			t.Errorf("service %s saw CUDA_VISIBLE_DEVICES=%q (others: %v), want one GPU of its own", sv.Name, sv.GPUs, gpus)
		}
		gpus[sv.GPUs] = sv.Name
	}
	for _, c := range []string{"chat-a", "chat-b"} {
		if nodes := sampleNodes(t, dir, c); nodes["node4"] == 0 || len(nodes) != 1 {
			t.Errorf("%s: samples come from %v, want node4 only", c, nodes)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "samples", results.CaseFileName(c), "node4-*.jsonl"))
		if len(files) != 2 {
			t.Errorf("%s: samples files %v, want node4-0 and node4-1 (per_node = 2)", c, files)
		}
	}
	for _, c := range m.Cases {
		if c.Status != results.StatusDone {
			t.Errorf("case %s: %s %s", c.ID, c.Status, c.Error)
		}
	}
	job, _ := os.ReadFile(filepath.Join(dir, "job.sh"))
	if strings.Contains(string(job), "#SBATCH hetjob") || !strings.Contains(string(job), "#SBATCH --gres=gpu:2\n") {
		t.Errorf("job.sh: want one component asking --gres=gpu:2:\n%s", job)
	}
	mu.Lock()
	defer mu.Unlock()
	// Slurm 22.05 prints JOB_GRES=gpu:4 (2 nodes × 2) and, per node
	// group, "Nodes=node[1,4] ... GRES=gpu:2(IDX:0-1)".
	if !strings.Contains(jobs, "JOB_GRES=gpu:4") || !regexp.MustCompile(`Nodes=node\[1,4\] .*GRES=gpu:2`).MatchString(jobs) {
		t.Errorf("scontrol show job -d:\n%s\nwant gpu:2 on each of node1 and node4, 4 in all: the component's --gres applies to each of its nodes", jobs)
	}
}

// hetjobWithIO500 writes hetjob.toml with an io500 benchmark added (the
// stand-in, 4 srun tasks, 2 on each node): the test's own file, since the
// stand-in's path and replay are absolute. One job then also checks that
// a batch benchmark's srun step runs in the clients' component.
func hetjobWithIO500(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("testdata", "slurm", "hetjob.toml"))
	if err != nil {
		t.Fatal(err)
	}
	io := io500Suite(t, "")
	io = io[strings.Index(io, "[[benchmark]]"):]
	io = strings.Replace(io, `launcher = "local"`, "launcher = \"srun\"\ntasks = 4\ntasks_per_node = 2\nnodes = 2\nmpi = \"none\"", 1)
	path := filepath.Join(t.TempDir(), "hetjob-io500.toml")
	writeFile(t, path, string(b)+"\n"+io)
	return path
}

// checkHetjobIO500: the io500 case's srun step ran in het-group 1, its 4
// ranks 2 on each CPU node (as each rank recorded its host), none on the
// services' GPU node; and the run was parsed into its scores.
func checkHetjobIO500(t *testing.T, dir string) {
	ranks, _ := filepath.Glob(filepath.Join(dir, BatchDir, "io500", "rep0", io500ResultDir, "standin-rank*"))
	hosts := map[string]int{}
	for _, f := range ranks {
		b, _ := os.ReadFile(f)
		hosts[strings.TrimSpace(string(b))]++
	}
	if len(ranks) != 4 || hosts["node2"] != 2 || hosts["node3"] != 2 {
		t.Errorf("io500 ranks ran on %v, want 2 on node2 and 2 on node3 (the cpu partition)", hosts)
	}
	var sum batchSummary
	readJSON(t, filepath.Join(dir, "summary.json"), &sum)
	found := false
	for _, c := range sum.Cases {
		if c.ID == "io500" {
			found = true
			if c.Verdict != "pass" || c.Metrics["score_total"].Count == 0 {
				t.Errorf("io500 case: verdict %s, metrics %v, want pass with score_total", c.Verdict, c.Metrics)
			}
		}
	}
	if !found {
		t.Error("summary.json has no io500 case")
	}
	plan, _ := os.ReadFile(filepath.Join(dir, "job.sh"))
	if !strings.Contains(string(plan), "#SBATCH --partition=cpu\n#SBATCH --time=00:05:00\n#SBATCH --nodes=2\n#SBATCH --ntasks-per-node=2\n") {
		t.Errorf("job.sh: want the clients' component of 2 nodes with --ntasks-per-node=2 for the io500 step:\n%s", plan)
	}
}

// testClientNodeLost submits hetjob-clientfail.toml and sets node3 (a
// node of the clients' component) DOWN while the service's pre step runs,
// before any case. On Slurm 22.05 SLURM then ends the whole job NODE_FAIL
// (#SBATCH --no-kill keeps a job alive when a node stops responding, not
// when it is set DOWN): the case never runs. Whatever SLURM does, the run
// must not pass.
func testClientNodeLost(t *testing.T) {
	t.Cleanup(func() {
		// The node may be back by itself (ReturnToService=2); RESUME is
		// refused then.
		exec.Command("scontrol", "update", "NodeName=node3", "State=RESUME").Run()
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			if out, _ := exec.Command("sinfo", "-h", "-n", "node3", "-p", "cpu", "-o", "%T").Output(); strings.TrimSpace(string(out)) == "idle" {
				return
			}
		}
		t.Error("node3 is not idle again 60 s after State=RESUME")
	})
	downed := make(chan bool, 1)
	code, out, dir := submitSuite(t, "hetjob-clientfail.toml", func(dir string) {
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if _, err := os.Stat(filepath.Join(dir, "logs", "llm-pre.log")); err == nil {
				err := exec.Command("scontrol", "update", "NodeName=node3", "State=DOWN", "Reason=benchrun-test").Run()
				downed <- err == nil
				return
			}
		}
		downed <- false
	})
	if !<-downed {
		t.Fatalf("node3 was not set DOWN during the pre step\n%s", out)
	}
	m := readManifestT(t, dir)
	status := map[string]string{}
	for _, c := range m.Cases {
		status[c.ID] = string(c.Status) + " " + c.Error
	}
	t.Logf("exit %d; case statuses %q; slurm %+v", code, status, m.Slurm)
	if code != ExitError {
		t.Fatalf("exit %d, want %d\n%s", code, ExitError, out)
	}
	if strings.HasPrefix(status["chat"], "done") || status["chat"] == "" {
		t.Errorf("chat: %q, want an error or skipped with a client node lost", status["chat"])
	}
	if !m.Incomplete && !strings.Contains(status["chat"], "node3") {
		t.Errorf("manifest complete and chat %q does not name node3", status["chat"])
	}
	var sum struct{ Verdict string }
	readJSON(t, filepath.Join(dir, "summary.json"), &sum)
	if sum.Verdict == "pass" {
		t.Errorf("summary verdict pass with a client node lost")
	}
}
