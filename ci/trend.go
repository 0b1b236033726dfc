package ci

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/benchrun/benchrun/analysis"
	"github.com/benchrun/benchrun/baselines"
)

// trendRunsFlag is --trend-runs: how many of the latest runs of the suite's
// history the reports' trend charts show.
func trendRunsFlag() cli.Flag {
	return &cli.IntFlag{Name: "trend-runs", Value: analysis.DefaultTrendRuns,
		Usage: "trend charts show the last `N` runs of the suite's history, this one included (0: no trends)", EnvVars: []string{"BENCHRUN_TREND_RUNS"}}
}

// addTrends gives each case of r the trend of its history keys over the
// last p.trendRuns runs of the suite's history up to this run, this run
// last (it is appended to the history only after the reports are written;
// a run cut short, or a case it did not measure, has no trend). No
// history, or a history that cannot be read, leaves the reports without
// trends: a warning, never a failed run.
func (p *pipeline) addTrends(r *run) {
	if p.trendRuns <= 0 || p.tableOnly || p.e.insideJob {
		return
	}
	dir := historyDir(p.history, baselinesDir(p.baselines, r.s, r.m.SuiteFile))
	h, err := baselines.LoadHistory(dir, r.s.Suite.Name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		p.e.log.Warn("no trends in the reports", "err", err)
		return
	}
	this := baselines.RecordOf(r.m, r.sum, func(c *analysis.Case) []string { return historyKeys(r.s, r.cases[c.ID]) })
	var upto baselines.History
	for _, rec := range h {
		if rec.Run < this.Run {
			upto = append(upto, rec)
		}
	}
	if !r.m.Incomplete {
		upto = append(upto, this)
	}
	byID := map[string]*analysis.Case{}
	for i := range r.sum.Cases {
		byID[r.sum.Cases[i].ID] = &r.sum.Cases[i]
	}
	for _, s := range upto.Series() {
		c, ok := byID[s.Case]
		i := strings.LastIndex(s.Stat, ".")
		// The reports draw a trend "this one last": a case this run did
		// not measure (failed, skipped, or the run was cut short) gets no
		// trend, not one ending at an older run.
		if !ok || i < 0 || len(s.Runs) == 0 || s.Runs[len(s.Runs)-1] != this.Run {
			continue
		}
		c.AddTrend(s.Stat[:i], s.Stat[i+1:], s.Unit, s.Better, s.Runs, s.Values, p.trendRuns)
	}
}
