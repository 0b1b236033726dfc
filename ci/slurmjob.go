package ci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm"
	"github.com/benchrun/benchrun/suites"
)

// defaultPort is the port a service listens on inside an allocation when
// the suite gives none: every service has a node of its own, so the
// kind's usual port is free.
func defaultPort(sv *suites.Service) int {
	if sv.Port != 0 {
		return sv.Port
	}
	switch sv.Kind {
	case "ollama":
		return 11434
	}
	return 8000
}

// jobFor places a suite's roles on an allocation: each started service
// gets the next max(nodes, 1) nodes, clients get the nodes left.
func jobFor(s *suites.Suite, dir, exe string) (slurm.Job, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return slurm.Job{}, err
	}
	absSuite, err := filepath.Abs(s.File)
	if err != nil {
		return slurm.Job{}, err
	}
	j := slurm.Job{Name: "benchrun-" + s.Suite.Name, Config: *s.Slurm, ResultsDir: absDir, SuiteFile: absSuite, Benchrun: exe}
	next := 0
	for i := range s.Services {
		sv := &s.Services[i]
		if sv.URL != "" || !usedService(s, sv.Name) {
			continue
		}
		n := max(sv.Nodes, 1)
		role := slurm.ServiceRole{Name: sv.Name, Kind: sv.Kind, Port: defaultPort(sv), GPUs: sv.GPUs, Ray: sv.Ray}
		for k := 0; k < n; k++ {
			role.Nodes = append(role.Nodes, next)
			next++
		}
		setServiceCommand(&role, sv, exe, absDir)
		role.CPUs, role.Mem, role.Pre = sv.CPUs, sv.Memory, sv.Pre
		role.Image, role.Binds = s.Slurm.ContainerFor(sv.Name)
		if role.Image == "" && sv.Image != "" && s.Slurm.Container == slurm.ContainerApptainer {
			// The service's own image gets the binds every container gets.
			role.Image = sv.Image
			role.Binds = append([]string(nil), s.Slurm.Binds...)
		}
		j.Services = append(j.Services, role)
	}
	j.TasksPerNode = batchTasksPerNode(s)
	if s.Slurm.Placed() {
		return placeRoles(s, j, exe, absDir)
	}
	return j, nil
}

// setServiceCommand sets the command and environment of a service role
// for its port. Services bind every address: clients reach them from
// other nodes.
func setServiceCommand(role *slurm.ServiceRole, sv *suites.Service, exe, absDir string) {
	role.Command = sv.CommandLine(suites.ServiceOptions{Exe: exe, DataDir: filepath.Join(absDir, "data", sv.Name)}, "0.0.0.0", role.Port)
	env := map[string]string{}
	for _, kv := range sv.ServiceEnv("0.0.0.0", role.Port) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	role.Env = nil
	if len(env) > 0 {
		role.Env = env
	}
}

// jobScript renders the sbatch script of a suite with a [slurm] section,
// for `benchrun plan`. Paths are those a submission from here would use.
func jobScript(s *suites.Suite) (string, error) {
	j, err := planJob(s)
	if err != nil {
		return "", err
	}
	return slurm.RenderScript(j)
}

// planJob is the job a submission of s from here would use.
func planJob(s *suites.Suite) (slurm.Job, error) {
	exe := s.Slurm.Benchrun
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return slurm.Job{}, err
		}
	}
	return jobFor(s, resultsDir("", s, time.Now()), exe)
}

// endpointsFile records where the services of an allocation answer, for
// the worker processes on other nodes.
const endpointsFile = "endpoints.json"

// jobSubmission is the execute step outside an allocation: it runs a
// suite as one SLURM job, rendering the script into the results directory,
// submitting it with sbatch and following it while streaming its log.
// Ctrl-C cancels the job. When the job has ended, the manifest is settled
// to tell how, and the pipeline analyses and reports here.
type jobSubmission struct {
	e   *env
	s   *suites.Suite
	dir string
}

func (j *jobSubmission) execute(ctx context.Context) (*execution, error) {
	if err := os.MkdirAll(filepath.Join(j.dir, results.LogsDir), 0o755); err != nil {
		return nil, withExitCode(fmt.Errorf("results directory: %w", err), ExitError)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, withExitCode(err, ExitError)
	}
	job, err := jobFor(j.s, j.dir, exe)
	if err != nil {
		return nil, withExitCode(err, ExitError)
	}
	script, err := slurm.RenderScript(job)
	if err != nil {
		return nil, withExitCode(fmt.Errorf("job script: %w", err), ExitUsage)
	}
	scriptPath := filepath.Join(j.dir, "job.sh")
	if err := os.WriteFile(scriptPath, []byte(script), 0o755); err != nil {
		return nil, withExitCode(err, ExitError)
	}
	id, err := slurm.Submit(ctx, scriptPath)
	if err != nil {
		return nil, withExitCode(fmt.Errorf("sbatch: %w", err), ExitError)
	}
	j.e.log.Info("job submitted", "job_id", id, "script", scriptPath, "dir", j.dir)
	st, ferr := slurm.Follow(ctx, id, slurm.FollowOptions{LogPath: filepath.Join(j.dir, slurm.OutputFile), Out: j.e.stderr})
	x := &execution{interrupted: ctx.Err() != nil}
	if ferr != nil && !x.interrupted {
		return nil, withExitCode(fmt.Errorf("following job %s: %w", id, ferr), ExitError)
	}
	j.e.log.Info("job ended", "job_id", id, "state", st.String())
	if err := settleManifest(j.s, j.dir, id, st, x.interrupted); err != nil {
		return nil, withExitCode(err, ExitError)
	}
	if !x.interrupted && jobFailed(st) {
		x.err = fmt.Errorf("SLURM job %s ended %s: partial results kept in %s", id, st.Name, j.dir)
	}
	return x, nil
}

// settleManifest makes the manifest tell how the job ended. A job killed
// by SLURM (NODE_FAIL, TIMEOUT past the grace, OOM) leaves cases it was
// running and cases it never reached: they become errors and skipped
// cases. A job that never started leaves no manifest: one is written from
// the suite so the reports can say so.
func settleManifest(s *suites.Suite, dir, jobID string, st slurm.State, interrupted bool) error {
	m, err := results.ReadManifest(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := copySuiteFile(s, dir); err != nil {
			return err
		}
		m = newManifest(s)
		m.Cases = pendingCases(s, results.SamplePath)
	}
	if m.Slurm == nil {
		m.Slurm = &results.SlurmInfo{JobID: jobID}
	}
	m.Slurm.State = st.Name
	failed := interrupted || jobFailed(st)
	if failed && !interrupted && !st.Failed() && m.Unfinished() == "" {
		// The job's script exited non-zero (benchrun's own error verdict,
		// exit 2) after benchrun ended the run and wrote its manifest:
		// that manifest says what happened, case by case.
		failed = false
	}
	if failed && !interrupted {
		// The job died during or right after its last case that started:
		// that case's numbers cannot be trusted.
		for i := len(m.Cases) - 1; i >= 0; i-- {
			c := &m.Cases[i]
			if c.Status == results.StatusPending || c.Status == results.StatusSkipped {
				continue
			}
			if c.Status != results.StatusError {
				c.Status = results.StatusError
				c.Error = fmt.Sprintf("SLURM job %s ended %s during this case", jobID, st.Name)
			}
			break
		}
	}
	for i := range m.Cases {
		c := &m.Cases[i]
		// SLURM stops the job's processes with SIGTERM before it kills
		// them: a case benchrun saw interrupted was cut by the job's end.
		cut := c.Status == results.StatusRunning || c.Status == results.StatusDone && c.Error == results.Interrupted
		switch {
		case cut:
			if failed && !interrupted {
				c.Status = results.StatusError
				c.Error = fmt.Sprintf("SLURM job %s ended %s during this case", jobID, st.Name)
			}
		case c.Status == results.StatusPending:
			c.Status = results.StatusSkipped
			if failed && c.Error == "" {
				c.Error = fmt.Sprintf("not run: SLURM job %s ended %s", jobID, st.Name)
			}
		}
	}
	if failed {
		m.Incomplete = true
		if m.Reason == "" || m.Reason == results.Interrupted && !interrupted {
			m.Reason = "SLURM job " + st.Name
		}
		if interrupted {
			m.Reason = results.Interrupted
		}
	}
	if m.End.IsZero() {
		m.End = time.Now().UTC()
	}
	return results.WriteJSONAtomic(filepath.Join(dir, results.ManifestFile), m)
}

// jobFailed reports whether the job is an execution error: SLURM ended
// it (TIMEOUT, NODE_FAIL, ...), or its script exited with anything but 0
// or 1: 2 for a failure before benchrun started (module load, cd) or
// benchrun's own execution error, 3 for a suite that no longer validates
// (edited while the job was queued), 130 or 137 for a benchrun stopped by
// a signal. Exit 1 is benchrun's verdict on a run that completed.
func jobFailed(st slurm.State) bool {
	return st.Failed() || st.ExitStatus() != 0 && st.ExitStatus() != ExitFailed
}

// endpoints maps service names to the URLs clients use.
type endpoints map[string]string

func writeEndpoints(dir string, ep endpoints) error {
	return results.WriteJSONAtomic(filepath.Join(dir, endpointsFile), ep)
}

func readEndpoints(dir string) (endpoints, error) {
	b, err := os.ReadFile(filepath.Join(dir, endpointsFile))
	if err != nil {
		return nil, err
	}
	var ep endpoints
	if err := json.Unmarshal(b, &ep); err != nil {
		return nil, fmt.Errorf("%s: %w", endpointsFile, err)
	}
	return ep, nil
}
