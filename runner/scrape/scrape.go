package scrape

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/benchrun/benchrun/runner/results"
)

// Interval bounds: the default is GuideLLM's 1 s; AIPerf scrapes every
// 100 ms, the shortest a suite may ask for.
const (
	DefaultInterval = time.Second
	MinInterval     = 100 * time.Millisecond
)

// acceptHeader asks for the classic text format (0.0.4), or protobuf.
const acceptHeader = `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.6,*/*;q=0.1`

// maxBody bounds what one scrape reads: a vLLM exposition is tens of kB.
// A longer one is refused, not cut: a cut exposition lacks the series
// after the cut, and a counter missing from one scrape reads as counting
// from zero in the next. A variable for tests.
var maxBody int64 = 64 << 20

// Scraper scrapes one endpoint.
type Scraper struct {
	URL string
	// Interval between scrapes; 0 means DefaultInterval.
	Interval time.Duration
	// Client; nil means http.DefaultClient. Each scrape is bounded by
	// Timeout (0: the interval, at least 1 s).
	Client  *http.Client
	Timeout time.Duration
}

// Stats is what a run of scrapes did.
type Stats struct {
	Attempts, Failures int
	LastError          string // the last failure, "" when none
}

// Run scrapes s.URL at once, then every Interval until ctx is done, then
// once more (so counters cover the whole case), writing the points with
// offsets from start to w. Failed scrapes are counted in Stats.
func (s *Scraper) Run(ctx context.Context, start time.Time, w *results.PointWriter) Stats {
	var st Stats
	one := func(ctx context.Context) {
		st.Attempts++
		at := time.Now()
		pts, err := s.Scrape(ctx, at.Sub(start))
		if err == nil {
			err = w.Write(pts...)
		}
		if err != nil {
			st.Failures++
			st.LastError = err.Error()
		}
	}
	one(ctx)
	t := time.NewTicker(s.interval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout())
			one(last)
			cancel()
			return st
		case <-t.C:
			one(ctx)
		}
	}
}

func (s *Scraper) interval() time.Duration {
	if s.Interval <= 0 {
		return DefaultInterval
	}
	return max(s.Interval, MinInterval)
}

func (s *Scraper) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return max(s.interval(), time.Second)
}

// ErrNotExposition is wrapped by Scrape's error for an answer that is not
// a Prometheus exposition (another content type, or no series at all).
var ErrNotExposition = errors.New("not a Prometheus exposition")

// Scrape reads the endpoint once and returns every series as a point at
// offset t.
func (s *Scraper) Scrape(ctx context.Context, t time.Duration) ([]results.Point, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", acceptHeader)
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %s", s.URL, resp.Status)
	}
	format, err := responseFormat(resp.Header)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", s.URL, err)
	}
	body := &io.LimitedReader{R: resp.Body, N: maxBody + 1}
	pts, err := Parse(body, format, t)
	if body.N == 0 {
		pts, err = nil, fmt.Errorf("the exposition is longer than %d bytes: refused, as a cut one would lack series", maxBody)
	}
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", s.URL, err)
	}
	return pts, nil
}

// responseFormat is the exposition format of an answer: text 0.0.4 or
// delimited protobuf; OpenMetrics text is read by the text parser, which
// reads its common subset. Anything else is refused.
func responseFormat(h http.Header) (expfmt.Format, error) {
	f := expfmt.ResponseFormat(h)
	if f.FormatType() != expfmt.TypeUnknown {
		return f, nil
	}
	ct := h.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil && mt == expfmt.OpenMetricsType {
		return expfmt.NewFormat(expfmt.TypeTextPlain), nil
	}
	return "", fmt.Errorf("%w: Content-Type %q", ErrNotExposition, ct)
}

// Parse decodes one exposition in format and returns its series, flat
// (histogram buckets, sums and counts as their own series), as points at
// offset t, sorted by metric name and labels. An exposition without any
// series is ErrNotExposition: an empty page must not look like a quiet
// server.
//
// expfmt's text parser (prometheus/common v0.66.1) panics on some
// malformed input (a label set without a metric name after a comment,
// found by FuzzParse: testdata/fuzz/FuzzParse); Parse recovers that
// panic into ErrNotExposition, so an endpoint cannot crash a run.
func Parse(r io.Reader, format expfmt.Format, t time.Duration) (pts []results.Point, err error) {
	defer func() {
		if v := recover(); v != nil {
			pts, err = nil, fmt.Errorf("%w: the parser failed: %v", ErrNotExposition, v)
		}
	}()
	dec := expfmt.SampleDecoder{Dec: expfmt.NewDecoder(r, format), Opts: &expfmt.DecodeOptions{Timestamp: 0}}
	var out []results.Point
	for {
		var v model.Vector
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotExposition, err)
		}
		for _, smp := range v {
			p := results.Point{T: t, Metric: string(smp.Metric[model.MetricNameLabel]), Value: float64(smp.Value)}
			if len(smp.Metric) > 1 {
				p.Labels = make(map[string]string, len(smp.Metric)-1)
				for k, lv := range smp.Metric {
					if k != model.MetricNameLabel {
						p.Labels[string(k)] = string(lv)
					}
				}
			}
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no series", ErrNotExposition)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Metric < out[j].Metric })
	return out, nil
}
