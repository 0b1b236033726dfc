package ci

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/slurm"
	"github.com/benchrun/benchrun/suites"
)

func TestSettleManifest(t *testing.T) {
	s, err := suites.Load(filepath.Join("testdata", "slurm", "timelimit.toml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		manifest   *results.Manifest
		st         slurm.State
		want       []results.Status // case statuses
		incomplete bool
	}{
		{"script failed before benchrun (no manifest)", nil, slurm.State{JobID: "7", Name: slurm.Failed, ExitCode: 2},
			[]results.Status{"skipped", "skipped"}, true},
		{"benchrun's own failing verdict", &results.Manifest{Cases: []results.CaseInfo{{ID: "chat/users=1", Status: "done"}, {ID: "chat/users=2", Status: "done"}}},
			slurm.State{JobID: "7", Name: slurm.Failed, ExitCode: 1}, []results.Status{"done", "done"}, false},
		{"node failure mid-case", &results.Manifest{Cases: []results.CaseInfo{{ID: "chat/users=1", Status: "done"}, {ID: "chat/users=2", Status: "running"}}},
			slurm.State{JobID: "7", Name: slurm.NodeFail}, []results.Status{"done", "error"}, true},
		{"benchrun's own error verdict (exit 2) after a finished run", &results.Manifest{End: time.Now(), Cases: []results.CaseInfo{{ID: "chat/users=1", Status: "error"}, {ID: "chat/users=2", Status: "done"}}},
			slurm.State{JobID: "7", Name: slurm.Failed, ExitCode: 2}, []results.Status{"error", "done"}, false},
		{"suite no longer validates in the job (exit 3)", &results.Manifest{Cases: []results.CaseInfo{{ID: "chat/users=1", Status: "running"}, {ID: "chat/users=2", Status: "pending"}}},
			slurm.State{JobID: "7", Name: slurm.Failed, ExitCode: 3}, []results.Status{"error", "skipped"}, true},
		{"benchrun killed in the job (exit 137)", &results.Manifest{Cases: []results.CaseInfo{{ID: "chat/users=1", Status: "done"}, {ID: "chat/users=2", Status: "running"}}},
			slurm.State{JobID: "7", Name: slurm.Failed, ExitCode: 137}, []results.Status{"done", "error"}, true},
		{"node failure after a case, before the next", &results.Manifest{Cases: []results.CaseInfo{{ID: "chat/users=1", Status: "done"}, {ID: "chat/users=2", Status: "pending"}}},
			slurm.State{JobID: "7", Name: slurm.NodeFail}, []results.Status{"error", "skipped"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.manifest != nil {
				if err := results.WriteJSONAtomic(filepath.Join(dir, results.ManifestFile), tt.manifest); err != nil {
					t.Fatal(err)
				}
			}
			if err := settleManifest(s, dir, tt.st.JobID, tt.st, false); err != nil {
				t.Fatal(err)
			}
			m, err := results.ReadManifest(dir)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range m.Cases {
				if c.Status != tt.want[i] {
					t.Errorf("case %s status %q, want %q", c.ID, c.Status, tt.want[i])
				}
			}
			if m.Incomplete != tt.incomplete || m.Slurm == nil || m.Slurm.State != tt.st.Name {
				t.Errorf("incomplete %v slurm %+v, want incomplete %v state %s", m.Incomplete, m.Slurm, tt.incomplete, tt.st.Name)
			}
		})
	}
}
