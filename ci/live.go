package ci

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/benchrun/benchrun/runner/live"
	"github.com/benchrun/benchrun/runner/results"
)

// serveLive serves benchrun's live metrics (package live) at
// http://addr/metrics for the duration of the run, addr being
// --metrics-listen, else the suite's monitoring.listen; nothing when both
// are empty. A port that cannot be bound is a warning: the run goes on
// without live metrics. The returned function stops the server.
func (r *caseRun) serveLive(addr string) (stop func()) {
	if addr == "" {
		addr = r.s.Monitoring.Listen
	}
	if addr == "" {
		return func() {}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		r.e.log.Warn("live metrics: cannot listen; the run goes on without them", "addr", addr, "err", err)
		return func() {}
	}
	m := live.New(r.s.Suite.Name)
	r.e.live = m
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.e.log.Warn("live metrics server", "err", err)
		}
	}()
	r.e.log.Info("live metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		r.e.live = nil
	}
}

// observer is the runner.Case.Observe of case id: live metrics and the
// watch of a search probe (runSearch), nil without either.
func (e *env) observer(id string) func(*results.Sample) {
	m, watch := e.live, e.probe[id]
	switch {
	case m == nil:
		return watch
	case watch == nil:
		return func(s *results.Sample) { m.Observe(id, s) }
	}
	return func(s *results.Sample) { m.Observe(id, s); watch(s) }
}
