package ci

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm"
	"github.com/benchrun/benchrun/suites"
)

// placeRoles places the roles of a suite with [slurm.services] or
// [slurm.clients] (j as jobFor built it, one node per service): the
// services packed onto the services' nodes by GPU count (slurm.Pack),
// then the clients on nodes of their own: the second component of a
// heterogeneous job, or further nodes of the one allocation with
// same_partition.
func placeRoles(s *suites.Suite, j slurm.Job, exe, absDir string) (slurm.Job, error) {
	c := s.Slurm
	sv, cl := c.ServicesRole(), c.ClientsRole()
	size := slurm.NodeSize{GPUs: sv.GPUsPerNode, CPUs: sv.CPUsPerNode}
	if size.GPUs == 0 {
		size.GPUs = c.GPUsPerNode
	}
	demands, _ := suites.PackDemands(s)
	placed, n, err := slurm.Pack(demands, size, sv.Nodes)
	if err != nil {
		return slurm.Job{}, err
	}
	byName := map[string]slurm.Placement{}
	for _, p := range placed {
		byName[p.Name] = p
	}
	exclusive := make([]int, n) // steps with GPUs of their own, per node
	gpus := make([]int, n)
	cpus := 0
	for i := range j.Services {
		r := &j.Services[i]
		p, ok := byName[r.Name]
		if !ok {
			return slurm.Job{}, fmt.Errorf("service %q: not placed", r.Name)
		}
		r.Nodes, r.GPUSlots = p.Nodes, p.GPUs
		if r.Ray == nil && r.GPUs > 0 {
			exclusive[p.Nodes[0]]++
			cpus = max(cpus, r.CPUs)
		}
		for _, k := range p.Nodes {
			gpus[k] += r.GPUs
		}
	}
	if err := separatePorts(s, &j, exe, absDir); err != nil {
		return slurm.Job{}, err
	}
	pick := func(v, fallback string) string {
		if v != "" {
			return v
		}
		return fallback
	}
	services := slurm.Component{Role: "services", Partition: pick(sv.Partition, c.Partition), Account: pick(sv.Account, c.Account),
		QOS: pick(sv.QOS, c.QOS), Time: pick(sv.Time, c.Time), Constraint: pick(sv.Constraint, c.Constraint), Mem: pick(sv.Mem, c.Mem),
		Nodes: n, TasksPerNode: max(slicesMax(exclusive), 1), CPUsPerTask: max(cpus, c.CPUsPerTask), GPUsPerNode: slicesMax(gpus)}
	clientNodes := max(cl.Nodes, 1)
	j.Clients.PerNode = cl.PerNode
	j.Clients.Nodes = nil
	for k := 0; k < clientNodes; k++ {
		j.Clients.Nodes = append(j.Clients.Nodes, n+k)
	}
	if c.SamePartition {
		services.Role = "services+clients"
		services.Nodes += clientNodes
		services.TasksPerNode = max(services.TasksPerNode, j.TasksPerNode, cl.PerNode)
		j.Components = []slurm.Component{services}
		return j, nil
	}
	clients := slurm.Component{Role: "clients", Partition: pick(cl.Partition, c.Partition), Account: pick(cl.Account, c.Account),
		QOS: pick(cl.QOS, c.QOS), Time: pick(cl.Time, c.Time), Constraint: cl.Constraint, Mem: cl.Mem, Nodes: clientNodes,
		TasksPerNode: max(j.TasksPerNode, cl.PerNode, 1)}
	j.Components = []slurm.Component{services, clients}
	return j, nil
}

// separatePorts gives services packed on one node distinct ports: a
// service without a port of its own moves to the next free one; two set
// to the same port on one node are an error.
func separatePorts(s *suites.Suite, j *slurm.Job, exe, absDir string) error {
	used := map[[2]int]string{}
	for pass := 0; pass < 2; pass++ { // explicit ports first, then defaults
		for i := range j.Services {
			r := &j.Services[i]
			sv := s.Service(r.Name)
			if (sv.Port != 0) != (pass == 0) {
				continue
			}
			for {
				key := [2]int{r.Nodes[0], r.Port}
				other, taken := used[key]
				if !taken {
					used[key] = r.Name
					break
				}
				if sv.Port != 0 {
					return fmt.Errorf("service %q: port %d is service %q's on the same node", r.Name, r.Port, other)
				}
				r.Port++
			}
			if sv.Port == 0 {
				setServiceCommand(r, sv, exe, absDir)
			}
		}
	}
	return nil
}

// batchHetGroup is the component batch benchmarks' srun steps run in: the
// clients' in a heterogeneous job, so the services' GPU nodes stay theirs.
func batchHetGroup(s *suites.Suite) int {
	if s.Slurm != nil && s.Slurm.Placed() && !s.Slurm.SamePartition {
		return 1
	}
	return 0
}

func slicesMax(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func shellSteps(cmds []string) [][]string {
	var out [][]string
	for _, c := range cmds {
		out = append(out, []string{"sh", "-c", c})
	}
	return out
}

func (a *allocationPlacement) pre(sv *suites.Service) [][]string {
	var out [][]string
	for _, st := range a.steps {
		if st.Service == sv.Name && st.Kind == slurm.StepPre {
			out = append(out, st.Argv)
		}
	}
	return out
}

// bound reads the binding record sv's server step wrote (jobs with
// components) and checks it: the step ran on its planned node and, with
// GPUs of its own, saw exactly that many devices, none of them seen by
// another service on that node. A service with no GPU, the wrong count,
// a shared GPU or the wrong node is an error: its cases never look green.
// The record also holds what nvidia-smi in the step said of its GPUs
// (slurm.ParseBinding).
func (a *allocationPlacement) bound(sv *suites.Service) (slurm.Binding, error) {
	if len(a.job.Components) == 0 || sv.URL != "" {
		return slurm.Binding{}, nil
	}
	file := a.job.BindingFile(sv.Name)
	b, err := os.ReadFile(file)
	if err != nil {
		return slurm.Binding{}, fmt.Errorf("no binding record from the service's step (%w)", err)
	}
	rec := slurm.ParseBinding(b)
	want := a.node(sv.Name)
	if rec.Node != want {
		return slurm.Binding{}, fmt.Errorf("its step ran on %q, planned on %q (%s)", rec.Node, want, file)
	}
	var role slurm.ServiceRole
	for _, r := range a.job.Services {
		if r.Name == sv.Name {
			role = r
		}
	}
	if role.Ray != nil || role.GPUs == 0 {
		return rec, nil
	}
	devs := strings.Split(rec.CUDAVisibleDevices, ",")
	if rec.CUDAVisibleDevices == "" || len(devs) != role.GPUs {
		return slurm.Binding{}, fmt.Errorf("gpus = %d, but its step on %s saw CUDA_VISIBLE_DEVICES=%q (%s)", role.GPUs, want, rec.CUDAVisibleDevices, file)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gpuOwner == nil {
		a.gpuOwner = map[string]string{}
	}
	for _, d := range devs {
		key := want + "/" + d
		if other, ok := a.gpuOwner[key]; ok && other != sv.Name {
			return slurm.Binding{}, fmt.Errorf("GPU %s of %s is also service %q's: steps share it (%s)", d, want, other, file)
		}
		a.gpuOwner[key] = sv.Name
	}
	return rec, nil
}

// stepGPUs is what a binding record says of the step's GPUs, for the
// manifest; nil when the step did not look (no record, older wrapper).
func stepGPUs(b slurm.Binding) *results.StepGPUs {
	if !b.Queried {
		return nil
	}
	out := &results.StepGPUs{Unknown: b.Unknown}
	for _, g := range b.GPUs {
		out.Devices = append(out.Devices, results.GPUDevice{Index: g.Index, Model: g.Model, Driver: g.Driver, MemoryBytes: g.MemoryBytes})
	}
	return out
}

// runPre runs sv's pre steps one after the other (placement.pre: here,
// or as srun steps on its node), each logged to logs/NAME-pre.log, and
// records each one's command and time in the manifest. The first that
// fails stops the service's start: its cases are errors.
func (r *caseRun) runPre(ctx context.Context, sv *suites.Service) error {
	steps := r.pl.pre(sv)
	if len(steps) == 0 {
		return nil
	}
	logPath := filepath.Join(r.dir, results.LogsDir, sv.Name+"-pre.log")
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer lf.Close()
	var done []results.PreStep
	defer func() { r.rec.serviceDetail(sv.Name, func(si *results.ServiceInfo) { si.Pre = done }) }()
	for k, argv := range steps {
		r.e.log.Info("pre step", "service", sv.Name, "command", sv.Pre[k])
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = lf, lf
		start := time.Now()
		err := cmd.Run()
		step := results.PreStep{Command: sv.Pre[k], Seconds: time.Since(start).Seconds()}
		if err != nil {
			step.Error = err.Error()
			done = append(done, step)
			return fmt.Errorf("service %q: pre step %q: %w (see %s)", sv.Name, sv.Pre[k], err, logPath)
		}
		done = append(done, step)
	}
	return nil
}

// writeStepsPlan prints the srun steps of a job with components, as
// inside-job benchrun would launch them, on stand-in node names: SLURM
// picks the nodes, so the k-th node of a component is shown as
// PARTITION-k (component-k when no partition is named).
func writeStepsPlan(w io.Writer, j slurm.Job) error {
	steps, err := j.Steps(planNodes(j))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\njob steps (srun, in launch order; node names stand in for the nodes SLURM picks):\n")
	for _, st := range steps {
		what := st.Kind
		if st.Service != "" {
			what += " " + st.Service
		}
		fmt.Fprintf(w, "  %s on %s", what, st.Node)
		if len(j.Components) > 1 {
			fmt.Fprintf(w, " (het-group %d)", st.HetGroup)
		}
		for _, r := range j.Services {
			if r.Name == st.Service && st.Kind == slurm.StepService {
				if r.GPUs > 0 && r.Ray == nil {
					fmt.Fprintf(w, ", %d GPU(s) of its own, slot(s) %v", r.GPUs, r.GPUSlots)
				}
				fmt.Fprintf(w, ", port %d", r.Port)
			}
		}
		if st.URL != "" {
			fmt.Fprintf(w, ", %s", st.URL)
		}
		if st.Kind == slurm.StepClient {
			fmt.Fprintf(w, ", worker %d of %d (per case)", st.Worker, st.Workers)
		}
		fmt.Fprintf(w, "\n    %s\n", slurm.ShellJoin(st.Argv))
	}
	return nil
}

// planNodes returns the stand-in node names `benchrun plan` shows: with
// components, the k-th node of a component as PARTITION-k (component-k
// when no partition is named), since SLURM picks the nodes and numbers
// them per component; otherwise NODEi, node i of SLURM_JOB_NODELIST.
func planNodes(j slurm.Job) []string {
	var nodes []string
	for i, c := range j.Components {
		name := c.Partition
		if name == "" {
			name = fmt.Sprintf("component%d", i)
		}
		for k := 0; k < c.Nodes; k++ {
			nodes = append(nodes, fmt.Sprintf("%s-%d", name, k))
		}
	}
	if len(j.Components) == 0 {
		for i := 0; i < j.NodeCount(); i++ {
			nodes = append(nodes, "NODE"+strconv.Itoa(i))
		}
	}
	return nodes
}

func writePlacedSteps(w io.Writer, s *suites.Suite) error {
	j, err := planJob(s)
	if err != nil {
		return err
	}
	return writeStepsPlan(w, j)
}

// missingWorkers returns an error for each client step that left no
// samples file of its own in dir (NODE-WORKER.jsonl, named by the node it
// ran on): a worker that never ran, or ran on another node than planned,
// must not leave a case that looks complete.
func missingWorkers(steps []slurm.Step, dir string) []error {
	var errs []error
	for _, st := range steps {
		if st.Kind != slurm.StepClient {
			continue
		}
		f := filepath.Join(dir, fmt.Sprintf("%s-%d.jsonl", results.CaseFileName(st.Node), st.Worker))
		if _, err := os.Stat(f); err != nil {
			errs = append(errs, fmt.Errorf("worker %d planned on %s left no samples file %s: it did not run there", st.Worker, st.Node, filepath.Base(f)))
		}
	}
	return errs
}

// workerNode is SLURM's name of the node a worker runs on (srun sets
// SLURMD_NODENAME in every task), else its host name: the inside-job run
// expects the worker's samples file under that name (missingWorkers).
func workerNode() string {
	if n := os.Getenv("SLURMD_NODENAME"); n != "" {
		return n
	}
	return hostname()
}
