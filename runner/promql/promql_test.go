package promql

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// fakePrometheus answers /api/v1/query_range as Prometheus does, with the
// answer for each query.
func fakePrometheus(t *testing.T, answers map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.URL.Path != "/api/v1/query_range" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		a, ok := answers[r.Form.Get("query")]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"parse error: %s"}`, r.Form.Get("query"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, a)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRun(t *testing.T) {
	start := time.Unix(1000, 0)
	srv := fakePrometheus(t, map[string]string{
		"DCGM_FI_DEV_GPU_UTIL": `{"status":"success","data":{"resultType":"matrix","result":[
			{"metric":{"__name__":"DCGM_FI_DEV_GPU_UTIL","gpu":"1","Hostname":"n1"},"values":[[1000,"50"],[1001.5,"60"]]},
			{"metric":{"__name__":"DCGM_FI_DEV_GPU_UTIL","gpu":"0","Hostname":"n1"},"values":[[1001,"90"]]}]}}`,
		"absent_metric": `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
		"scalar(1)":     `{"status":"success","data":{"resultType":"scalar","result":[1000,"1"]}}`,
	})
	var buf bytes.Buffer
	w := results.NewPointWriter(&buf)
	q := &Querier{URL: srv.URL}
	st := q.Run(context.Background(), map[string]string{"util": "DCGM_FI_DEV_GPU_UTIL", "none": "absent_metric",
		"bad": "rate(x[", "odd": "scalar(1)"}, start, start.Add(2*time.Second), 500*time.Millisecond, w)
	if st.Attempts != 4 || st.Failures != 2 || len(st.Empty) != 1 || st.Empty[0] != "none" || st.Step != 500*time.Millisecond {
		t.Errorf("stats %+v", st)
	}
	if !strings.Contains(st.LastError, "query odd:") || !strings.Contains(st.LastError, "not a matrix") {
		t.Errorf("last error %q", st.LastError)
	}
	var got []string
	if _, err := results.ScanPoints(&buf, func(p results.Point) error {
		got = append(got, fmt.Sprintf("%v %s gpu=%s name=%s %g", p.T, p.Metric, p.Labels["gpu"], p.Labels["__name__"], p.Value))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"1s util gpu=0 name=DCGM_FI_DEV_GPU_UTIL 90", "0s util gpu=1 name=DCGM_FI_DEV_GPU_UTIL 50", "1.5s util gpu=1 name=DCGM_FI_DEV_GPU_UTIL 60"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("points\n got %q\nwant %q", got, want)
	}
}

func TestRunUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	var buf bytes.Buffer
	st := (&Querier{URL: url}).Run(context.Background(), map[string]string{"a": "up", "b": "up"}, time.Now().Add(-time.Second), time.Now(), time.Second, results.NewPointWriter(&buf))
	if st.Attempts != 2 || st.Failures != 2 || st.LastError == "" || buf.Len() != 0 {
		t.Errorf("unreachable: %+v, %d bytes written", st, buf.Len())
	}
}

func TestStep(t *testing.T) {
	for _, c := range []struct{ dur, step, want time.Duration }{
		{time.Minute, time.Second, time.Second},
		{time.Hour, 100 * time.Millisecond, 328 * time.Millisecond}, // 36000 steps asked
		{10 * time.Hour, time.Second, 3274 * time.Millisecond},
		{time.Second, 0, time.Second},
	} {
		got := Step(c.dur, c.step)
		if c.dur/got >= MaxPoints {
			t.Errorf("Step(%v, %v) = %v: %d points", c.dur, c.step, got, c.dur/got+1)
		}
		if got != c.want {
			t.Errorf("Step(%v, %v) = %v, want %v", c.dur, c.step, got, c.want)
		}
	}
}

// TestRunWarnings: Prometheus's warnings with an answer (a partial
// response) are kept in Stats, naming the query, beside the answer's
// points: the figures from them may cover less than they say.
func TestRunWarnings(t *testing.T) {
	start := time.Unix(1000, 0)
	srv := fakePrometheus(t, map[string]string{
		"up": `{"status":"success","warnings":["partial response: store 10.0.0.2:10901 unreachable"],"data":{"resultType":"matrix","result":[
			{"metric":{"__name__":"up"},"values":[[1000,"1"]]}]}}`,
	})
	var buf bytes.Buffer
	st := (&Querier{URL: srv.URL}).Run(context.Background(), map[string]string{"up": "up"}, start, start.Add(time.Second), time.Second, results.NewPointWriter(&buf))
	if st.Failures != 0 || len(st.Warnings) != 1 || st.Warnings[0] != "query up: partial response: store 10.0.0.2:10901 unreachable" {
		t.Errorf("stats %+v, want the warning of query up", st)
	}
	n := 0
	if _, err := results.ScanPoints(&buf, func(results.Point) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("%d points (%v), want the answer's 1", n, err)
	}
}
