package ci

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

func TestLogSections(t *testing.T) {
	var b bytes.Buffer
	s := &logSections{w: &b, on: true, now: func() time.Time { return time.Unix(1700000000, 0) }}
	s.end() // nothing open: nothing written
	s.start("benchrun: case 1/2 a")
	b.WriteString("log line\n")
	s.start("benchrun: case 2/2 b") // closes the first
	s.end()
	s.end()
	want := "\x1b[0Ksection_start:1700000000:benchrun_case_1[collapsed=true]\r\x1b[0Kbenchrun: case 1/2 a\n" +
		"log line\n" +
		"\x1b[0Ksection_end:1700000000:benchrun_case_1\r\x1b[0K\n" +
		"\x1b[0Ksection_start:1700000000:benchrun_case_2[collapsed=true]\r\x1b[0Kbenchrun: case 2/2 b\n" +
		"\x1b[0Ksection_end:1700000000:benchrun_case_2\r\x1b[0K\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
	var off bytes.Buffer
	o := &logSections{w: &off, now: time.Now}
	o.start("x")
	o.end()
	if off.Len() != 0 {
		t.Errorf("outside GitLab CI: wrote %q", off.String())
	}
}

// TestGitLabJob: under GitLab CI, the manifest records the job, the
// report links it, and each case's lines are a section of the log.
func TestGitLabJob(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	copySuite(t, work, "demo.toml")
	env := binEnv("GITLAB_CI=true", "CI=true", "CI_PIPELINE_ID=4242", "CI_JOB_ID=77",
		"CI_JOB_URL=https://gitlab.example/g/p/-/jobs/77", "CI_COMMIT_SHA=deadbeef")
	r := runBin(t, work, env, "suite", "-o", "r", "demo.toml")
	if r.code != ExitOK {
		t.Fatalf("suite: %v", r)
	}
	for i, id := range []string{"chat/users=4", "chat/users=16"} {
		n := string(rune('1' + i))
		start := "section_start:"
		if !strings.Contains(r.stderr, "benchrun_case_"+n+"[collapsed=true]\r\x1b[0Kbenchrun: case "+n+"/2 "+id+"\n") ||
			!strings.Contains(r.stderr, start) || !strings.Contains(r.stderr, "section_end:") {
			t.Errorf("case %s is not a section of the log:\n%q", id, r.stderr)
		}
	}
	if strings.Count(r.stderr, "section_start:") != strings.Count(r.stderr, "section_end:") {
		t.Errorf("unbalanced sections:\n%q", r.stderr)
	}
	m, err := results.ReadManifest(filepath.Join(work, "r"))
	if err != nil {
		t.Fatal(err)
	}
	if m.CI == nil || m.CI.PipelineID != "4242" || m.CI.JobURL != "https://gitlab.example/g/p/-/jobs/77" || m.CI.CommitSHA != "deadbeef" {
		t.Errorf("manifest ci %+v", m.CI)
	}
	html, err := os.ReadFile(filepath.Join(work, "r", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `<a href="https://gitlab.example/g/p/-/jobs/77">`) {
		t.Error("the report does not link the CI job")
	}
}
