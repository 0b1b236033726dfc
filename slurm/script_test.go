package slurm

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// golden compares got with testdata/NAME, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./slurm -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, got)
	}
}

const testBenchrun = "/opt/benchrun/bin/benchrun"

func scriptJobs() map[string]Job {
	return map[string]Job{
		"single-node": {
			Name:   "benchrun-smoke",
			Config: Config{Partition: "debug", Time: "00:30:00"},
			Services: []ServiceRole{{Name: "ollama", Kind: "ollama", Nodes: []int{0}, Port: 11434,
				Command: []string{"ollama", "serve"}, Env: map[string]string{"OLLAMA_HOST": "0.0.0.0:11434"}}},
			ResultsDir: "/scratch/bench/results/2026-01-01", SuiteFile: "/home/ci/suites/smoke.toml", Benchrun: testBenchrun,
		},
		"roles-across-nodes": {
			Name: "benchrun-nightly",
			Config: Config{Account: "proj42", Partition: "gpu", QOS: "high", Time: "02:00:00", Nodes: 5,
				GPUsPerNode: 4, CPUsPerTask: 32, Mem: "0", Constraint: "a100&ib", Reservation: "nightly",
				Extra: []string{"--exclusive", "--gres-flags=enforce-binding"}, Modules: []string{"cuda/12.4", "ollama/0.6"},
				Env: map[string]string{"HF_HOME": "/scratch/hf cache", "NOTE": "it's $(not) run"}, SignalGrace: "5m"},
			Services: []ServiceRole{
				{Name: "vllm", Kind: "vllm", Nodes: []int{0}, Port: 8000, GPUs: 4,
					Command: []string{"vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct", "--port", "8000", "--tensor-parallel-size", "4"}},
				{Name: "ollama-a", Kind: "ollama", Nodes: []int{1}, Port: 11434, GPUs: 4, Command: []string{"ollama", "serve"},
					Env: map[string]string{"OLLAMA_HOST": "0.0.0.0:11434"}},
				{Name: "ollama-b", Kind: "ollama", Nodes: []int{2}, Port: 11434, GPUs: 4, Command: []string{"ollama", "serve"},
					Env: map[string]string{"OLLAMA_HOST": "0.0.0.0:11434"}},
			},
			Clients:    ClientRole{PerNode: 2, Args: []string{"--results", "/scratch/bench/results/nightly"}},
			ResultsDir: "/scratch/bench/results/nightly", SuiteFile: "/home/ci/suites/nightly.toml", Benchrun: testBenchrun,
		},
		"apptainer": {
			Config: Config{Partition: "gpu", Time: "1-00:00:00", GPUsPerNode: 1, Container: ContainerApptainer,
				Binds: []string{"/scratch"}, Containers: map[string]ContainerSpec{"vllm": {Image: "/sw/images/vllm 0.8.sif", Binds: []string{"/models:/models:ro"}}}},
			Services: []ServiceRole{{Name: "vllm", Kind: "vllm", Nodes: []int{0}, Port: 8000, GPUs: 1,
				Image: "/sw/images/vllm 0.8.sif", Binds: []string{"/scratch", "/models:/models:ro"},
				Command: []string{"vllm", "serve", "/models/qwen", "--port", "8000"}},
				{Name: "chroma", Kind: "chroma", Nodes: []int{0}, Port: 8001, Command: []string{"chroma", "run", "--port", "8001"}}},
			Clients:    ClientRole{Nodes: []int{1}},
			ResultsDir: "/scratch/results dir/run 1", SuiteFile: "/home/ci/suite's.toml", Benchrun: testBenchrun,
		},
		"monitor": {
			Name: "benchrun-monitored",
			Config: Config{Partition: "gpu", Time: "01:00:00", Nodes: 4, GPUsPerNode: 4,
				Monitor: &Monitor{Prometheus: "/opt/prometheus/bin/prometheus", GPUExporterPort: 9401}},
			Services: []ServiceRole{{Name: "vllm", Kind: "vllm", Nodes: []int{0}, Port: 8000, GPUs: 4,
				Command: []string{"vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct", "--port", "8000"}}},
			Clients:    ClientRole{PerNode: 2},
			ResultsDir: "/scratch/bench/results/monitored", SuiteFile: "/home/ci/suites/monitored.toml", Benchrun: testBenchrun,
		},
		"hetjob-packed": {
			Name: "benchrun-nightly",
			Config: Config{Account: "p200", Time: "03:00:00", Container: ContainerApptainer,
				Services: &RoleConfig{Partition: "gpu"}, Clients: &RoleConfig{Partition: "cpu", Nodes: 2}},
			Components: []Component{
				{Role: "services", Partition: "gpu", Account: "p200", Time: "03:00:00", Nodes: 1, TasksPerNode: 2, GPUsPerNode: 2},
				{Role: "clients", Partition: "cpu", Account: "p200", Time: "03:00:00", Nodes: 2},
			},
			Services: []ServiceRole{
				{Name: "vllm", Kind: "vllm", Nodes: []int{0}, Port: 8000, GPUs: 1, GPUSlots: []int{0}, Mem: "64G",
					Image: "/sw/vllm.sif", Command: []string{"vllm", "serve", "/models/llama", "--port", "8000"}},
				{Name: "ollama", Kind: "ollama", Nodes: []int{0}, Port: 11434, GPUs: 1, GPUSlots: []int{1}, CPUs: 8,
					Pre: []string{"ollama pull llama3.1:8b"}, Command: []string{"ollama", "serve"},
					Env: map[string]string{"OLLAMA_HOST": "0.0.0.0:11434"}},
				{Name: "chroma", Kind: "chroma", Nodes: []int{0}, Port: 8001, Command: []string{"chroma", "run", "--port", "8001"}},
			},
			Clients:    ClientRole{Nodes: []int{1, 2}},
			ResultsDir: "/scratch/results/nightly", SuiteFile: "/home/ci/suites/nightly.toml", Benchrun: testBenchrun,
		},
		"ray-distributed": {
			Name:   "benchrun-70b",
			Config: Config{Partition: "gpu", Time: "04:00:00", GPUsPerNode: 4, Modules: []string{"apptainer"}, Container: ContainerApptainer},
			Services: []ServiceRole{{Name: "llama70b", Kind: "vllm", Nodes: []int{0, 1}, Port: 8000, GPUs: 4,
				Image: "/sw/images/vllm.sif", Binds: []string{"/models"},
				Command: []string{"vllm", "serve", "/models/Llama-3.1-70B-Instruct", "--port", "8000"},
				Ray:     &Ray{TensorParallelSize: 4, PipelineParallelSize: 2}}},
			Clients:    ClientRole{Nodes: []int{2}, PerNode: 4},
			ResultsDir: "/scratch/results/70b", SuiteFile: "/home/ci/suites/70b.toml", Benchrun: testBenchrun,
		},
	}
}

func formatSteps(steps []Step) string {
	var b strings.Builder
	for _, s := range steps {
		fmt.Fprintf(&b, "%s %s on %s", s.Kind, s.Service, s.Node)
		if s.URL != "" {
			fmt.Fprintf(&b, " url=%s", s.URL)
		}
		if s.Kind == StepClient {
			fmt.Fprintf(&b, " worker %d of %d", s.Worker, s.Workers)
		}
		fmt.Fprintf(&b, "\n  %s\n", ShellJoin(s.Argv))
	}
	return b.String()
}

func TestRenderScriptGolden(t *testing.T) {
	for name, j := range scriptJobs() {
		t.Run(name, func(t *testing.T) {
			script, err := RenderScript(j)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "scripts/"+name+".sh", script)
			if out, err := exec.Command("bash", "-n", "-c", script).CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v\n%s", err, out)
			}
			nodes, err := ExpandHostlist(fmt.Sprintf("node[01-%02d]", j.NodeCount()))
			if err != nil {
				t.Fatal(err)
			}
			steps, err := j.Steps(nodes)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "steps/"+name+".txt", formatSteps(steps))
		})
	}
}

func TestRenderScriptRejects(t *testing.T) {
	base := scriptJobs()["single-node"]
	tests := []struct {
		name   string
		modify func(*Job)
		want   string
	}{
		{"partition injection", func(j *Job) { j.Config.Partition = "x\nrm -rf ~" }, `slurm.partition "x\nrm -rf ~"`},
		{"relative results", func(j *Job) { j.ResultsDir = "results" }, `results directory "results": want an absolute path`},
		{"results path sbatch mangles", func(j *Job) { j.ResultsDir = "/scratch/run#1" }, `results directory "/scratch/run#1": sbatch reads #, % and \ in --output specially`},
		{"results newline", func(j *Job) { j.ResultsDir = "/r\n#SBATCH --uid=0" }, "results directory"},
		{"node outside allocation", func(j *Job) { j.Config.Nodes = 1; j.Services[0].Nodes = []int{1} }, `service "ollama": node 1 is outside the allocation of slurm.nodes = 1`},
		{"two nodes without ray", func(j *Job) { j.Services[0].Nodes = []int{0, 1} }, "2 nodes without ray"},
		{"ray needs GPUs", func(j *Job) {
			j.Config.GPUsPerNode = 2
			j.Services[0].Nodes = []int{0, 1}
			j.Services[0].Ray = &Ray{TensorParallelSize: 4, PipelineParallelSize: 2}
		}, "needs 8 GPUs; 2 nodes × gpus_per_node 2 have 4"},
		{"port", func(j *Job) { j.Services[0].Port = 0 }, "port 0"},
		{"image without apptainer", func(j *Job) { j.Services[0].Image = "x.sif" }, `needs slurm.container = "apptainer"`},
		{"duplicate service", func(j *Job) { j.Services = append(j.Services, j.Services[0]) }, "listed twice"},
		{"service name", func(j *Job) { j.Services[0].Name = "a b" }, `service "a b": want a name`},
		{"monitor port", func(j *Job) { j.Config.Monitor = &Monitor{Port: 70000} }, "slurm.monitor.port 70000: want 1-65535"},
		{"monitor ports collide", func(j *Job) { j.Config.Monitor = &Monitor{NodeExporterPort: 9090} }, "slurm.monitor.node_exporter_port 9090: the same port as port"},
		{"monitor port of a service", func(j *Job) { j.Config.Monitor = &Monitor{Port: 11434} }, `slurm.monitor.port: service "ollama" listens on port 11434 too`},
		{"worker port of a service", func(j *Job) { j.Config.Monitor = &Monitor{BenchrunPort: 11433} }, `slurm.monitor.benchrun_port: service "ollama" listens on port 11434 too`},
		{"workers past 65535", func(j *Job) { j.Config.Monitor = &Monitor{BenchrunPort: 65535} }, "past 65535"},
		{"monitor executable", func(j *Job) { j.Config.Monitor = &Monitor{NodeExporter: "x\nrm -rf ~"} }, `slurm.monitor.node_exporter "x\nrm -rf ~": want an executable`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := base
			j.Services = append([]ServiceRole(nil), base.Services...)
			tt.modify(&j)
			_, err := RenderScript(j)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("RenderScript: %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestScriptForwardsUSR1 runs a rendered script under bash (no SLURM) with a
// fake benchrun, sends USR1 to the shell as SLURM would before the time
// limit, and checks that benchrun got it and its status is the script's.
func TestScriptForwardsUSR1(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake-benchrun")
	if err := os.WriteFile(fake, []byte(`#!/bin/sh
trap 'echo got USR1 > "$1/usr1"; exit 3' USR1
echo started > "$1/started"
# Bounded, so a test binary killed mid-test leaves no endless loop behind.
i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done
`), 0o755); err != nil {
		t.Fatal(err)
	}
	j := Job{Config: Config{SignalGrace: "10s", Env: map[string]string{"X": "1"}}, ResultsDir: dir, Command: []string{fake, dir}}
	script, err := RenderScript(j)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(dir, "started"))
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("script ended with %v, want exit status 3 (the fake benchrun's)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "usr1")); err != nil {
		t.Errorf("benchrun did not get USR1: %v", err)
	}
}

// TestScriptSetupFailureIsExecutionError checks that a failure before
// benchrun starts (a missing module) exits 2, not a benchrun verdict.
func TestScriptSetupFailureIsExecutionError(t *testing.T) {
	dir := t.TempDir()
	j := Job{Config: Config{Modules: []string{"no-such-module/1.0"}}, ResultsDir: dir, Command: []string{"true"}}
	script, err := RenderScript(j)
	if err != nil {
		t.Fatal(err)
	}
	err = exec.Command("bash", "-c", script).Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != ExitExecutionError {
		t.Fatalf("script ended with %v, want exit status %d", err, ExitExecutionError)
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s did not appear in 10 s", path)
}

func TestStepCommand(t *testing.T) {
	got := ShellJoin(StepCommand("node3", []string{"vllm", "serve", "m"}, StepOptions{Name: "vllm", Container: ContainerApptainer,
		Image: "/i.sif", Binds: []string{"/a", "/b:/c"}, GPU: true, Env: map[string]string{"B": "2", "A": "1 2"}}))
	want := "srun --overlap --nodelist=node3 -N1 -n1 --job-name=vllm env 'A=1 2' B=2 apptainer exec --nv --bind /a --bind /b:/c /i.sif vllm serve m"
	if got != want {
		t.Errorf("StepCommand:\n got %s\nwant %s", got, want)
	}
	if got := ShellJoin(StepCommand("n1", []string{"x"}, StepOptions{Image: "/i.sif"})); got != "srun --overlap --nodelist=n1 -N1 -n1 x" {
		t.Errorf("without a container runtime the image must be ignored: %s", got)
	}
}

func TestAllocationNodes(t *testing.T) {
	t.Setenv("SLURM_JOB_ID", "")
	t.Setenv("SLURM_JOB_NODELIST", "")
	t.Setenv("SLURM_NODELIST", "")
	if InAllocation() {
		t.Error("InAllocation() = true without SLURM_JOB_ID")
	}
	if _, err := AllocationNodes(); err == nil {
		t.Error("AllocationNodes() without SLURM_JOB_NODELIST: want an error")
	}
	t.Setenv("SLURM_JOB_ID", "7")
	t.Setenv("SLURM_JOB_NODELIST", "gpu[01-02],cpu7")
	nodes, err := AllocationNodes()
	if err != nil || strings.Join(nodes, " ") != "gpu01 gpu02 cpu7" || !InAllocation() {
		t.Errorf("AllocationNodes() = %q, %v", nodes, err)
	}
}
