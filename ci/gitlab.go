package ci

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// detectCI describes the GitLab CI job benchrun runs in, from GitLab's
// predefined variables; nil outside GitLab CI (GITLAB_CI is not "true").
func detectCI() *results.CIInfo {
	if os.Getenv("GITLAB_CI") != "true" {
		return nil
	}
	return &results.CIInfo{System: "gitlab", PipelineID: os.Getenv("CI_PIPELINE_ID"), PipelineURL: os.Getenv("CI_PIPELINE_URL"),
		JobID: os.Getenv("CI_JOB_ID"), JobURL: os.Getenv("CI_JOB_URL"), CommitSHA: os.Getenv("CI_COMMIT_SHA"),
		Ref: os.Getenv("CI_COMMIT_REF_NAME")}
}

// logSections folds each case's lines of a GitLab job log into a
// collapsible section: GitLab's section_start/section_end lines
// (docs.gitlab.com, "Custom collapsible sections"). Outside GitLab CI, or
// nil, its methods write nothing.
type logSections struct {
	w    io.Writer
	on   bool
	now  func() time.Time
	n    int  // sections opened so far; the open one's number
	open bool // a section is open
}

func newLogSections(w io.Writer) *logSections {
	return &logSections{w: w, on: os.Getenv("GITLAB_CI") == "true", now: time.Now}
}

// start closes the open section, if any, and opens one titled title.
func (s *logSections) start(title string) {
	if s == nil || !s.on {
		return
	}
	s.end()
	s.n++
	s.open = true
	fmt.Fprintf(s.w, "\x1b[0Ksection_start:%d:benchrun_case_%d[collapsed=true]\r\x1b[0K%s\n", s.now().Unix(), s.n, title)
}

// end closes the open section, if any.
func (s *logSections) end() {
	if s == nil || !s.on || !s.open {
		return
	}
	fmt.Fprintf(s.w, "\x1b[0Ksection_end:%d:benchrun_case_%d\r\x1b[0K\n", s.now().Unix(), s.n)
	s.open = false
}
