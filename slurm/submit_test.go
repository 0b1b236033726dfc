package slurm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSlurm replays recorded outputs: each call to a command takes the next
// reply queued for it (the last one repeats) and is logged.
type fakeSlurm struct {
	mu      sync.Mutex
	replies map[string][]reply
	calls   []string
	onCall  func(n int) // called with the number of scontrol calls so far
	queries int
}

type reply struct {
	out string
	err error
}

func (f *fakeSlurm) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	if name == "scontrol" {
		f.queries++
		if f.onCall != nil {
			f.onCall(f.queries)
		}
	}
	q := f.replies[name]
	if len(q) == 0 {
		return nil, errors.New(name + ": not expected")
	}
	r := q[0]
	if len(q) > 1 {
		f.replies[name] = q[1:]
	}
	return []byte(r.out), r.err
}

func recorded(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "recorded", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// recordedError turns a recorded "stderr...\nexit=N" file into the error an
// ExecCommander would return.
func recordedError(t *testing.T, cmd, name string) error {
	text := recorded(t, name)
	text = text[:strings.LastIndex(text, "exit=")]
	return errors.New(cmd + ": exit status 1: " + strings.TrimSpace(text))
}

func TestParseSbatch(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"123\n", "123", ""},
		{"123;cluster2\n", "123", ""},
		{"sbatch: warning: something\n456\n", "456", ""},
		{"789_1\n", "789_1", ""},
		{"", "", "want a job id"},
		{"Submitted batch job 12\n", "", "want a job id"},
	}
	for _, tt := range tests {
		got, err := ParseSbatch([]byte(tt.in))
		if got != tt.want || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ParseSbatch(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
	f := &fakeSlurm{replies: map[string][]reply{"sbatch": {{out: recorded(t, "sbatch-parsable.txt")}}}}
	id, err := (&Client{Cmd: f}).Submit(context.Background(), "/r/job.sh")
	if err != nil || id != "2" || f.calls[0] != "sbatch --parsable /r/job.sh" {
		t.Errorf("Submit = %q, %v; calls %q", id, err, f.calls)
	}
}

func TestParseScontrolJob(t *testing.T) {
	tests := []struct {
		file string
		want State
	}{
		{"scontrol-running.txt", State{JobID: "2", Name: "RUNNING", Reason: "None", Requeue: true, NodeList: "node1"}},
		{"scontrol-pending.txt", State{JobID: "3", Name: "PENDING", Reason: "None", Requeue: true}},
		{"scontrol-cancelled.txt", State{JobID: "2", Name: Cancelled, Signal: 15, Reason: "None", Requeue: true, NodeList: "node1"}},
		{"scontrol-failed.txt", State{JobID: "4", Name: Failed, ExitCode: 3, Reason: "NonZeroExitCode", Requeue: true, NodeList: "node1"}},
		{"scontrol-requeued.txt", State{JobID: "5", Name: "PENDING", Reason: "BeginTime", Restarts: 1, Requeue: true}},
		// The script forwarded SLURM's TERM to the stand-in, which died of it: 143.
		{"scontrol-timeout.txt", State{Name: Timeout, ExitCode: 143, Reason: "TimeLimit", NodeList: "node1"}},
		{"scontrol-node-fail.txt", State{Name: NodeFail, ExitCode: 143, Reason: "NodeDown", NodeList: "node[2-3]"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseScontrolJob("x", []byte(recorded(t, tt.file)))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.JobID == "" {
				got.JobID = "" // re-recorded by the cluster tests with new ids
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := ParseScontrolJob("1", []byte("garbage")); err == nil {
		t.Error("ParseScontrolJob(garbage): want an error")
	}
	// A KEY=VALUE word inside Command must not override the job's fields.
	got, err := ParseScontrolJob("1", []byte("JobId=1 JobState=RUNNING ExitCode=0:0 Command=/x JobState=COMPLETED WorkDir=/a b"))
	if err != nil || got.Name != "RUNNING" {
		t.Errorf("got %+v, %v", got, err)
	}
}

func TestParseSacct(t *testing.T) {
	st, err := ParseSacct("12", []byte("12|CANCELLED by 0|0:15\n"))
	if err != nil || st.Name != Cancelled || st.Signal != 15 {
		t.Errorf("ParseSacct = %+v, %v", st, err)
	}
	if _, err := ParseSacct("12", []byte("")); !errors.Is(err, ErrUnknownJob) {
		t.Errorf("empty sacct output: %v, want ErrUnknownJob", err)
	}
}

func TestStateOutcome(t *testing.T) {
	tests := []struct {
		st     State
		failed bool
		exit   int
	}{
		{State{Name: Completed}, false, 0},
		{State{Name: Failed, ExitCode: 1}, false, 1}, // benchrun's own status (a regression)
		{State{Name: Failed, ExitCode: 2}, false, 2},
		{State{Name: Failed, Signal: 9}, true, 2},
		{State{Name: Timeout, Signal: 15}, true, 2},
		{State{Name: NodeFail}, true, 2},
		{State{Name: OutOfMemory, ExitCode: 0, Signal: 125}, true, 2},
		{State{Name: Preempted}, true, 2},
		{State{Name: Cancelled, Signal: 15}, true, 2},
		{State{Name: BootFail}, true, 2},
		{State{Name: Deadline}, true, 2},
	}
	for _, tt := range tests {
		if tt.st.Failed() != tt.failed || tt.st.ExitStatus() != tt.exit {
			t.Errorf("%v: Failed() = %v, ExitStatus() = %d; want %v, %d", tt.st, tt.st.Failed(), tt.st.ExitStatus(), tt.failed, tt.exit)
		}
	}
}

func TestFollow(t *testing.T) {
	running := recorded(t, "scontrol-running.txt")
	invalid := recordedError(t, "scontrol show job -o 2", "scontrol-invalid.txt")
	noAcct := recordedError(t, "sacct", "sacct-disabled.txt")
	tests := []struct {
		name      string
		scontrol  []reply
		sacct     []reply
		want      string
		wantErr   string
		cancelled bool
	}{
		{"failed", []reply{{out: running}, {out: running}, {out: recorded(t, "scontrol-failed.txt")}}, nil, Failed, "", false},
		{"timeout", []reply{{out: running}, {out: recorded(t, "scontrol-timeout.txt")}}, nil, Timeout, "", false},
		{"requeued after node failure", []reply{{out: running}, {out: recorded(t, "scontrol-requeued.txt")}}, nil, NodeFail, "", true},
		{"node fail with requeue on", []reply{{out: strings.Replace(recorded(t, "scontrol-node-fail.txt"), "Requeue=0", "Requeue=1", 1)}}, nil, NodeFail, "", true},
		{"node fail without requeue", []reply{{out: recorded(t, "scontrol-node-fail.txt")}}, nil, NodeFail, "", false},
		{"forgotten, sacct knows", []reply{{out: running}, {err: invalid}}, []reply{{out: "2|COMPLETED|0:0\n"}}, Completed, "", false},
		{"forgotten, no accounting", []reply{{out: running}, {err: invalid}}, []reply{{err: noAcct}}, "RUNNING", "SLURM does not know the job", false},
		{"scontrol keeps failing", []reply{{err: errors.New("scontrol: Socket timed out")}}, nil, "", "Socket timed out", false},
		{"not in accounting yet, then running", []reply{{err: invalid}, {out: running}, {out: recorded(t, "scontrol-failed.txt")}},
			[]reply{{err: noAcct}}, Failed, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSlurm{replies: map[string][]reply{"scontrol": tt.scontrol, "sacct": tt.sacct, "scancel": {{}}}}
			st, err := (&Client{Cmd: f}).Follow(context.Background(), "2", FollowOptions{Poll: time.Millisecond, MaxErrors: 3})
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Follow error = %v, want %q", err, tt.wantErr)
			}
			if st.Name != tt.want {
				t.Errorf("Follow state = %+v, want %s", st, tt.want)
			}
			if got := strings.Contains(strings.Join(f.calls, "\n"), "scancel 2"); got != tt.cancelled {
				t.Errorf("scancel called = %v, want %v; calls %q", got, tt.cancelled, f.calls)
			}
		})
	}
}

func TestFollowCancelAndLog(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "slurm-%j.out")
	real := filepath.Join(dir, "slurm-2.out")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeSlurm{replies: map[string][]reply{"scontrol": {{out: recorded(t, "scontrol-running.txt")}}, "scancel": {{}}}}
	f.onCall = func(n int) {
		switch n {
		case 2:
			os.WriteFile(real, []byte("line 1\nline 2 is part"), 0o644)
		case 3:
			os.WriteFile(real, []byte("line 1\nline 2 is partial\nline 3 unterminated"), 0o644)
		case 4:
			cancel()
		}
	}
	var out bytes.Buffer
	st, err := (&Client{Cmd: f}).Follow(ctx, "2", FollowOptions{Poll: time.Millisecond, LogPath: logPath, Out: &out, StopWait: 20 * time.Millisecond})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow = %v, want context.Canceled", err)
	}
	if st.JobID != "2" || !strings.Contains(strings.Join(f.calls, "\n"), "scancel 2") {
		t.Errorf("state %+v, calls %q: want the job cancelled", st, f.calls)
	}
	if want := "line 1\nline 2 is partial\nline 3 unterminated\n"; out.String() != want {
		t.Errorf("streamed %q, want %q", out.String(), want)
	}
}

// TestFollowWaitsForCancelledJob: after cancelling the job, Follow waits
// for it to end (its benchrun writes the results as it stops) and returns
// the final state.
func TestFollowWaitsForCancelledJob(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	running := recorded(t, "scontrol-running.txt")
	cancelled := strings.Replace(running, "JobState=RUNNING", "JobState=CANCELLED", 1)
	f := &fakeSlurm{replies: map[string][]reply{"scontrol": {{out: running}, {out: running}, {out: running}, {out: cancelled}}, "scancel": {{}}}}
	f.onCall = func(n int) {
		if n == 2 {
			cancel()
		}
	}
	st, err := (&Client{Cmd: f}).Follow(ctx, "2", FollowOptions{Poll: time.Millisecond, StopWait: time.Minute})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow = %v, want context.Canceled", err)
	}
	if st.Name != Cancelled {
		t.Errorf("state %+v after cancelling, want the job's final CANCELLED; calls %q", st, f.calls)
	}
}

// TestFollowPendingForever: a job pending for a reason that never clears
// is cancelled with that reason; reasons that only wait are reported as
// they change and followed on.
func TestFollowPendingForever(t *testing.T) {
	pending := recorded(t, "scontrol-pending.txt")
	with := func(reason string) string { return strings.Replace(pending, "Reason=None", "Reason="+reason, 1) }
	f := &fakeSlurm{replies: map[string][]reply{"scontrol": {{out: with("Priority")}, {out: with("Resources")}, {out: with("PartitionTimeLimit")}}, "scancel": {{}}}}
	var out bytes.Buffer
	st, err := (&Client{Cmd: f}).Follow(context.Background(), "3", FollowOptions{Poll: time.Millisecond, Out: &out})
	if err == nil || !strings.Contains(err.Error(), "PartitionTimeLimit") || !strings.Contains(err.Error(), "cannot start") {
		t.Fatalf("Follow = %v, want an error naming PartitionTimeLimit", err)
	}
	if st.Reason != "PartitionTimeLimit" || !strings.Contains(strings.Join(f.calls, "\n"), "scancel 3") {
		t.Errorf("state %+v, calls %q: want the job cancelled", st, f.calls)
	}
	for _, r := range []string{"pending: Priority", "pending: Resources", "pending: PartitionTimeLimit"} {
		if !strings.Contains(out.String(), r) {
			t.Errorf("output %q does not report %q", out.String(), r)
		}
	}
	for reason, want := range map[string]bool{"QOSMaxWallDurationPerJobLimit": true, "AssocMaxNodesPerJobLimit": true, "DependencyNeverSatisfied": true,
		"QOSGrpCpuLimit": false, "Resources": false, "JobHeldUser": false, "ReqNodeNotAvail, UnavailableNodes:node1": false} {
		if neverStarts(reason) != want {
			t.Errorf("neverStarts(%q) = %v, want %v", reason, !want, want)
		}
	}
}
