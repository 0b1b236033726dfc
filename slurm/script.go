package slurm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// DefaultRayPort is the Ray GCS port of a distributed service's head node.
const DefaultRayPort = 6379

// OutputFile is the job's stdout/stderr file inside the results directory;
// SLURM replaces %j with the job id.
const OutputFile = "slurm-%j.out"

// Job is one benchrun suite run as a single SLURM job: the allocation
// (Config), which nodes run which service (Services) and which run the load
// clients (Clients). Node numbers in roles index the allocation's node list
// in SLURM's order (AllocationNodes), so roles are fixed before the
// scheduler picks the nodes.
type Job struct {
	Name     string        `json:"name"` // job name; "benchrun" when empty
	Config   Config        `json:"config"`
	Services []ServiceRole `json:"services,omitempty"`
	Clients  ClientRole    `json:"clients"`
	// ResultsDir and SuiteFile are absolute paths on a file system every
	// node sees. ResultsDir must exist before sbatch: the job's output file
	// goes there.
	ResultsDir string `json:"results_dir"`
	SuiteFile  string `json:"suite_file"`
	// Benchrun is the benchrun executable on the nodes; empty means
	// Config.Benchrun, then the running executable.
	Benchrun string `json:"benchrun,omitempty"`
	// Command replaces the inside-job command,
	//   BENCHRUN suite --inside-job --results RESULTS_DIR SUITE_FILE
	// when set (for tests, or a wrapper).
	Command []string `json:"command,omitempty"`
	// TasksPerNode is the allocation's tasks per node (--ntasks-per-node);
	// 1 when 0. MPI steps of batch benchmarks (MPIStepCommand) need as
	// many as they start on a node.
	TasksPerNode int `json:"tasks_per_node,omitempty"`
	// Components, when set, replace the allocation options of Config
	// (partition, nodes, GPUs, ...) with one #SBATCH block per component:
	// with two, a heterogeneous job (#SBATCH hetjob) whose steps run with
	// srun --het-group=N. Node indexes in roles count over the components'
	// nodes in order. With Components, a service with GPUs gets them as
	// its own (--exact --gres=gpu:N, disjoint from its neighbours').
	Components []Component `json:"components,omitempty"`
}

// Component is one #SBATCH block of the job: what one role gets.
type Component struct {
	Role         string `json:"role"` // "services", "clients" or "services+clients"
	Partition    string `json:"partition,omitempty"`
	Account      string `json:"account,omitempty"`
	QOS          string `json:"qos,omitempty"`
	Time         string `json:"time,omitempty"`
	Constraint   string `json:"constraint,omitempty"`
	Mem          string `json:"mem,omitempty"`
	Nodes        int    `json:"nodes"`
	TasksPerNode int    `json:"tasks_per_node,omitempty"` // 1 when 0
	CPUsPerTask  int    `json:"cpus_per_task,omitempty"`
	GPUsPerNode  int    `json:"gpus_per_node,omitempty"` // --gres=gpu:N
}

// ServiceRole is one service started inside the allocation.
type ServiceRole struct {
	Name string `json:"name"` // the suite's service name
	Kind string `json:"kind"` // "vllm", "ollama", "chroma", ...
	// Nodes index the allocation; one node unless Ray is set.
	Nodes   []int             `json:"nodes"`
	Command []string          `json:"command"` // argv of the server, such as ["vllm", "serve", MODEL, "--port", "8000"]
	Port    int               `json:"port"`    // the endpoint is http://NODE:Port on the first node
	Image   string            `json:"image,omitempty"`
	Binds   []string          `json:"binds,omitempty"`
	GPUs    int               `json:"gpus,omitempty"` // GPUs per node the service uses; >0 adds --nv
	Env     map[string]string `json:"env,omitempty"`
	// Ray runs one vLLM across Nodes: a Ray head on the first node,
	// workers on the others, then Command on the head with the parallel
	// sizes appended.
	Ray *Ray `json:"ray,omitempty"`
	// GPUSlots are the packer's GPU slots of the service on its node
	// (Pack), for the plan; SLURM picks the devices (--gres).
	GPUSlots []int  `json:"gpu_slots,omitempty"`
	CPUs     int    `json:"cpus,omitempty"` // --cpus-per-task of its step
	Mem      string `json:"mem,omitempty"`  // --mem of its step
	// Pre are shell commands run one after the other on the service's
	// (first) node, in its container, before the server starts.
	Pre []string `json:"pre,omitempty"`
}

// Ray describes a Ray-distributed vLLM service.
type Ray struct {
	TensorParallelSize   int `json:"tensor_parallel_size" toml:"tensor_parallel_size"`
	PipelineParallelSize int `json:"pipeline_parallel_size" toml:"pipeline_parallel_size"`
	Port                 int `json:"port,omitempty" toml:"port"` // GCS port; DefaultRayPort when 0
}

// ClientRole places the load-generating workers.
type ClientRole struct {
	// Nodes index the allocation; empty means every node no service uses,
	// or node 0 when services use them all.
	Nodes   []int    `json:"nodes,omitempty"`
	PerNode int      `json:"per_node,omitempty"` // worker processes per node; 1 when 0
	Args    []string `json:"args,omitempty"`     // arguments after `benchrun worker --worker=I --workers=N`
}

// Step kinds.
const (
	StepService   = "service"
	StepRayHead   = "ray-head"
	StepRayWorker = "ray-worker"
	StepClient    = "client"
	StepPre       = "pre"
)

// BindingDir is where, under the results directory, each service step of
// a job with Components records its node and GPUs (BindingFile) before
// the server starts, for benchrun to check them.
const BindingDir = "bindings"

// BindingFile is the file a service's step writes: lines node=NAME,
// cuda_visible_devices=LIST and step_gpus=LIST as the step saw them.
func (j *Job) BindingFile(service string) string {
	return filepath.Join(j.ResultsDir, BindingDir, service+".env")
}

// Step is one srun step the inside-job run launches, in launch order.
type Step struct {
	Kind    string   `json:"kind"`    // StepService, StepRayHead, StepRayWorker, StepClient
	Service string   `json:"service"` // service name; "" for clients
	Node    string   `json:"node"`
	Argv    []string `json:"argv"`          // full argv, starting with srun
	URL     string   `json:"url,omitempty"` // StepService: http://NODE:PORT
	Worker  int      `json:"worker,omitempty"`
	Workers int      `json:"workers,omitempty"`
	// MetricsPort is where a client worker serves its live metrics when
	// the monitor role is on (Config.Monitor); 0 otherwise.
	MetricsPort int `json:"metrics_port,omitempty"`
	// HetGroup is the component the step runs in (srun --het-group).
	HetGroup int `json:"het_group,omitempty"`
}

var serviceNamePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// NodeCount returns the number of nodes the job allocates: Config.Nodes, or
// one more than the highest node any role uses.
func (j *Job) NodeCount() int {
	if len(j.Components) > 0 {
		n := 0
		for _, c := range j.Components {
			n += c.Nodes
		}
		return n
	}
	n := 0
	for _, s := range j.Services {
		for _, i := range s.Nodes {
			n = max(n, i+1)
		}
	}
	for _, i := range j.Clients.Nodes {
		n = max(n, i+1)
	}
	if j.Config.Nodes > 0 {
		return j.Config.Nodes
	}
	return max(n, 1)
}

// Validate checks the job for RenderScript: its Config, its paths and its
// roles against the node count.
func (j *Job) Validate() []error {
	errs := j.validateRoles()
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	for _, p := range []struct{ what, path string }{{"results directory", j.ResultsDir}, {"suite file", j.SuiteFile}} {
		if p.path == "" && j.Command != nil && p.what == "suite file" {
			continue
		}
		if !filepath.IsAbs(p.path) || hasControl(p.path) {
			add("%s %q: want an absolute path", p.what, p.path)
		}
	}
	// sbatch reads #SBATCH values its own way: "#" starts a comment, "\"
	// escapes, "%" expands (%j, %x, ...). The job's output file is under
	// the results directory, so its path must not hold them.
	if strings.ContainsAny(j.ResultsDir, "#%\\") {
		add("results directory %q: sbatch reads #, %% and \\ in --output specially; choose a path without them", j.ResultsDir)
	}
	return errs
}

// validateRoles checks what Steps needs: the Config and the roles.
func (j *Job) validateRoles() []error {
	errs := j.Config.Validate()
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if j.Name != "" && !namePattern.MatchString(j.Name) {
		add("job name %q: want letters, digits, '_', '.', '+' or '-' (not first)", j.Name)
	}
	if j.Benchrun != "" && (!filepath.IsAbs(j.Benchrun) || hasControl(j.Benchrun)) {
		add("benchrun %q: want an absolute path", j.Benchrun)
	}
	for i, a := range j.Command {
		if strings.IndexByte(a, 0) >= 0 {
			add("command[%d]: NUL byte", i)
		}
	}
	nodes := j.NodeCount()
	errs = append(errs, j.validateComponents()...)
	if j.Config.Nodes > 0 || len(j.Components) > 0 {
		for _, s := range j.Services {
			for _, i := range s.Nodes {
				if i >= nodes {
					add("service %q: node %d is outside the allocation of slurm.nodes = %d (nodes count from 0)", s.Name, i, nodes)
				}
			}
		}
		for _, i := range j.Clients.Nodes {
			if i >= nodes {
				add("clients: node %d is outside the allocation of slurm.nodes = %d (nodes count from 0)", i, nodes)
			}
		}
	}
	seen := map[string]bool{}
	for _, s := range j.Services {
		switch {
		case !serviceNamePattern.MatchString(s.Name):
			add("service %q: want a name of letters, digits, '_', '.' or '-'", s.Name)
		case seen[s.Name]:
			add("service %q: listed twice", s.Name)
		}
		seen[s.Name] = true
		if len(s.Command) == 0 {
			add("service %q: no command", s.Name)
		}
		for i, a := range s.Command {
			if strings.IndexByte(a, 0) >= 0 {
				add("service %q: command[%d]: NUL byte", s.Name, i)
			}
		}
		if s.Port < 1 || s.Port > 65535 {
			add("service %q: port %d: want 1-65535", s.Name, s.Port)
		}
		if len(s.Nodes) == 0 {
			add("service %q: no nodes", s.Name)
		}
		used := map[int]bool{}
		for _, i := range s.Nodes {
			if i < 0 {
				add("service %q: node %d: nodes count from 0", s.Name, i)
			}
			if used[i] {
				add("service %q: node %d listed twice", s.Name, i)
			}
			used[i] = true
		}
		if s.Ray == nil && len(s.Nodes) > 1 {
			add("service %q: %d nodes without ray: a service runs on one node unless distributed with Ray", s.Name, len(s.Nodes))
		}
		if s.Ray != nil {
			r := s.Ray
			if r.TensorParallelSize < 1 || r.PipelineParallelSize < 1 {
				add("service %q: ray: tensor_parallel_size and pipeline_parallel_size must be at least 1", s.Name)
			}
			if r.Port < 0 || r.Port > 65535 {
				add("service %q: ray: port %d: want 1-65535", s.Name, r.Port)
			}
			if g := j.Config.GPUsPerNode; g > 0 && r.TensorParallelSize*r.PipelineParallelSize > g*len(s.Nodes) {
				add("service %q: ray: tensor_parallel_size %d × pipeline_parallel_size %d needs %d GPUs; %d nodes × gpus_per_node %d have %d",
					s.Name, r.TensorParallelSize, r.PipelineParallelSize, r.TensorParallelSize*r.PipelineParallelSize, len(s.Nodes), g, g*len(s.Nodes))
			}
		}
		if s.Image != "" && j.Config.Container != ContainerApptainer {
			add("service %q: image %q needs slurm.container = \"apptainer\"", s.Name, s.Image)
		}
		for _, v := range append(append([]string{s.Image}, s.Binds...), s.Kind) {
			if hasControl(v) {
				add("service %q: control characters in %q", s.Name, v)
			}
		}
		for _, k := range sortedKeys(s.Env) {
			if !envNamePattern.MatchString(k) || strings.IndexByte(s.Env[k], 0) >= 0 {
				add("service %q: env %q: want a variable name and a value without NUL", s.Name, k)
			}
		}
	}
	if j.Clients.PerNode < 0 {
		add("clients: per_node %d: must not be negative", j.Clients.PerNode)
	}
	for _, i := range j.Clients.Nodes {
		if i < 0 {
			add("clients: node %d: nodes count from 0", i)
		}
	}
	for i, a := range j.Clients.Args {
		if strings.IndexByte(a, 0) >= 0 {
			add("clients: args[%d]: NUL byte", i)
		}
	}
	return append(errs, j.validateMonitor()...)
}

func (j *Job) benchrun() (string, error) {
	if j.Benchrun != "" {
		return j.Benchrun, nil
	}
	if j.Config.Benchrun != "" {
		return j.Config.Benchrun, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("benchrun path on the nodes: %w", err)
	}
	return exe, nil
}

// insideCommand returns the argv the job script runs.
func (j *Job) insideCommand() ([]string, error) {
	if j.Command != nil {
		return j.Command, nil
	}
	exe, err := j.benchrun()
	if err != nil {
		return nil, err
	}
	return []string{exe, "suite", "--inside-job", "--results", j.ResultsDir, j.SuiteFile}, nil
}

// clientNodes returns the allocation indexes clients run on.
func (j *Job) clientNodes() []int {
	if len(j.Clients.Nodes) > 0 {
		return j.Clients.Nodes
	}
	used := map[int]bool{}
	for _, s := range j.Services {
		for _, i := range s.Nodes {
			used[i] = true
		}
	}
	var free []int
	for i := 0; i < j.NodeCount(); i++ {
		if !used[i] {
			free = append(free, i)
		}
	}
	if len(free) == 0 {
		return []int{0}
	}
	return free
}

// RenderScript renders the sbatch script of j. Every value from the suite
// is validated (Job.Validate) and shell-quoted; a suite cannot add commands.
// The script loads modules, exports the environment, starts the inside-job
// benchrun in the background and waits for it, forwarding USR1 (time limit
// near), TERM and INT to it; it exits with benchrun's status, or 2 when
// anything before benchrun fails.
func RenderScript(j Job) (string, error) {
	if errs := j.Validate(); len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	inside, err := j.insideCommand()
	if err != nil {
		return "", err
	}
	c := &j.Config
	name := j.Name
	if name == "" {
		name = "benchrun"
	}
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	opt := func(key, v string) {
		if v != "" {
			line("#SBATCH --%s=%s", key, v)
		}
	}
	num := func(key string, v int) {
		if v > 0 {
			opt(key, strconv.Itoa(v))
		}
	}
	line("#!/bin/bash")
	opt("job-name", name)
	if len(j.Components) == 0 {
		opt("account", c.Account)
		opt("partition", c.Partition)
		opt("qos", c.QOS)
		opt("time", c.Time)
		num("nodes", j.NodeCount())
		line("#SBATCH --ntasks-per-node=%d", max(j.TasksPerNode, 1))
		num("gpus-per-node", c.GPUsPerNode)
		num("cpus-per-task", c.CPUsPerTask)
		opt("mem", c.Mem)
		opt("constraint", c.Constraint)
	}
	opt("reservation", c.Reservation)
	// sbatch splits #SBATCH lines at white space and honours quotes, so a
	// path with either is quoted; the value cannot hold a newline.
	opt("output", sbatchQuote(filepath.Join(j.ResultsDir, OutputFile)))
	opt("signal", fmt.Sprintf("B:USR1@%d", int(c.Grace().Seconds())))
	if c.Requeue {
		line("#SBATCH --requeue")
	} else {
		line("#SBATCH --no-requeue")
	}
	if len(j.Components) > 0 {
		// A failed node ends only what runs on it: the services there
		// (their cases become errors) and not the whole job.
		line("#SBATCH --no-kill")
	}
	for _, e := range c.Extra {
		line("#SBATCH %s", e)
	}
	j.renderComponents(line)
	line("#")
	if j.hetjob() {
		line("# Generated by benchrun. A heterogeneous job: services in component 0, clients in")
		line("# component 1; nodes count from 0 over both components' nodes in order. Roles:")
	} else {
		line("# Generated by benchrun. Roles (nodes count from 0 in SLURM_JOB_NODELIST order):")
	}
	for _, s := range j.Services {
		desc := fmt.Sprintf("#   service %s (%s) on node %s, port %d", s.Name, s.Kind, joinInts(s.Nodes), s.Port)
		if j.exclusiveGPUs(s) {
			desc += fmt.Sprintf(", GPU slots %s of its own (--gres=gpu:%d)", joinInts(s.GPUSlots), s.GPUs)
		} else if s.GPUs > 0 {
			desc += fmt.Sprintf(", %d GPUs per node", s.GPUs)
		}
		if s.Ray != nil {
			desc += fmt.Sprintf(", Ray tensor_parallel_size=%d pipeline_parallel_size=%d", s.Ray.TensorParallelSize, s.Ray.PipelineParallelSize)
		}
		if s.Image != "" {
			desc += ", image " + strconv.Quote(s.Image)
		}
		line("%s", desc)
	}
	per := max(j.Clients.PerNode, 1)
	line("#   clients on node %s, %d per node", joinInts(j.clientNodes()), per)
	if m := j.Config.Monitor; m != nil {
		line("#   monitor: prometheus on node %d, port %d, config %s", j.monitorNode(), m.PrometheusPort(), j.PrometheusConfigPath())
		if m.nodeExporter() != NoNodeExporter {
			line("#   monitor: %s on every node, port %d", m.nodeExporter(), m.NodePort())
		}
		line("#   monitor: benchrun /metrics on node 0 port %d, client workers from port %d", m.LivePort(), m.LivePort()+1)
	}
	line("")
	line("set -eo pipefail")
	line("# Anything failing before benchrun starts is an execution error (exit 2),")
	line("# never mistaken for one of benchrun's verdicts.")
	line("trap 'exit 2' ERR")
	if len(c.Modules) > 0 {
		line("# Site module setups often read unset variables: load before set -u.")
		line("if ! type module >/dev/null 2>&1; then")
		line("  for f in /etc/profile.d/lmod.sh /etc/profile.d/modules.sh /usr/share/lmod/lmod/init/bash; do")
		line("    if [ -r \"$f\" ]; then . \"$f\"; break; fi")
		line("  done")
		line("fi")
		for _, m := range c.Modules {
			line("module load %s", ShellQuote(m))
		}
	}
	line("set -u")
	for _, k := range sortedKeys(c.Env) {
		line("export %s=%s", k, ShellQuote(c.Env[k]))
	}
	line("cd %s", ShellQuote(j.ResultsDir))
	line("")
	line("# Run benchrun in the background and wait: a shell runs traps only between")
	line("# commands, so a foreground benchrun would get USR1 only after it ended.")
	line("# A signal between starting benchrun and taking its pid is kept and")
	line("# forwarded once the pid is known, not lost.")
	line("benchrun_pid=")
	line("pending=")
	line("forward() { if [ -n \"$benchrun_pid\" ]; then kill -s \"$1\" \"$benchrun_pid\" 2>/dev/null || true; else pending=$1; fi; }")
	line("trap 'echo \"benchrun job: USR1, time limit near; stopping benchrun\" >&2; forward USR1' USR1")
	line("trap 'forward TERM' TERM")
	line("trap 'forward INT' INT")
	line("%s &", ShellJoin(inside))
	line("benchrun_pid=$!")
	line("if [ -n \"$pending\" ]; then forward \"$pending\"; fi")
	line("trap - ERR")
	line("# wait returns early when a trap runs; wait again until benchrun is gone.")
	line("while kill -0 \"$benchrun_pid\" 2>/dev/null; do wait \"$benchrun_pid\" || true; done")
	line("status=0")
	line("wait \"$benchrun_pid\" || status=$?")
	line("exit \"$status\"")
	return b.String(), nil
}

// sbatchQuote quotes a #SBATCH value that holds white space or quotes.
func sbatchQuote(s string) string {
	if !strings.ContainsAny(s, " \t\"'") {
		return s
	}
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return `'` + s + `'`
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// Steps returns the srun steps of j on the allocation nodes (as from
// AllocationNodes), in launch order: the monitor role's node_exporters and
// Prometheus (with Config.Monitor); for each service its Ray head and
// workers (when distributed) and then the server; then the clients. The
// inside-job run starts the service steps, waits until each URL answers,
// then runs the client steps and waits for them.
//
// A Ray service's server step runs on the head node with RAY_ADDRESS set and
// "--tensor-parallel-size T --pipeline-parallel-size P
// --distributed-executor-backend ray" appended; vLLM waits for the workers'
// GPUs to join the Ray cluster before it serves.
func (j *Job) Steps(nodes []string) ([]Step, error) {
	if errs := j.validateRoles(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	at := func(i int) (string, error) {
		if i < 0 || i >= len(nodes) {
			return "", fmt.Errorf("node %d: the allocation has %d nodes (%s)", i, len(nodes), CompressHostlist(nodes))
		}
		return nodes[i], nil
	}
	var steps []Step
	if j.Config.Monitor != nil {
		ms, err := j.monitorSteps(at, nodes)
		if err != nil {
			return nil, err
		}
		steps = append(steps, ms...)
	}
	for _, s := range j.Services {
		opts := StepOptions{Container: j.Config.Container, Image: s.Image, Binds: s.Binds, GPU: s.GPUs > 0, Env: s.Env}
		head, err := at(s.Nodes[0])
		if err != nil {
			return nil, fmt.Errorf("service %q: %w", s.Name, err)
		}
		for k, cmd := range s.Pre {
			o := opts
			o.Name = fmt.Sprintf("%s-pre%d", s.Name, k+1)
			steps = append(steps, Step{Kind: StepPre, Service: s.Name, Node: head,
				Argv: StepCommand(head, []string{"sh", "-c", cmd}, o)})
		}
		argv := s.Command
		if s.Ray != nil {
			port := s.Ray.Port
			if port == 0 {
				port = DefaultRayPort
			}
			addr := fmt.Sprintf("%s:%d", head, port)
			o := opts
			o.Name = s.Name + "-ray-head"
			steps = append(steps, Step{Kind: StepRayHead, Service: s.Name, Node: head,
				Argv: StepCommand(head, []string{"ray", "start", "--head", "--port=" + strconv.Itoa(port), "--block"}, o)})
			for k, i := range s.Nodes[1:] {
				node, err := at(i)
				if err != nil {
					return nil, fmt.Errorf("service %q: %w", s.Name, err)
				}
				o.Name = fmt.Sprintf("%s-ray-worker%d", s.Name, k+1)
				steps = append(steps, Step{Kind: StepRayWorker, Service: s.Name, Node: node,
					Argv: StepCommand(node, []string{"ray", "start", "--address=" + addr, "--block"}, o)})
			}
			argv = append(append([]string(nil), s.Command...),
				"--tensor-parallel-size", strconv.Itoa(s.Ray.TensorParallelSize),
				"--pipeline-parallel-size", strconv.Itoa(s.Ray.PipelineParallelSize),
				"--distributed-executor-backend", "ray")
			env := map[string]string{"RAY_ADDRESS": addr}
			for k, v := range s.Env {
				env[k] = v
			}
			opts.Env = env
		}
		opts.Name = s.Name
		step := StepCommand(head, argv, opts)
		if len(j.Components) > 0 {
			// Record where the step runs and which GPUs it got, before
			// the server starts (with its env, inside any container).
			n := srunOptions(step)
			step = append(append(step[:n:n], bindingWrapper(j.BindingFile(s.Name))...), step[n:]...)
		}
		if j.exclusiveGPUs(s) {
			step = withStepResources(step, s)
		}
		steps = append(steps, Step{Kind: StepService, Service: s.Name, Node: head,
			Argv: step, URL: fmt.Sprintf("http://%s:%d", head, s.Port)})
	}
	exe, err := j.benchrun()
	if err != nil {
		return nil, err
	}
	per := max(j.Clients.PerNode, 1)
	clientNodes := j.clientNodes()
	workers := per * len(clientNodes)
	w := 0
	for _, i := range clientNodes {
		node, err := at(i)
		if err != nil {
			return nil, fmt.Errorf("clients: %w", err)
		}
		for k := 0; k < per; k++ {
			argv := []string{exe, "worker", "--worker=" + strconv.Itoa(w), "--workers=" + strconv.Itoa(workers)}
			port := 0
			if m := j.Config.Monitor; m != nil {
				port = m.LivePort() + 1 + k
				argv = append(argv, "--metrics-listen=0.0.0.0:"+strconv.Itoa(port))
			}
			argv = append(argv, j.Clients.Args...)
			steps = append(steps, Step{Kind: StepClient, Node: node, Worker: w, Workers: workers, MetricsPort: port,
				Argv: StepCommand(node, argv, StepOptions{Name: fmt.Sprintf("client%d", w)})})
			w++
		}
	}
	j.setHetGroups(steps, nodes)
	return steps, nil
}
