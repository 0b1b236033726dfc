package slurm

import (
	"fmt"
	"os"
	"strconv"
)

// validateComponents checks Components and the roles' fit in them.
func (j *Job) validateComponents() []error {
	if len(j.Components) == 0 {
		return nil
	}
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(j.Components) > 2 {
		add("%d components: a job has services and clients, at most 2", len(j.Components))
	}
	for i, c := range j.Components {
		if c.Nodes < 1 {
			add("component %d (%s): nodes %d: want at least 1", i, c.Role, c.Nodes)
		}
		for _, v := range []struct{ k, v string }{{"partition", c.Partition}, {"account", c.Account}, {"qos", c.QOS}} {
			if v.v != "" && !namePattern.MatchString(v.v) {
				add("component %d (%s): %s %q: want letters, digits, '_', '.', '+' or '-'", i, c.Role, v.k, v.v)
			}
		}
		if c.Time != "" {
			if _, err := ParseTime(c.Time); err != nil {
				add("component %d (%s): time: %v", i, c.Role, err)
			}
		}
		if c.Constraint != "" && !constraintPattern.MatchString(c.Constraint) {
			add("component %d (%s): constraint %q: not a constraint", i, c.Role, c.Constraint)
		}
		if c.Mem != "" && !memPattern.MatchString(c.Mem) {
			add("component %d (%s): mem %q: not a memory size", i, c.Role, c.Mem)
		}
		if c.TasksPerNode < 0 || c.CPUsPerTask < 0 || c.GPUsPerNode < 0 {
			add("component %d (%s): negative tasks, CPUs or GPUs", i, c.Role)
		}
	}
	for _, s := range j.Services {
		if s.Ray == nil && s.GPUs > 0 && len(s.Nodes) == 1 && s.Nodes[0] >= 0 && s.Nodes[0] < j.NodeCount() {
			g := j.Components[j.componentOf(s.Nodes[0])].GPUsPerNode
			if s.GPUs > g {
				add("service %q: %d GPUs, but its component has --gres=gpu:%d per node", s.Name, s.GPUs, g)
			}
		}
		if len(j.Components) == 2 {
			for _, i := range s.Nodes {
				if i >= 0 && i < j.NodeCount() && j.componentOf(i) != 0 {
					add("service %q: node %d is a client node (component 1); services run in component 0", s.Name, i)
				}
			}
		}
		for k, c := range s.Pre {
			if c == "" || hasControl(c) {
				add("service %q: pre[%d]: want a command line without control characters", s.Name, k)
			}
		}
		if s.Mem != "" && !memPattern.MatchString(s.Mem) {
			add("service %q: mem %q: not a memory size", s.Name, s.Mem)
		}
		if s.CPUs < 0 {
			add("service %q: cpus %d: must not be negative", s.Name, s.CPUs)
		}
	}
	return errs
}

// componentOf returns the component that holds node index i.
func (j *Job) componentOf(i int) int {
	for k, c := range j.Components {
		if i < c.Nodes {
			return k
		}
		i -= c.Nodes
	}
	return len(j.Components) - 1
}

// hetjob reports whether the job is heterogeneous (two components).
func (j *Job) hetjob() bool { return len(j.Components) > 1 }

// renderComponents writes the #SBATCH blocks of the components, the
// second after an "#SBATCH hetjob" line.
func (j *Job) renderComponents(line func(string, ...any)) {
	for i, c := range j.Components {
		if i > 0 {
			line("#SBATCH hetjob")
		}
		opt := func(key, v string) {
			if v != "" {
				line("#SBATCH --%s=%s", key, v)
			}
		}
		opt("partition", c.Partition)
		opt("account", c.Account)
		opt("qos", c.QOS)
		opt("time", c.Time)
		line("#SBATCH --nodes=%d", c.Nodes)
		line("#SBATCH --ntasks-per-node=%d", max(c.TasksPerNode, 1))
		if c.CPUsPerTask > 0 {
			line("#SBATCH --cpus-per-task=%d", c.CPUsPerTask)
		}
		if c.GPUsPerNode > 0 {
			line("#SBATCH --gres=gpu:%d", c.GPUsPerNode)
		}
		opt("mem", c.Mem)
		opt("constraint", c.Constraint)
	}
}

// exclusiveGPUs reports whether s's step gets GPUs of its own: with
// Components, a service on one node that uses GPUs. Without --overlap and
// with --exact, SLURM gives concurrent steps disjoint GPUs; with
// --overlap, steps share every GRES (seen on Slurm 22.05: two steps of
// --overlap --gres=gpu:1 both got GPU 0).
func (j *Job) exclusiveGPUs(s ServiceRole) bool {
	return len(j.Components) > 0 && s.Ray == nil && s.GPUs > 0
}

// bindingWrapper returns the argv prefix that records the step's node and
// GPUs in file and then runs the rest of the argv. When the node has
// nvidia-smi it also records nvidia-smi's exit status and its listing of
// the GPUs the step sees (nvidia_smi= lines, ParseBinding), bounded by
// timeout when the node has it; nvidia-smi missing, failing or hanging
// never stops the step.
func bindingWrapper(file string) []string {
	script := `{ printf 'node=%s\ncuda_visible_devices=%s\nstep_gpus=%s\n' "${SLURMD_NODENAME:-$(hostname)}" "${CUDA_VISIBLE_DEVICES-}" "${SLURM_STEP_GPUS-}"; ` +
		`if command -v nvidia-smi >/dev/null 2>&1; then t=; if command -v timeout >/dev/null 2>&1; then t='timeout ` + nvidiaSMITimeout + `'; fi; ` +
		`o=$($t nvidia-smi ` + nvidiaSMIQuery + ` 2>/dev/null); printf 'nvidia_smi_exit=%s\n' "$?"; ` +
		`printf '%s\n' "$o" | while IFS= read -r l; do printf 'nvidia_smi=%s\n' "$l"; done; ` +
		`else printf 'nvidia_smi_exit=absent\n'; fi; } >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"`
	return []string{"sh", "-c", script, file}
}

// withStepResources turns a service's --overlap step into one with its own
// GPUs, CPUs and memory: srun --exact ... --gres=gpu:N [--cpus-per-task=C] [--mem=M].
func withStepResources(argv []string, s ServiceRole) []string {
	out := []string{"srun", "--exact"}
	for _, a := range argv[1:] {
		if a == "--overlap" {
			continue
		}
		out = append(out, a)
		if a == "-n1" {
			out = append(out, "--gres=gpu:"+strconv.Itoa(s.GPUs))
			if s.CPUs > 0 {
				out = append(out, "--cpus-per-task="+strconv.Itoa(s.CPUs))
			}
			if s.Mem != "" {
				out = append(out, "--mem="+s.Mem)
			}
		}
	}
	return out
}

// setHetGroups puts every step in the component of its node: --het-group=N
// right after srun. Node names are looked up in nodes (the allocation, as
// from AllocationNodes); a node in both components counts as the first's.
func (j *Job) setHetGroups(steps []Step, nodes []string) {
	if !j.hetjob() {
		return
	}
	group := map[string]int{}
	for i := len(nodes) - 1; i >= 0; i-- {
		group[nodes[i]] = j.componentOf(i)
	}
	for k := range steps {
		g := group[steps[k].Node]
		steps[k].HetGroup = g
		argv := steps[k].Argv
		steps[k].Argv = append([]string{argv[0], "--het-group=" + strconv.Itoa(g)}, argv[1:]...)
	}
}

// hetNodes returns the nodes of a heterogeneous allocation in component
// order, or nil outside one.
func hetNodes() ([]string, error) {
	n, err := strconv.Atoi(os.Getenv("SLURM_HET_SIZE"))
	if err != nil || n < 2 {
		return nil, nil
	}
	var all []string
	for i := 0; i < n; i++ {
		list := os.Getenv("SLURM_JOB_NODELIST_HET_GROUP_" + strconv.Itoa(i))
		if list == "" {
			return nil, fmt.Errorf("heterogeneous job of %d components: SLURM_JOB_NODELIST_HET_GROUP_%d is not set", n, i)
		}
		nodes, err := ExpandHostlist(list)
		if err != nil {
			return nil, err
		}
		all = append(all, nodes...)
	}
	return all, nil
}

// srunOptions returns the length of argv's "srun --option..." prefix.
func srunOptions(argv []string) int {
	n := 1
	for n < len(argv) && len(argv[n]) > 0 && argv[n][0] == '-' {
		n++
	}
	return n
}
