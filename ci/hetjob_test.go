package ci

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm"
	"github.com/benchrun/benchrun/suites"
)

// TestBindingChecked: a service step that got no GPU, too many, a GPU
// another service holds, or ran on another node is an error (its cases
// never look green); a step as planned is accepted.
func TestBindingChecked(t *testing.T) {
	dir := t.TempDir()
	job := slurm.Job{ResultsDir: dir, Components: []slurm.Component{{Role: "services", Nodes: 1, GPUsPerNode: 2}},
		Services: []slurm.ServiceRole{
			{Name: "a", Nodes: []int{0}, GPUs: 1},
			{Name: "b", Nodes: []int{0}, GPUs: 1},
			{Name: "c", Nodes: []int{0}},
		}}
	steps := []slurm.Step{
		{Kind: slurm.StepService, Service: "a", Node: "node4"},
		{Kind: slurm.StepService, Service: "b", Node: "node4"},
		{Kind: slurm.StepService, Service: "c", Node: "node4"},
	}
	os.MkdirAll(filepath.Join(dir, slurm.BindingDir), 0o755)
	write := func(svc, rec string) {
		if err := os.WriteFile(job.BindingFile(svc), []byte(rec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, svc, rec, err string
		first               string // a's record checked before, when set
	}{
		{name: "as planned", svc: "a", rec: "node=node4\ncuda_visible_devices=0\nstep_gpus=0\n"},
		{name: "no binding record", svc: "a", err: "no binding record"},
		{name: "no GPU", svc: "a", rec: "node=node4\ncuda_visible_devices=\nstep_gpus=\n", err: `saw CUDA_VISIBLE_DEVICES=""`},
		{name: "two GPUs for one", svc: "a", rec: "node=node4\ncuda_visible_devices=0,1\n", err: "gpus = 1"},
		{name: "wrong node", svc: "a", rec: "node=node2\ncuda_visible_devices=0\n", err: `ran on "node2", planned on "node4"`},
		{name: "shared GPU", svc: "b", first: "node=node4\ncuda_visible_devices=0\n", rec: "node=node4\ncuda_visible_devices=0\n", err: `also service "a"'s`},
		{name: "no GPUs asked: node checked only", svc: "c", rec: "node=node4\ncuda_visible_devices=0,1\n"},
		{name: "no GPUs asked, wrong node", svc: "c", rec: "node=node3\n", err: "planned on"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(job.BindingFile("a"))
			a := &allocationPlacement{job: job, steps: steps}
			if c.first != "" {
				write("a", c.first)
				if _, err := a.bound(&suites.Service{Name: "a"}); err != nil {
					t.Fatal(err)
				}
			}
			if c.rec != "" {
				write(c.svc, c.rec)
			}
			_, err := a.bound(&suites.Service{Name: c.svc})
			switch {
			case c.err == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("err = %v, want one containing %q", err, c.err)
			}
		})
	}
}

var planResults = regexp.MustCompile(`/\S*?/results/nightly/\d{8}T\d{6}Z`)

// TestNightlyPlanGolden: the plan of examples/nightly.toml, one GPU node
// for the three services and two CPU nodes for the clients, with its job
// steps (docs/slurm.md shows it: -update rewrites both).
func TestNightlyPlanGolden(t *testing.T) {
	p := runCLI(t, "plan", "../examples/nightly.toml")
	if p.code != ExitOK {
		t.Fatalf("plan: %v", p)
	}
	exe, _ := os.Executable()
	out := planResults.ReplaceAllString(p.stdout, "RESULTS")
	out = strings.ReplaceAll(out, exe, "BENCHRUN")
	// The suite's absolute path depends on where the repository is.
	if abs, err := filepath.Abs("../examples/nightly.toml"); err == nil {
		out = strings.ReplaceAll(out, abs, "SUITE")
	}
	_, plan, _ := strings.Cut(out, "\njob script (sbatch):\n")
	golden(t, "plan-nightly.golden", plan)
	for _, want := range []string{
		"#SBATCH --partition=gpu\n#SBATCH --account=p200xxx\n#SBATCH --qos=default\n#SBATCH --time=03:00:00\n#SBATCH --nodes=1\n",
		"#SBATCH --gres=gpu:2\n",
		"#SBATCH hetjob\n#SBATCH --partition=cpu\n",
		"service vllm on gpu-0 (het-group 0), 1 GPU(s) of its own, slot(s) [0], port 8000",
		"service ollama on gpu-0 (het-group 0), 1 GPU(s) of its own, slot(s) [1], port 11434",
		"service chroma on gpu-0 (het-group 0), port 8001",
		"client on cpu-1 (het-group 1)",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("the plan lacks %q", want)
		}
	}
	docPath := "../docs/slurm.md"
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- plan-nightly begin -->\n```\n", "```\n<!-- plan-nightly end -->"
	before, rest, ok1 := strings.Cut(string(doc), begin)
	_, after, ok2 := strings.Cut(rest, end)
	if !ok1 || !ok2 {
		t.Fatalf("%s has no plan-nightly block", docPath)
	}
	want := before + begin + plan + end + after
	if *update {
		os.WriteFile(docPath, []byte(want), 0o644)
	} else if string(doc) != want {
		t.Errorf("%s's plan of examples/nightly.toml is not the current plan; go test ./ci -run TestNightlyPlanGolden -update", docPath)
	}
}

const samePartitionSuite = `
[suite]
name = "same"

[[service]]
name = "a"
kind = "emulator"
gpus = GPUS

[[service]]
name = "b"
kind = "emulator"
gpus = 2

[[benchmark]]
name = "ca"
service = "a"
  [benchmark.workload]
  users = 1
  requests = 1

[[benchmark]]
name = "cb"
service = "b"
  [benchmark.workload]
  users = 1
  requests = 1

[slurm]
time = "01:00:00"
same_partition = true
benchrun = "/opt/benchrun"

[slurm.services]
partition = "gpu"
gpus_per_node = 4

[slurm.clients]
nodes = 2
`

// TestSamePartitionPlan: with same_partition the clients get further nodes
// of one allocation (no hetjob, no --het-group), and a service that does
// not fit a node is refused at its gpus line.
func TestSamePartitionPlan(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "same.toml")
	os.WriteFile(file, []byte(strings.Replace(samePartitionSuite, "GPUS", "2", 1)), 0o644)
	p := runCLI(t, "plan", file)
	if p.code != ExitOK {
		t.Fatalf("plan: %v", p)
	}
	for _, want := range []string{"#SBATCH --partition=gpu\n", "#SBATCH --nodes=3\n", "#SBATCH --gres=gpu:4\n",
		"service a (emulator) on node 0, port 8000, GPU slots 0,1", "service b (emulator) on node 0, port 8001, GPU slots 2,3",
		"clients on node 1,2, 1 per node", "client on gpu-2, worker 1 of 2"} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, p.stdout)
		}
	}
	for _, not := range []string{"hetjob", "--het-group"} {
		if strings.Contains(p.stdout, not) {
			t.Errorf("plan has %q with same_partition", not)
		}
	}
	os.WriteFile(file, []byte(strings.Replace(samePartitionSuite, "GPUS", "6", 1)), 0o644)
	v := runCLI(t, "validate", file)
	if v.code != ExitUsage || !strings.Contains(v.stderr, `same.toml:8: service "a": gpus = 6 does not fit a node of 4 GPUs`) {
		t.Errorf("validate: %v", v)
	}
}

var placementLine = regexp.MustCompile(`(?m)^(#SBATCH (--partition|--nodes|--gres)=\S+|#SBATCH hetjob|#   service \S+ \(\S+\) on node \S+|#   clients on node \S+|.*GPU slots [0-9,]+)`)

// TestNightlyVariantPlacesAsExample: the suite TestClusterHetjob runs on
// the emulated cluster (ci/testdata/slurm/nightly-emulated.toml) places
// its roles as examples/nightly.toml does: the same components, node
// counts, GPUs and service nodes.
func TestNightlyVariantPlacesAsExample(t *testing.T) {
	placement := func(file string) []string {
		p := runCLI(t, "plan", file)
		if p.code != ExitOK {
			t.Fatalf("plan %s: %v", file, p)
		}
		var out []string
		for _, m := range placementLine.FindAllString(p.stdout, -1) {
			m = regexp.MustCompile(`\((vllm|ollama|chroma|emulator)\)`).ReplaceAllString(m, "(KIND)")
			m = regexp.MustCompile(`port \d+, `).ReplaceAllString(m, "")
			if i := strings.Index(m, ", image"); i >= 0 {
				m = m[:i]
			}
			out = append(out, m)
		}
		return out
	}
	ex := placement("../examples/nightly.toml")
	va := placement("testdata/slurm/nightly-emulated.toml")
	if strings.Join(ex, "\n") != strings.Join(va, "\n") {
		t.Errorf("placements differ:\nexample:\n%s\nvariant:\n%s", strings.Join(ex, "\n"), strings.Join(va, "\n"))
	}
	if len(ex) < 8 {
		t.Errorf("too little compared: %q", ex)
	}
}

// TestMissingWorkers: a client step that left no samples file named by
// its planned node (never ran, or ran elsewhere) is an error.
func TestMissingWorkers(t *testing.T) {
	dir := t.TempDir()
	steps := []slurm.Step{{Kind: slurm.StepClient, Node: "node2", Worker: 0}, {Kind: slurm.StepClient, Node: "node3", Worker: 1},
		{Kind: slurm.StepService, Node: "node4", Service: "a"}}
	os.WriteFile(filepath.Join(dir, "node2-0.jsonl"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "node4-1.jsonl"), nil, 0o644) // worker 1 ran on the wrong node
	errs := missingWorkers(steps, dir)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "worker 1 planned on node3 left no samples file node3-1.jsonl") {
		t.Errorf("errs = %v, want worker 1 on node3 missing", errs)
	}
	os.WriteFile(filepath.Join(dir, "node3-1.jsonl"), nil, 0o644)
	if errs := missingWorkers(steps, dir); len(errs) != 0 {
		t.Errorf("errs = %v, want none", errs)
	}
}

const preSuite = `
[suite]
name = "pre"

[[service]]
name = "a"
kind = "emulator"
pre = ["sleep 0.2", "echo staged > staged.txt"]

[[service]]
name = "b"
kind = "emulator"
pre = ["echo cannot stage >&2; exit 3"]

[[benchmark]]
name = "ca"
service = "a"
  [benchmark.workload]
  users = 1
  requests = 5
  [benchmark.dataset]
  prompt_tokens = 8
  output_tokens = 2

[[benchmark]]
name = "cb"
service = "b"
  [benchmark.workload]
  users = 1
  requests = 5
  [benchmark.dataset]
  prompt_tokens = 8
  output_tokens = 2
`

// TestPreStepsLocal: a service's pre steps run in order before it starts
// and their time is recorded; a failing one keeps the service from
// starting and errors only its cases.
func TestPreStepsLocal(t *testing.T) {
	bin := benchrunBinary(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pre.toml"), []byte(preSuite), 0o644)
	cmd := exec.Command(bin, "--baselines", t.TempDir(), "suite", "--local", "-o", "r", "pre.toml")
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != ExitError {
		t.Fatalf("exit %d, want %d\n%s", code, ExitError, out)
	}
	m := readManifestT(t, filepath.Join(dir, "r"))
	pre := map[string][]results.PreStep{}
	for _, sv := range m.Services {
		pre[sv.Name] = sv.Pre
	}
	if a := pre["a"]; len(a) != 2 || a[0].Seconds < 0.2 || a[0].Error != "" || a[1].Command != "echo staged > staged.txt" {
		t.Errorf("a's pre steps %+v, want two, the first at least 0.2 s", a)
	}
	if b := pre["b"]; len(b) != 1 || !strings.Contains(b[0].Error, "exit status 3") {
		t.Errorf("b's pre steps %+v, want one that failed with exit status 3", b)
	}
	status := map[string]results.Status{}
	for _, c := range m.Cases {
		status[c.ID] = c.Status
	}
	if status["ca"] != results.StatusDone || status["cb"] != results.StatusError {
		t.Errorf("case statuses %v, want ca done, cb an error", status)
	}
	if _, err := os.Stat(filepath.Join(dir, "staged.txt")); err != nil {
		t.Errorf("the second pre step did not run: %v", err)
	}
}

// TestBindingStaleRecord: a binding record left in the results directory
// by an earlier start of the service is removed when its steps are made,
// so a step that never wrote one is "no binding record", not the old
// record's check passing.
func TestBindingStaleRecord(t *testing.T) {
	dir := t.TempDir()
	job := slurm.Job{ResultsDir: dir, Components: []slurm.Component{{Role: "services", Nodes: 1, GPUsPerNode: 1}},
		Services: []slurm.ServiceRole{{Name: "a", Nodes: []int{0}, GPUs: 1}}}
	steps := []slurm.Step{{Kind: slurm.StepService, Service: "a", Node: "node4", URL: "http://node4:8000", Argv: []string{"srun", "true"}}}
	os.MkdirAll(filepath.Join(dir, slurm.BindingDir), 0o755)
	if err := os.WriteFile(job.BindingFile("a"), []byte("node=node4\ncuda_visible_devices=0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := &allocationPlacement{job: job, steps: steps}
	sv := &suites.Service{Name: "a", Kind: "vllm"}
	if _, err := a.services(sv, dir, "benchrun"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.bound(sv); err == nil || !strings.Contains(err.Error(), "no binding record") {
		t.Errorf("bound after a new start with the old record: err = %v, want no binding record", err)
	}
}

// TestBindingStepGPUs: what nvidia-smi in the step listed reaches the
// manifest's services[].step_gpus as devices, a failed nvidia-smi as
// unknown with its reason, and a record without nvidia-smi lines (an
// older wrapper) as nothing.
func TestBindingStepGPUs(t *testing.T) {
	dir := t.TempDir()
	job := slurm.Job{ResultsDir: dir, Components: []slurm.Component{{Role: "services", Nodes: 1, GPUsPerNode: 1}},
		Services: []slurm.ServiceRole{{Name: "a", Nodes: []int{0}, GPUs: 1}}}
	steps := []slurm.Step{{Kind: slurm.StepService, Service: "a", Node: "node4"}}
	os.MkdirAll(filepath.Join(dir, slurm.BindingDir), 0o755)
	cases := []struct {
		name, rec string
		want      *results.StepGPUs
	}{
		{name: "listed", rec: "node=node4\ncuda_visible_devices=0\nnvidia_smi_exit=0\nnvidia_smi=0, NVIDIA H100 80GB HBM3, 550.54.15, 81559 MiB\n",
			want: &results.StepGPUs{Devices: []results.GPUDevice{{Model: "NVIDIA H100 80GB HBM3", Driver: "550.54.15", MemoryBytes: 81559 << 20}}}},
		{name: "failed", rec: "node=node4\ncuda_visible_devices=0\nnvidia_smi_exit=9\n", want: &results.StepGPUs{Unknown: "nvidia-smi exited 9"}},
		{name: "older wrapper", rec: "node=node4\ncuda_visible_devices=0\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(job.BindingFile("a"), []byte(c.rec), 0o644); err != nil {
				t.Fatal(err)
			}
			a := &allocationPlacement{job: job, steps: steps}
			b, err := a.bound(&suites.Service{Name: "a"})
			if err != nil {
				t.Fatal(err)
			}
			if got := stepGPUs(b); !reflect.DeepEqual(got, c.want) || b.CUDAVisibleDevices != "0" {
				t.Errorf("step GPUs %+v (devices %q), want %+v", got, b.CUDAVisibleDevices, c.want)
			}
		})
	}
}
