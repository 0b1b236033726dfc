package ci

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/benchrun/benchrun/report"
)

// pushJob is the Pushgateway job name of benchrun's pushes.
const pushJob = "benchrun"

// pushTimeout bounds the whole push: a Pushgateway that hangs must not
// hold the pipeline's exit.
const pushTimeout = 30 * time.Second

// pushResults pushes each case's summary and the run's status to the
// suite's Pushgateway (monitoring.pushgateway), grouped by suite, case
// and job id (pushJobID), replacing earlier pushes of the same groups. A
// failed push is a warning: the run's verdict and reports stand.
func (p *pipeline) pushResults(r *run, code error) {
	url := r.s.Monitoring.Pushgateway
	if url == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), pushTimeout)
	defer cancel()
	id := pushJobID(r)
	pusher := func() *push.Pusher {
		return push.New(url, pushJob).Grouping("suite", r.sum.Suite).Grouping("job_id", id)
	}
	failed := 0
	for i := range r.sum.Cases {
		c := &r.sum.Cases[i]
		g, err := report.CaseGatherer(c)
		if err == nil {
			err = pusher().Grouping("case", c.ID).Gatherer(g).PushContext(ctx)
		}
		if err != nil {
			failed++
			p.e.log.Warn("pushgateway: case not pushed", "case", c.ID, "url", url, "err", err)
		}
	}
	if err := pusher().Gatherer(report.RunGatherer(r.sum, ExitCode(code))).PushContext(ctx); err != nil {
		failed++
		p.e.log.Warn("pushgateway: run status not pushed", "url", url, "err", err)
	}
	if failed == 0 {
		p.e.log.Info("pushed to the pushgateway", "url", url, "job_id", id, "cases", len(r.sum.Cases))
	}
}

// pushJobID names the run in its Pushgateway groups: the SLURM job id,
// else GitLab's CI_JOB_ID, else the host and the run's start time.
func pushJobID(r *run) string {
	if r.m.Slurm != nil && r.m.Slurm.JobID != "" {
		return r.m.Slurm.JobID
	}
	if id := os.Getenv("CI_JOB_ID"); id != "" {
		return id
	}
	return fmt.Sprintf("%s-%s", r.m.Host, r.m.Start.UTC().Format("20060102T150405Z"))
}
