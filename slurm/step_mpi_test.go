package slurm

import (
	"slices"
	"testing"
)

func TestMPIStepCommand(t *testing.T) {
	for _, c := range []struct {
		name string
		o    MPIOptions
		want []string
	}{
		{"defaults", MPIOptions{}, []string{"srun", "--kill-on-bad-exit=1", "--ntasks=1", "io500", "c.ini"}},
		{"two nodes", MPIOptions{Name: "io500", Tasks: 4, TasksPerNode: 2, Nodes: 2, MPI: "pmix"},
			[]string{"srun", "--kill-on-bad-exit=1", "--ntasks=4", "--nodes=2", "--ntasks-per-node=2", "--mpi=pmix", "--job-name=io500", "io500", "c.ini"}},
		{"apptainer", MPIOptions{Tasks: 2, Container: ContainerApptainer, Image: "/sw/io500.sif", Binds: []string{"/lustre"}},
			[]string{"srun", "--kill-on-bad-exit=1", "--ntasks=2", "apptainer", "exec", "--bind", "/lustre", "/sw/io500.sif", "io500", "c.ini"}},
		{"image without apptainer", MPIOptions{Image: "/sw/io500.sif"}, []string{"srun", "--kill-on-bad-exit=1", "--ntasks=1", "io500", "c.ini"}},
	} {
		if got := MPIStepCommand([]string{"io500", "c.ini"}, c.o); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
