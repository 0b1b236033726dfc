package results

import (
	"strings"
	"testing"
	"time"
)

// TestManifestUnfinished: a manifest left by a killed run (no end time,
// or a case still pending or running) is judged incomplete, with why;
// a finished one, or one that already says it is incomplete, is not.
func TestManifestUnfinished(t *testing.T) {
	end := time.Now()
	for _, tc := range []struct {
		name string
		m    Manifest
		want string // substring of the reason, "" for finished
	}{
		{"finished", Manifest{End: end, Cases: []CaseInfo{{ID: "a", Status: "done"}, {ID: "b", Status: "skipped"}}}, ""},
		{"case running", Manifest{End: end, Cases: []CaseInfo{{ID: "a", Status: "done"}, {ID: "b", Status: "running"}}}, "case b is still running"},
		{"case pending", Manifest{Cases: []CaseInfo{{ID: "a", Status: "pending"}}}, "case a is still pending"},
		{"no end", Manifest{Cases: []CaseInfo{{ID: "a", Status: "done"}}}, "no end time"},
		{"already incomplete", Manifest{Incomplete: true, Reason: "interrupted", Cases: []CaseInfo{{ID: "a", Status: "running"}}}, ""},
	} {
		m := tc.m
		got := m.Unfinished()
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: Unfinished() = %q, want %q", tc.name, got, tc.want)
		}
		reason := m.Reason
		if settled := m.Settle(); settled != (tc.want != "") || settled && (!m.Incomplete || m.Reason != got) || !settled && m.Reason != reason {
			t.Errorf("%s: Settle() = %v, manifest incomplete=%v reason=%q", tc.name, settled, m.Incomplete, m.Reason)
		}
	}
}
