// Package batch runs a batch benchmark's command once: in its own process
// group, with a timeout, its stdout and stderr kept in files. It is the
// execution part of the exec and io500 benchmark kinds; the launcher
// (mpirun, an srun step, apptainer) is already in the argv it is given,
// and the output is read by package runner/parse.
package batch
