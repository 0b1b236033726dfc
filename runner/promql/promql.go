package promql

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/benchrun/benchrun/runner/results"
)

// MaxPoints is the most points per series a range query may ask for
// (Prometheus refuses more than 11,000); a longer window gets a coarser
// step.
const MaxPoints = 11000

// QueryTimeout bounds each query.
const QueryTimeout = 10 * time.Second

// Querier runs range queries against one Prometheus server.
type Querier struct {
	URL string
	// Client; nil means http.DefaultClient's transport.
	Client *http.Client
}

// Stats is what a Run did: one attempt per query; Failures are queries
// that returned an error (LastError the last of them), Empty those that
// returned no series, by name.
type Stats struct {
	Attempts, Failures int
	LastError          string
	Empty              []string
	// Warnings are what Prometheus said with its answers ("query NAME:
	// text"): a warning marks an answer that may be incomplete (a
	// partial response, a source that did not answer), whose points are
	// kept.
	Warnings []string
	// Step is the step used: the one asked for, or coarser to stay within
	// MaxPoints.
	Step time.Duration
}

// Step returns the step of a range query over a window of dur: step, or
// the shortest whole number of milliseconds that keeps the series within
// MaxPoints.
func Step(dur, step time.Duration) time.Duration {
	if step <= 0 {
		step = time.Second
	}
	if dur/step < MaxPoints {
		return step
	}
	return (dur/(MaxPoints-1) + time.Millisecond).Truncate(time.Millisecond)
}

// Run runs each query (by name) over [start, end] at step and writes its
// series to w as points named after the query, with the series' labels
// (its metric name, when it has one, as the label __name__) and offsets
// from start. Queries run in name order; the points of one query are in
// the order of their labels, then time.
func (q *Querier) Run(ctx context.Context, queries map[string]string, start, end time.Time, step time.Duration, w *results.PointWriter) Stats {
	st := Stats{Step: Step(end.Sub(start), step)}
	cfg := api.Config{Address: q.URL}
	if q.Client != nil {
		cfg.Client = q.Client
	}
	c, err := api.NewClient(cfg)
	if err != nil {
		st.Attempts, st.Failures, st.LastError = len(queries), len(queries), err.Error()
		return st
	}
	prom := v1.NewAPI(c)
	r := v1.Range{Start: start, End: end, Step: st.Step}
	for _, name := range slices.Sorted(maps.Keys(queries)) {
		st.Attempts++
		pts, warns, err := query(ctx, prom, queries[name], name, r, start)
		for _, w := range warns {
			st.Warnings = append(st.Warnings, fmt.Sprintf("query %s: %s", name, w))
		}
		if err == nil {
			err = w.Write(pts...)
		}
		switch {
		case err != nil:
			st.Failures++
			st.LastError = fmt.Sprintf("query %s: %v", name, err)
		case len(pts) == 0:
			st.Empty = append(st.Empty, name)
		}
	}
	return st
}

// query runs one range query and returns its points and Prometheus's
// warnings about the answer.
func query(ctx context.Context, prom v1.API, expr, name string, r v1.Range, start time.Time) ([]results.Point, v1.Warnings, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	v, warns, err := prom.QueryRange(ctx, expr, r)
	if err != nil {
		return nil, warns, err
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, warns, fmt.Errorf("a range query answered a %s, not a matrix", v.Type())
	}
	sort.Slice(m, func(i, j int) bool { return m[i].Metric.Before(m[j].Metric) })
	var pts []results.Point
	for _, ss := range m {
		var labels map[string]string
		if len(ss.Metric) > 0 {
			labels = make(map[string]string, len(ss.Metric))
			for k, v := range ss.Metric {
				labels[string(k)] = string(v)
			}
		}
		for _, sp := range ss.Values {
			pts = append(pts, results.Point{T: sp.Timestamp.Time().Sub(start), Metric: name, Labels: labels, Value: float64(sp.Value)})
		}
	}
	return pts, warns, nil
}
