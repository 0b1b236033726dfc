package analysis

import (
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

func TestSampleValues(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		name string
		s    results.Sample
		want OpValues
	}{
		{
			name: "streamed answer",
			s: results.Sample{Scheduled: 100 * ms, Sent: 102 * ms, FirstByte: 150 * ms, FirstToken: 160 * ms,
				LastToken: 460 * ms, Done: 470 * ms, OutputTokens: 4, ITL: []time.Duration{100 * ms, 100 * ms, 100 * ms}},
			want: OpValues{Scheduled: 0.1, Sent: 0.102, Done: 0.47, QueueDelay: 0.002,
				TTFB: 0.05, HasTTFB: true, TTFT: 0.06, HasTTFT: true, E2E: 0.36,
				TPOT: 0.1, HasTPOT: true, ITLCount: 3, ITLMean: 0.1},
		},
		{
			name: "one token has no tpot",
			s: results.Sample{Scheduled: 0, Sent: ms, FirstByte: 20 * ms, FirstToken: 30 * ms,
				LastToken: 30 * ms, Done: 40 * ms, OutputTokens: 1},
			want: OpValues{Sent: 0.001, Done: 0.04, QueueDelay: 0.001, TTFB: 0.02, HasTTFB: true,
				TTFT: 0.03, HasTTFT: true, E2E: 0.03},
		},
		{
			name: "no tokens: e2e to completion",
			s:    results.Sample{Scheduled: 10 * ms, Sent: 10 * ms, FirstByte: 30 * ms, Done: 50 * ms},
			want: OpValues{Scheduled: 0.01, Sent: 0.01, Done: 0.05, TTFB: 0.02, HasTTFB: true, E2E: 0.04},
		},
		{
			name: "failed before the first byte",
			s:    results.Sample{Scheduled: 10 * ms, Sent: 20 * ms, Done: 25 * ms, Error: results.ErrConnect},
			want: OpValues{Scheduled: 0.01, Sent: 0.02, Done: 0.025, QueueDelay: 0.01, E2E: 0.015},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SampleValues(&tc.s)
			for _, f := range []struct {
				name      string
				got, want float64
			}{
				{"Scheduled", got.Scheduled, tc.want.Scheduled}, {"Sent", got.Sent, tc.want.Sent},
				{"Done", got.Done, tc.want.Done}, {"QueueDelay", got.QueueDelay, tc.want.QueueDelay},
				{"TTFB", got.TTFB, tc.want.TTFB}, {"TTFT", got.TTFT, tc.want.TTFT}, {"E2E", got.E2E, tc.want.E2E},
				{"TPOT", got.TPOT, tc.want.TPOT}, {"ITLMean", got.ITLMean, tc.want.ITLMean},
			} {
				if !near(f.got, f.want) {
					t.Errorf("%s = %g, want %g", f.name, f.got, f.want)
				}
			}
			if got.HasTTFB != tc.want.HasTTFB || got.HasTTFT != tc.want.HasTTFT || got.HasTPOT != tc.want.HasTPOT ||
				got.ITLCount != tc.want.ITLCount {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
