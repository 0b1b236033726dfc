package results

import (
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPointRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewPointWriter(&buf)
	in := []Point{
		{T: 0, Metric: "vllm:num_requests_waiting", Labels: map[string]string{"model_name": "m", "engine": "0"}, Value: 3},
		{T: 1500 * time.Millisecond, Metric: "vllm:e2e_request_latency_seconds_bucket", Labels: map[string]string{"le": "+Inf"}, Value: 42},
		{T: -2 * time.Millisecond, Metric: "up", Value: 1},
		{T: time.Second, Metric: "nan", Value: math.NaN()},
		{T: time.Second, Metric: "inf", Value: math.Inf(1)},
	}
	if err := w.Write(in...); err != nil {
		t.Fatal(err)
	}
	if n, skipped := w.Count(); n != 3 || skipped != 2 {
		t.Fatalf("Count = %d, %d; want 3 written, 2 skipped (non-finite)", n, skipped)
	}
	var out []Point
	integ, err := ScanPoints(&buf, func(p Point) error { out = append(out, p); return nil })
	if err != nil || integ.Samples != 3 || integ.BadCount != 0 || integ.TornLine != 0 {
		t.Fatalf("ScanPoints = %+v, %v", integ, err)
	}
	if !reflect.DeepEqual(out, in[:3]) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in[:3])
	}
}

// TestDecodePointRefusesOtherFormats: a line of another format — a
// sample, a Prometheus API answer, a point without its value — is an
// error, never a point with zeros.
func TestDecodePointRefusesOtherFormats(t *testing.T) {
	for name, line := range map[string]string{
		"sample":        `{"seq":1,"rep":0,"scheduled_ns":0,"sent_ns":5,"done_ns":9}`,
		"no value":      `{"t_ns":1,"metric":"up"}`,
		"no metric":     `{"t_ns":1,"value":1}`,
		"empty metric":  `{"t_ns":1,"metric":"","value":1}`,
		"no time":       `{"metric":"up","value":1}`,
		"string value":  `{"t_ns":1,"metric":"up","value":"1"}`,
		"api answer":    `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
		"two values":    `{"t_ns":1,"metric":"up","value":1} {"t_ns":2,"metric":"up","value":1}`,
		"exposition":    `vllm:num_requests_waiting{model_name="m"} 3`,
		"array":         `[1,2,3]`,
		"unknown field": `{"t_ns":1,"metric":"up","value":1,"unit":"s"}`,
	} {
		if _, err := DecodePoint([]byte(line)); !errors.Is(err, ErrPointFormat) {
			t.Errorf("%s: DecodePoint(%s) = %v, want ErrPointFormat", name, line, err)
		}
	}
}

func TestScanPointsDamage(t *testing.T) {
	text := `{"t_ns":1,"metric":"up","value":1}
not json
{"t_ns":2,"metric":"up","value":1}

{"t_ns":3,"metric":"up","val`
	var n int
	in, err := ScanPoints(strings.NewReader(text), func(Point) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || in.Samples != 2 || in.BadCount != 1 || in.BadLines[0].Line != 2 || in.TornLine != 4 {
		t.Fatalf("ScanPoints: %d points, %+v; want 2 points, bad line 2, torn line 4", n, in)
	}
}

func TestTelemetryPath(t *testing.T) {
	got := TelemetryPath("chat/users=8", "vllm")
	if want := filepath.Join("telemetry", "chat%2Fusers=8", "vllm.jsonl"); got != want {
		t.Fatalf("TelemetryPath = %q, want %q", got, want)
	}
}

func TestDecodeManifestRefusesTelemetryOutside(t *testing.T) {
	for _, path := range []string{"../etc/passwd", "/abs.jsonl", ""} {
		m := `{"version":1,"cases":[{"id":"a","status":"done","telemetry":[{"source":"x","kind":"scrape","path":"` + path + `","points":1}]}]}`
		if _, err := DecodeManifest([]byte(m)); err == nil {
			t.Errorf("path %q: DecodeManifest accepted it", path)
		}
	}
}

// FuzzDecodePoint: the telemetry decoder never panics, a point it accepts
// has a metric name and encodes back to a line it decodes to the same
// point, and every line of a stream is accounted for.
func FuzzDecodePoint(f *testing.F) {
	f.Add([]byte(`{"t_ns":1,"metric":"up","value":1}`))
	f.Add([]byte(`{"t_ns":-5,"metric":"a_bucket","labels":{"le":"+Inf"},"value":1e300}`))
	f.Add([]byte(`{"t_ns":1,"metric":"up","value":1}` + "\n" + `{"t_ns":`))
	f.Add([]byte(`{"seq":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if p, err := DecodePoint(data); err == nil {
			if p.Metric == "" {
				t.Fatalf("accepted a point without a metric: %q", data)
			}
			var buf bytes.Buffer
			w := NewPointWriter(&buf)
			if err := w.Write(p); err != nil {
				t.Fatal(err)
			}
			q, err := DecodePoint(bytes.TrimSpace(buf.Bytes()))
			if err != nil || q.T != p.T || q.Metric != p.Metric || q.Value != p.Value || len(q.Labels) != len(p.Labels) {
				t.Fatalf("re-decoding %q: %+v, %v; want %+v", buf.Bytes(), q, err, p)
			}
		}
		in, err := ScanPoints(bytes.NewReader(data), func(Point) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		torn := 0
		if in.TornLine > 0 {
			torn = 1
		}
		if int(in.Samples)+in.BadCount+torn != in.Lines {
			t.Fatalf("lines %d != points %d + bad %d + torn %d", in.Lines, in.Samples, in.BadCount, torn)
		}
	})
}
