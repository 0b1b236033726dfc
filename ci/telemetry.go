package ci

import (
	"context"
	"path/filepath"
	"time"

	"github.com/benchrun/benchrun/runner/promql"
	"github.com/benchrun/benchrun/runner/results"
	"github.com/benchrun/benchrun/runner/scrape"
	"github.com/benchrun/benchrun/suites"
)

// scrapeCase starts scraping the metrics endpoint of the case's service
// (suites.Suite.MetricsURL) into telemetry/<case>/<service>.jsonl, and
// returns the function that stops it — one last scrape, so the counters
// cover the whole case — and records the file in the case's manifest
// entry. Without an endpoint both do nothing. A scrape that fails is
// counted in the file's entry (a warning in the reports), never an error.
func (r *caseRun) scrapeCase(ctx context.Context, cs suites.Case, info *results.CaseInfo) (stop func()) {
	sv := r.s.Service(cs.Benchmark.Service)
	url := ""
	if sv != nil {
		url = r.s.MetricsURL(sv, r.urls[sv.Name])
	}
	if url == "" {
		return func() {}
	}
	tf := results.TelemetryFile{Source: sv.Name, Kind: results.TelemetryScrape, URL: url,
		Path: results.TelemetryPath(cs.ID, sv.Name), Start: time.Now().UTC()}
	w, err := results.CreatePointFile(filepath.Join(r.dir, tf.Path))
	if err != nil {
		r.e.log.Warn("telemetry: cannot create the series file; the case runs without it", "case", cs.ID, "err", err)
		return func() {}
	}
	sc := &scrape.Scraper{URL: url, Interval: time.Duration(r.s.Monitoring.ScrapeInterval)}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan scrape.Stats, 1)
	go func() { done <- sc.Run(sctx, tf.Start, w) }()
	return func() {
		cancel()
		st := <-done
		if err := w.Close(); err != nil {
			r.e.log.Warn("telemetry: closing the series file", "case", cs.ID, "err", err)
		}
		tf.Points, tf.Skipped = w.Count()
		tf.Attempts, tf.Failures, tf.Error = st.Attempts, st.Failures, st.LastError
		if st.Failures > 0 {
			r.e.log.Warn("telemetry: scrapes failed", "case", cs.ID, "url", url, "failed", st.Failures, "of", st.Attempts, "last", st.LastError)
		}
		info.Telemetry = append(info.Telemetry, tf)
	}
}

// promqlWait is the most queryCase waits after a case for Prometheus to
// take the scrape under way when the case ended.
const promqlWait = 2 * time.Second

// queryCase notes the case's start and returns the function to call when
// it has ended: it runs the suite's PromQL queries
// (suites.Monitoring.PromQLQueries) over [start, end] against the
// Prometheus server, after waiting one query step (at most promqlWait),
// into telemetry/<case>/promql.jsonl, and records the file in the case's
// manifest entry. Without queries both do nothing. A query that fails or
// returns nothing, or a server that does not answer, is a warning.
func (r *caseRun) queryCase(ctx context.Context, cs suites.Case, info *results.CaseInfo) (ended func(end time.Time)) {
	m := &r.s.Monitoring
	queries := m.PromQLQueries()
	if len(queries) == 0 {
		return func(time.Time) {}
	}
	start := time.Now().UTC()
	return func(end time.Time) {
		tf := results.TelemetryFile{Source: results.TelemetryPromQLSource, Kind: results.TelemetryPromQL, URL: m.Prometheus,
			Path: results.TelemetryPath(cs.ID, results.TelemetryPromQLSource), Start: start, Queries: queries}
		w, err := results.CreatePointFile(filepath.Join(r.dir, tf.Path))
		if err != nil {
			r.e.log.Warn("telemetry: cannot create the PromQL series file", "case", cs.ID, "err", err)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(m.QueryStep), promqlWait)):
		}
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		st := (&promql.Querier{URL: m.Prometheus}).Run(qctx, queries, start, end, time.Duration(m.QueryStep), w)
		cancel()
		if err := w.Close(); err != nil {
			r.e.log.Warn("telemetry: closing the PromQL series file", "case", cs.ID, "err", err)
		}
		tf.Points, tf.Skipped = w.Count()
		tf.Attempts, tf.Failures, tf.Error, tf.Step, tf.Warnings = st.Attempts, st.Failures, st.LastError, st.Step, st.Warnings
		if len(st.Warnings) > 0 {
			r.e.log.Warn("telemetry: Prometheus warned that its answers may be incomplete", "case", cs.ID, "prometheus", m.Prometheus, "warnings", st.Warnings)
		}
		if st.Failures > 0 {
			r.e.log.Warn("telemetry: PromQL queries failed", "case", cs.ID, "prometheus", m.Prometheus, "failed", st.Failures, "of", st.Attempts, "last", st.LastError)
		}
		if len(st.Empty) > 0 {
			r.e.log.Warn("telemetry: PromQL queries returned no series over the case", "case", cs.ID, "queries", st.Empty)
		}
		info.Telemetry = append(info.Telemetry, tf)
	}
}
