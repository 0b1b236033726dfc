package analysis

import (
	"strings"
	"testing"
)

func TestParseThreshold(t *testing.T) {
	tests := []struct {
		expr   string
		metric string
		stat   string
		op     string
		limit  float64
	}{
		{"ttft.p95 < 500ms", "ttft", "p95", "<", 0.5},
		{"e2e.p99 <= 2s", "e2e", "p99", "<=", 2},
		{"error_rate < 1%", "error_rate", "", "<", 0.01},
		{"output_tokens_per_second > 1200", "output_tokens_per_second", "", ">", 1200},
		{"recall_at_10 >= 0.95", "recall_at_10", "", ">=", 0.95},
		{"queue_delay.p99 < 1ms", "queue_delay", "p99", "<", 0.001},
		{"ttft.mean < 0.5s", "ttft", "mean", "<", 0.5},
		{"ttft.mean < 0.5", "ttft", "mean", "<", 0.5},
		{"error_rate == 0", "error_rate", "", "==", 0},
		{"error_rate <= 0", "error_rate", "", "<=", 0},
		{"ttft.p99.9 < 3s", "ttft", "p999", "<", 3},
		{"ttft.p999 < 3s", "ttft", "p999", "<", 3},
		{"ttft.p(95)<200ms", "ttft", "p95", "<", 0.2},
		{"itl.median < 40us", "itl", "p50", "<", 40e-6},
		{"itl.p50 < 40µs", "itl", "p50", "<", 40e-6},
		{"e2e.max < 2m", "e2e", "max", "<", 120},
		{"requests_per_second >= 1.5k", "requests_per_second", "", ">=", 1500},
		{"index_bytes.max < 2GiB", "index_bytes", "max", "<", 2 << 30},
		{"error_rate_timeout.value < 0.1%", "error_rate_timeout", "value", "<", 0.001},
		{"tpot.p95 < 2e-2", "tpot", "p95", "<", 0.02},
		{"ttft.count >= 1000", "ttft", "count", ">=", 1000},
		{"  ttft.p90>=0  ", "ttft", "p90", ">=", 0},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			th, err := ParseThreshold(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			if th.Metric != tt.metric || th.Stat != tt.stat || th.Op != tt.op || !near(th.Limit, tt.limit) || th.Expr != tt.expr {
				t.Errorf("got %+v", th)
			}
		})
	}
}

func TestParseThresholdErrors(t *testing.T) {
	tests := []struct{ expr, msg string }{
		{"ttft.p95 < 500xs", `threshold "ttft.p95 < 500xs": unknown unit "xs"`},
		{"ttft.p97x < 1s", `unknown stat "p97x"`},
		{"ttft.p75 < 1s", `unknown stat "p75"`},
		{"ttft.p95 500ms", "no comparison"},
		{"ttft.p95 <", "no limit"},
		{"ttft-x.p95 < 1s", `bad metric name "ttft-x"`},
		{"9ttft < 1s", "bad metric name"},
		{"ttft < ms", "bad limit"},
		{"ttft < 1.2.3s", "bad number"},
		{"error_rate < 5ms", `unit "ms" is a duration but error_rate is in ratio`},
		{"ttft.p95 < 5%", `unit "%" is a percentage but ttft is in s`},
		{"ttft.p95 < 5MiB", "is a size"},
		{"ttft.count < 5s", "on a count"},
		{"ttft < 1s < 2s", "more than one comparison"},
		// A bare number on a ratio is a share of 1: 5 (meant as 5%) is a
		// limit no error rate can reach, a threshold that always passes.
		{"error_rate < 5", `error_rate is a ratio (0–1): limit 5 is outside it`},
		{"error_rate <= 1", `limit 1 is ambiguous`},
		{"error_rate_http_5xx.value < 2", "outside it"},
		{"infrastructure_error_rate > -1", "outside it"},
		{"error_rate < 1k", "limit 1000 is outside it"},
		{"", "no comparison"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := ParseThreshold(tt.expr)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want it to contain %q", err, tt.msg)
			}
		})
	}
	_, err := ParseThresholds([]string{"ttft < 1s", "a < 1xs", "b.p1 < 2"})
	if err == nil || !strings.Contains(err.Error(), `"a < 1xs"`) || !strings.Contains(err.Error(), `"b.p1 < 2"`) {
		t.Errorf("ParseThresholds did not report every error: %v", err)
	}
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"ttft.p95 < 500ms", "error_rate == 0", "x.p(99.9)>=1e-3s", "a<1%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			return
		}
		if th.Metric == "" || th.Op == "" || !isMetricName(th.Metric) {
			t.Fatalf("accepted %q as %+v", s, th)
		}
		th.Check(&Case{})
	})
}

func TestThresholdCheck(t *testing.T) {
	c := &Case{Metrics: map[string]Metric{
		"ttft":         {Kind: KindDistribution, Unit: "s", Count: 100, P95: 0.4, Mean: 0.2},
		"error_rate":   {Kind: KindRate, Unit: "ratio", Count: 100, Value: 0},
		"recall_at_10": {Kind: KindDistribution, Count: 10, Mean: 0.93},
		"empty":        {Kind: KindDistribution},
	}}
	tests := []struct {
		expr, verdict, detail string
	}{
		{"ttft.p95 < 500ms", Pass, ""},
		{"ttft.p95 < 400ms", Fail, "ttft p95 is 400 ms, limit < 400 ms"},
		{"ttft.p95 <= 400ms", Pass, ""},
		{"ttft < 0.3", Pass, ""}, // mean
		{"error_rate == 0", Pass, ""},
		{"error_rate <= 0", Pass, ""},
		{"error_rate < 0", Fail, ""},
		{"recall_at_10 >= 0.95", Fail, "recall_at_10 mean is 0.93"},
		{"e2e.p99 < 2s", Fail, "metric e2e was not measured"},
		{"error_rate.p95 < 1%", Fail, "is a rate and has no p95"},
		{"empty.p50 < 1", Fail, "has no values"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			th, err := ParseThreshold(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			ck := th.Check(c)
			if ck.Verdict != tt.verdict || ck.Kind != "threshold" || !strings.Contains(ck.Detail, tt.detail) {
				t.Errorf("check %+v, want %s with %q", ck, tt.verdict, tt.detail)
			}
		})
	}
	ts, _ := ParseThresholds([]string{"ttft.p95 < 500ms", "e2e < 1s"})
	CheckThresholds(c, ts)
	if len(c.Checks) != 2 || c.Checks[1].Verdict != Fail {
		t.Errorf("CheckThresholds: %+v", c.Checks)
	}
}

func TestRollup(t *testing.T) {
	ck := func(v string) Check { return Check{Verdict: v} }
	tests := []struct {
		name string
		c    Case
		want string
	}{
		{"no checks", Case{}, Pass},
		{"all pass", Case{Checks: []Check{ck(Pass), ck(Pass)}}, Pass},
		{"threshold fails", Case{Checks: []Check{ck(Pass), ck(Fail)}}, Fail},
		{"regression fails", Case{Checks: []Check{ck(Regression)}}, Fail},
		{"benign verdicts", Case{Checks: []Check{ck(Improvement), ck(Inconclusive), ck(NoBaseline), ck(Incomparable)}}, Pass},
		{"error beats fail", Case{Checks: []Check{ck(Fail)}, Errors: []string{"boom"}}, Error},
		{"skipped stays", Case{Verdict: Skipped, Checks: []Check{ck(Fail)}}, Skipped},
	}
	for _, tt := range tests {
		c := tt.c
		c.Rollup()
		if c.Verdict != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, c.Verdict, tt.want)
		}
	}
	runs := []struct {
		name  string
		cases []Case
		want  string
	}{
		{"empty", nil, Pass},
		{"pass and skipped", []Case{{}, {Verdict: Skipped}}, Pass},
		{"one fail", []Case{{}, {Checks: []Check{ck(Fail)}}}, Fail},
		{"error wins", []Case{{Errors: []string{"x"}}, {Checks: []Check{ck(Fail)}}}, Error},
		{"error first then fail", []Case{{Checks: []Check{ck(Fail)}}, {Errors: []string{"x"}}}, Error},
	}
	for _, tt := range runs {
		s := Summary{Cases: tt.cases}
		s.Rollup()
		if s.Verdict != tt.want {
			t.Errorf("summary %s: %q, want %q", tt.name, s.Verdict, tt.want)
		}
	}
}

// TestThresholdCheckAbsentMetric: an error class that did not occur in a
// case with operations has an error rate of 0; a metric that was not
// measured fails with its unit and a Detail saying so.
func TestThresholdCheckAbsentMetric(t *testing.T) {
	ran := &Case{Metrics: map[string]Metric{
		"error_rate":          {Kind: KindRate, Unit: UnitRatio, Count: 200, Value: 0.01},
		"error_rate_http_5xx": {Kind: KindRate, Unit: UnitRatio, Count: 200, Value: 0.01},
	}}
	empty := &Case{Metrics: map[string]Metric{}}
	tests := []struct {
		expr    string
		c       *Case
		verdict string
		unit    string
		detail  string
	}{
		{"error_rate_timeout < 1%", ran, Pass, UnitRatio, ""},
		{"error_rate_timeout == 0", ran, Pass, UnitRatio, ""},
		{"error_rate_timeout > 0", ran, Fail, UnitRatio, "error_rate_timeout value is 0%, limit > 0%"},
		{"error_rate_http_5xx < 1%", ran, Fail, UnitRatio, "error_rate_http_5xx value is 1%"},
		// A class benchrun does not record is a typo, not a zero.
		{"error_rate_timout < 1%", ran, Fail, UnitRatio, "metric error_rate_timout was not measured in this case"},
		// Without operations there is no rate to be 0.
		{"error_rate_timeout < 1%", empty, Fail, UnitRatio, "metric error_rate_timeout was not measured in this case"},
		{"ttft.p95 < 500ms", empty, Fail, UnitSeconds, "metric ttft was not measured in this case"},
		{"output_tokens_per_second > 10", empty, Fail, UnitTokensPerSecond, "metric output_tokens_per_second was not measured"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			th, err := ParseThreshold(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			ck := th.Check(tt.c)
			if ck.Verdict != tt.verdict || ck.Unit != tt.unit || !strings.Contains(ck.Detail, tt.detail) {
				t.Errorf("check %+v, want %s in %q with %q", ck, tt.verdict, tt.unit, tt.detail)
			}
		})
	}
}
