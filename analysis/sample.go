package analysis

import "github.com/benchrun/benchrun/runner/results"

// OpValues are the per-operation values of one sample, in seconds: the
// one definition of each, used by SummarizeCase for the metrics and by the
// samples export of package report, so the two cannot disagree. A value
// whose Has flag is false is not defined for the sample (no first byte
// seen, a one-token answer has no tpot, ...) and is 0.
//
// They are defined for every sample; which samples count is the
// summary's business (latencies from successful operations only,
// queue_delay from all measured ones).
type OpValues struct {
	// Scheduled, Sent and Done are the sample's offsets from the case
	// start.
	Scheduled, Sent, Done float64
	// QueueDelay is sent − scheduled, defined when the operation was sent
	// (an unfinished open-loop operation may never have been).
	QueueDelay    float64
	HasQueueDelay bool
	// TTFB is first byte − scheduled.
	TTFB    float64
	HasTTFB bool
	// TTFT is first token − scheduled.
	TTFT    float64
	HasTTFT bool
	// E2E is last token − scheduled, or done − scheduled for an operation
	// without tokens (a vector query, a failure before the first token).
	E2E float64
	// TPOT is (last token − first token) / (output tokens − 1), defined
	// when both tokens were seen and there are more than one.
	TPOT    float64
	HasTPOT bool
	// ITLCount is the number of inter-token gaps, ITLMean their mean
	// (defined when ITLCount > 0).
	ITLCount int
	ITLMean  float64
}

// SampleValues returns the per-operation values of s.
func SampleValues(s *results.Sample) OpValues {
	v := OpValues{
		Scheduled: sec(s.Scheduled), Sent: sec(s.Sent), Done: sec(s.Done),
		E2E:      sec(s.Done - s.Scheduled),
		ITLCount: len(s.ITL),
	}
	if s.Sent != 0 {
		v.QueueDelay, v.HasQueueDelay = sec(s.Sent-s.Scheduled), true
	}
	if s.FirstByte != 0 {
		v.TTFB, v.HasTTFB = sec(s.FirstByte-s.Scheduled), true
	}
	if s.FirstToken != 0 {
		v.TTFT, v.HasTTFT = sec(s.FirstToken-s.Scheduled), true
	}
	if s.LastToken != 0 {
		v.E2E = sec(s.LastToken - s.Scheduled)
	}
	if s.FirstToken != 0 && s.LastToken != 0 && s.OutputTokens > 1 {
		v.TPOT, v.HasTPOT = sec(s.LastToken-s.FirstToken)/float64(s.OutputTokens-1), true
	}
	if len(s.ITL) > 0 {
		var sum float64
		for _, g := range s.ITL {
			sum += sec(g)
		}
		v.ITLMean = sum / float64(len(s.ITL))
	}
	return v
}
