package slurm

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Final job states, as SLURM names them.
const (
	Completed   = "COMPLETED"
	Failed      = "FAILED"
	Cancelled   = "CANCELLED"
	Timeout     = "TIMEOUT"
	NodeFail    = "NODE_FAIL"
	OutOfMemory = "OUT_OF_MEMORY"
	Preempted   = "PREEMPTED"
	BootFail    = "BOOT_FAIL"
	Deadline    = "DEADLINE"
)

// ExitExecutionError is benchrun's exit status for a run that could not
// produce a verdict: the job hit its time limit, lost a node, ran out of
// memory, was preempted or cancelled, or failed before benchrun started.
const ExitExecutionError = 2

// State is what the submit side knows about a job.
type State struct {
	JobID    string `json:"job_id"`
	Name     string `json:"state"`     // COMPLETED, FAILED, ..., or RUNNING, PENDING while it runs
	ExitCode int    `json:"exit_code"` // the batch script's exit status
	Signal   int    `json:"signal"`    // the signal that ended the batch script, 0 if none
	Reason   string `json:"reason,omitempty"`
	Restarts int    `json:"restarts,omitempty"`
	Requeue  bool   `json:"requeue,omitempty"` // SLURM would requeue it after a node failure
	NodeList string `json:"node_list,omitempty"`
}

// Terminal reports whether s is one of the final states.
func (s State) Terminal() bool {
	switch s.Name {
	case Completed, Failed, Cancelled, Timeout, NodeFail, OutOfMemory, Preempted, BootFail, Deadline:
		return true
	}
	return false
}

// Failed reports whether the job ended for a reason outside benchrun:
// anything but COMPLETED, or FAILED with a plain exit status (which is
// benchrun's own). Its outcome is an execution error (ExitExecutionError).
func (s State) Failed() bool {
	switch s.Name {
	case Completed:
		return s.Signal != 0
	case Failed:
		return s.Signal != 0 || s.ExitCode == 0
	}
	return true
}

// ExitStatus maps s to benchrun's exit status: the job's own exit status
// when benchrun ended it (the job script passes benchrun's status through
// and uses 2 for failures before benchrun started), else
// ExitExecutionError.
func (s State) ExitStatus() int {
	if s.Failed() {
		return ExitExecutionError
	}
	return s.ExitCode
}

// String formats s as "JOBID STATE (exit C:S)".
func (s State) String() string {
	return fmt.Sprintf("job %s %s (exit %d:%d)", s.JobID, s.Name, s.ExitCode, s.Signal)
}

// Commander runs a SLURM command and returns its standard output. A
// non-zero exit is an error that includes the command's standard error.
type Commander interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// ExecCommander runs commands with os/exec.
type ExecCommander struct{}

// Run runs name with args, returning stdout; on failure the error holds
// the command line and its stderr.
func (ExecCommander) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// Client submits and follows jobs through a Commander.
type Client struct {
	Cmd Commander
}

// DefaultClient runs the real SLURM commands; Submit and Follow use it.
var DefaultClient = &Client{Cmd: ExecCommander{}}

// Submit submits a job script with sbatch and returns the job id.
func Submit(ctx context.Context, scriptPath string) (jobID string, err error) {
	return DefaultClient.Submit(ctx, scriptPath)
}

// Follow follows a job with DefaultClient; see Client.Follow.
func Follow(ctx context.Context, jobID string, o FollowOptions) (State, error) {
	return DefaultClient.Follow(ctx, jobID, o)
}

// Submit runs `sbatch --parsable scriptPath` and returns the job id.
func (c *Client) Submit(ctx context.Context, scriptPath string) (string, error) {
	out, err := c.Cmd.Run(ctx, "sbatch", "--parsable", scriptPath)
	if err != nil {
		return "", fmt.Errorf("submit %s: %w", scriptPath, err)
	}
	id, err := ParseSbatch(out)
	if err != nil {
		return "", fmt.Errorf("submit %s: %w", scriptPath, err)
	}
	return id, nil
}

// ParseSbatch reads the job id from `sbatch --parsable` output: "123" or
// "123;cluster", possibly after warning lines.
func ParseSbatch(out []byte) (string, error) {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	id, _, _ := strings.Cut(last, ";")
	if id == "" || strings.Trim(id, "0123456789_") != "" {
		return "", fmt.Errorf("sbatch --parsable printed %q, want a job id", strings.TrimSpace(string(out)))
	}
	return id, nil
}

// Cancel runs `scancel jobID`.
func (c *Client) Cancel(ctx context.Context, jobID string) error {
	if _, err := c.Cmd.Run(ctx, "scancel", jobID); err != nil {
		return fmt.Errorf("cancel job %s: %w", jobID, err)
	}
	return nil
}

// ErrUnknownJob means SLURM no longer (or never) knew the job: it ended
// more than MinJobAge ago and there is no accounting to ask.
var ErrUnknownJob = errors.New("SLURM does not know the job")

// Query asks SLURM for the job's state once: `scontrol show job -o`, and
// `sacct` when scontrol has forgotten the job.
func (c *Client) Query(ctx context.Context, jobID string) (State, error) {
	out, err := c.Cmd.Run(ctx, "scontrol", "show", "job", "-o", jobID)
	if err == nil {
		return ParseScontrolJob(jobID, out)
	}
	if !strings.Contains(err.Error(), "Invalid job id") {
		return State{JobID: jobID}, err
	}
	out, serr := c.Cmd.Run(ctx, "sacct", "-n", "-P", "-X", "-j", jobID, "-o", "JobID,State,ExitCode")
	if serr != nil {
		return State{JobID: jobID}, fmt.Errorf("job %s: %w (scontrol: invalid job id; sacct: %v)", jobID, ErrUnknownJob, serr)
	}
	return ParseSacct(jobID, out)
}

// ParseScontrolJob parses `scontrol show job -o` output (one line of
// KEY=VALUE fields; a value may hold spaces). Only the first line is read.
func ParseScontrolJob(jobID string, out []byte) (State, error) {
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	f := scontrolFields(line)
	st := State{JobID: jobID, Name: f["JobState"], Reason: f["Reason"], NodeList: f["NodeList"], Requeue: f["Requeue"] == "1"}
	if id := f["JobId"]; id != "" {
		st.JobID = id
	}
	if st.Name == "" {
		return st, fmt.Errorf("job %s: no JobState in scontrol output %q", jobID, line)
	}
	if r, err := strconv.Atoi(f["Restarts"]); err == nil {
		st.Restarts = r
	}
	var err error
	st.ExitCode, st.Signal, err = parseExitCode(f["ExitCode"])
	if err != nil {
		return st, fmt.Errorf("job %s: %w", jobID, err)
	}
	return st, nil
}

// scontrolFields splits KEY=VALUE fields separated by spaces, appending a
// word without '=' to the previous value. The first occurrence of a key wins.
func scontrolFields(line string) map[string]string {
	f := map[string]string{}
	last := ""
	for _, w := range strings.Fields(line) {
		k, v, ok := strings.Cut(w, "=")
		if ok && k != "" && strings.Trim(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/:_") == "" {
			if _, dup := f[k]; dup {
				// The job's fields come before Command and WorkDir; a
				// KEY=VALUE word inside those must not override them.
				last = ""
				continue
			}
			f[k] = v
			last = k
			continue
		}
		if last != "" {
			f[last] += " " + w
		}
	}
	return f
}

// parseExitCode parses SLURM's "CODE:SIGNAL".
func parseExitCode(s string) (code, sig int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, _ := strings.Cut(s, ":")
	code, err1 := strconv.Atoi(a)
	sig, err2 := strconv.Atoi(b)
	if err1 != nil || (b != "" && err2 != nil) {
		return 0, 0, fmt.Errorf("exit code %q: want CODE:SIGNAL", s)
	}
	return code, sig, nil
}

// ParseSacct parses `sacct -n -P -X -o JobID,State,ExitCode` output.
func ParseSacct(jobID string, out []byte) (State, error) {
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		cols := strings.Split(line, "|")
		if len(cols) < 3 || cols[0] != jobID {
			continue
		}
		name, _, _ := strings.Cut(cols[1], " ") // "CANCELLED by 0"
		st := State{JobID: jobID, Name: name}
		var err error
		st.ExitCode, st.Signal, err = parseExitCode(cols[2])
		return st, err
	}
	return State{JobID: jobID}, fmt.Errorf("job %s: %w (not in sacct output)", jobID, ErrUnknownJob)
}

// FollowOptions configures Follow.
type FollowOptions struct {
	Poll time.Duration // between queries; 5s when 0
	// LogPath is the job's output file ("%j" is replaced by the job id);
	// its new lines are copied to Out as they appear. Empty: no streaming.
	LogPath string
	Out     io.Writer
	// MaxErrors is how many queries in a row may fail (a busy or
	// restarting slurmctld, an accounting record not written yet) before
	// Follow gives up; 60 when 0 (5 minutes at the default poll).
	MaxErrors int
	// StopWait bounds how long Follow, having cancelled the job because
	// ctx ended, waits for it to end, so that the benchrun inside has
	// finished writing its results before the caller reads them; 2 minutes
	// when 0 (SLURM's KillWait is 30 s by default).
	StopWait time.Duration
}

// Follow polls the job until it reaches a final state and returns that
// state, copying new lines of its output file to o.Out meanwhile. A job
// that SLURM requeued (PENDING again with Restarts > 0, after a node failure
// or preemption) is reported as the state that ended its first run
// (NODE_FAIL when that was not seen) and cancelled, as is a job that ended
// in NODE_FAIL or PREEMPTED with requeueing on: a nightly run never starts
// over silently. When ctx ends, Follow cancels the job and returns ctx's error.
func (c *Client) Follow(ctx context.Context, jobID string, o FollowOptions) (State, error) {
	poll := o.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	maxErrors := o.MaxErrors
	if maxErrors <= 0 {
		maxErrors = 60
	}
	stopWait := o.StopWait
	if stopWait <= 0 {
		stopWait = 2 * time.Minute
	}
	var tail *logTail
	if o.LogPath != "" && o.Out != nil {
		tail = &logTail{path: strings.ReplaceAll(o.LogPath, "%j", jobID), out: o.Out}
	}
	cancel := func() {
		ctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer stop()
		_ = c.Cancel(ctx, jobID)
	}
	var last State
	errs := 0
	for {
		st, err := c.Query(ctx, jobID)
		tail.copy(false)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			errs++
			// A job seen before and now unknown to both scontrol and sacct
			// ended without a record: nothing more will be learnt. One
			// never seen may just not be in accounting yet.
			if errs >= maxErrors || errors.Is(err, ErrUnknownJob) && last.Name != "" {
				tail.copy(true)
				return last, fmt.Errorf("follow job %s: %w; it may still be running (scancel %s stops it)", jobID, err, jobID)
			}
		default:
			errs = 0
			if st.Restarts > 0 && !st.Terminal() {
				if !last.Terminal() {
					last.Name = NodeFail
				}
				st.Name, st.ExitCode, st.Signal = last.Name, last.ExitCode, last.Signal
				cancel()
				tail.copy(true)
				return st, nil
			}
			if st.Name == "PENDING" && st.Reason != last.Reason && o.Out != nil && st.Reason != "" && st.Reason != "None" {
				fmt.Fprintf(o.Out, "benchrun: job %s pending: %s\n", jobID, st.Reason)
			}
			if st.Name == "PENDING" && neverStarts(st.Reason) {
				cancel()
				tail.copy(true)
				return st, fmt.Errorf("follow job %s: it cannot start: pending with reason %s (a limit of the partition, QOS or account, or an impossible constraint or dependency); cancelled it", jobID, st.Reason)
			}
			if st.Terminal() {
				if st.Requeue && (st.Name == NodeFail || st.Name == Preempted) {
					cancel()
				}
				// The output file may still grow for a moment after the
				// state changes; one more look catches the last lines.
				tail.copy(true)
				return st, nil
			}
			last = st
		}
		select {
		case <-ctx.Done():
			cancel()
			// The benchrun inside is still writing its results as it
			// stops: wait for the job to end before the caller reads them.
			if st, ok := c.awaitEnd(context.WithoutCancel(ctx), jobID, min(poll, time.Second), stopWait, tail); ok {
				last = st
			}
			tail.copy(true)
			last.JobID = jobID
			return last, fmt.Errorf("follow job %s: cancelled it: %w", jobID, ctx.Err())
		case <-time.After(poll):
		}
	}
}

// neverStarts reports whether a pending job's reason can never clear by
// itself: its request exceeds a per-job limit of the partition, QOS or
// association, or its constraints or dependency cannot be met. (Held jobs
// and reasons like Resources or Priority only wait.)
func neverStarts(reason string) bool {
	switch reason {
	case "PartitionTimeLimit", "PartitionNodeLimit", "BadConstraints", "DependencyNeverSatisfied", "InvalidQOS", "InvalidAccount":
		return true
	}
	return strings.HasPrefix(reason, "QOSMax") && strings.Contains(reason, "PerJob") ||
		strings.HasPrefix(reason, "AssocMax") && strings.Contains(reason, "PerJob")
}

// awaitEnd polls a cancelled job until it reaches a final state or budget
// runs out, copying its output meanwhile; ok says it ended.
func (c *Client) awaitEnd(ctx context.Context, jobID string, poll, budget time.Duration, tail *logTail) (State, bool) {
	deadline := time.Now().Add(budget)
	for time.Now().Before(deadline) {
		st, err := c.Query(ctx, jobID)
		tail.copy(false)
		if err == nil && st.Terminal() {
			return st, true
		}
		if errors.Is(err, ErrUnknownJob) {
			return State{}, false // gone without a record
		}
		time.Sleep(poll)
	}
	return State{}, false
}

// logTail copies complete new lines of a growing file.
type logTail struct {
	path    string
	out     io.Writer
	offset  int64
	partial []byte
}

// copy copies what the file gained since the last call; with final it also
// writes an unterminated last line.
func (t *logTail) copy(final bool) {
	if t == nil {
		return
	}
	f, err := os.Open(t.path)
	if err == nil {
		if _, err := f.Seek(t.offset, io.SeekStart); err == nil {
			r := bufio.NewReader(f)
			for {
				b, err := r.ReadBytes('\n')
				t.offset += int64(len(b))
				t.partial = append(t.partial, b...)
				if len(t.partial) > 0 && t.partial[len(t.partial)-1] == '\n' {
					t.out.Write(t.partial)
					t.partial = t.partial[:0]
				}
				if err != nil {
					break
				}
			}
		}
		f.Close()
	}
	if final && len(t.partial) > 0 {
		t.out.Write(append(t.partial, '\n'))
		t.partial = nil
	}
}
