package slurm

import (
	"errors"
	"fmt"
	"os"
)

// StepOptions says how StepCommand runs a command on a node.
type StepOptions struct {
	Name      string            // step name (srun --job-name); optional
	Container string            // ContainerNone or ContainerApptainer
	Image     string            // container image; no container when empty
	Binds     []string          // apptainer --bind values
	GPU       bool              // apptainer --nv
	Env       map[string]string // set for the command with env(1), sorted by name
}

// StepCommand returns the argv that runs argv as a job step of one task on
// node, sharing the allocation with the other steps:
//
//	srun --overlap --nodelist=NODE -N1 -n1 [--job-name=N] [env K=V...] [apptainer exec [--nv] [--bind B]... IMAGE] ARGV...
//
// It must run inside the allocation (see InAllocation). The returned argv is
// for exec, not a shell; ShellJoin quotes it for a script.
func StepCommand(node string, argv []string, o StepOptions) []string {
	cmd := []string{"srun", "--overlap", "--nodelist=" + node, "-N1", "-n1"}
	if o.Name != "" {
		cmd = append(cmd, "--job-name="+o.Name)
	}
	if len(o.Env) > 0 {
		cmd = append(cmd, "env")
		for _, k := range sortedKeys(o.Env) {
			cmd = append(cmd, k+"="+o.Env[k])
		}
	}
	if o.Container == ContainerApptainer && o.Image != "" {
		cmd = append(cmd, "apptainer", "exec")
		if o.GPU {
			cmd = append(cmd, "--nv")
		}
		for _, b := range o.Binds {
			cmd = append(cmd, "--bind", b)
		}
		cmd = append(cmd, o.Image)
	}
	return append(cmd, argv...)
}

// InAllocation reports whether the process runs inside a SLURM job
// (SLURM_JOB_ID is set), where srun starts steps without a new allocation.
func InAllocation() bool {
	return os.Getenv("SLURM_JOB_ID") != ""
}

// AllocationNodes returns the host names of the current allocation, in
// SLURM's order, from SLURM_JOB_NODELIST (or the older SLURM_NODELIST).
func AllocationNodes() ([]string, error) {
	if het, err := hetNodes(); het != nil || err != nil {
		return het, err
	}
	list := os.Getenv("SLURM_JOB_NODELIST")
	if list == "" {
		list = os.Getenv("SLURM_NODELIST")
	}
	if list == "" {
		return nil, errors.New("not inside a SLURM allocation: SLURM_JOB_NODELIST is not set")
	}
	return ExpandHostlist(list)
}

// MPIOptions say how MPIStepCommand runs a parallel program.
type MPIOptions struct {
	Name         string // step name (srun --job-name); optional
	Tasks        int    // --ntasks; 1 when 0
	TasksPerNode int    // --ntasks-per-node; SLURM's choice when 0
	Nodes        int    // --nodes; SLURM's choice when 0
	MPI          string // --mpi plugin (pmix, pmi2, none); SLURM's default when ""
	Container    string // ContainerNone or ContainerApptainer
	Image        string // apptainer image; no container when empty
	Binds        []string
	HetGroup     int // > 0: the component of a heterogeneous job (srun --het-group)
}

// MPIStepCommand returns the argv that runs argv as an MPI job step of
// Tasks processes inside the allocation, spread over its nodes as SLURM
// or the options place them:
//
//	srun --kill-on-bad-exit=1 --ntasks=T [--nodes=N] [--ntasks-per-node=M] [--mpi=X] [--job-name=NAME] [apptainer exec [--bind B]... IMAGE] ARGV...
//
// --kill-on-bad-exit ends the step when one rank fails, rather than
// leaving the others waiting in a collective.
func MPIStepCommand(argv []string, o MPIOptions) []string {
	cmd := []string{"srun", "--kill-on-bad-exit=1", fmt.Sprintf("--ntasks=%d", max(o.Tasks, 1))}
	if o.HetGroup > 0 {
		cmd = append(cmd[:1], append([]string{fmt.Sprintf("--het-group=%d", o.HetGroup)}, cmd[1:]...)...)
	}
	if o.Nodes > 0 {
		cmd = append(cmd, fmt.Sprintf("--nodes=%d", o.Nodes))
	}
	if o.TasksPerNode > 0 {
		cmd = append(cmd, fmt.Sprintf("--ntasks-per-node=%d", o.TasksPerNode))
	}
	if o.MPI != "" {
		cmd = append(cmd, "--mpi="+o.MPI)
	}
	if o.Name != "" {
		cmd = append(cmd, "--job-name="+o.Name)
	}
	if o.Container == ContainerApptainer && o.Image != "" {
		cmd = append(cmd, "apptainer", "exec")
		for _, b := range o.Binds {
			cmd = append(cmd, "--bind", b)
		}
		cmd = append(cmd, o.Image)
	}
	return append(cmd, argv...)
}
