package runner

import (
	"testing"
	"time"
)

func TestProgressTTFTQuantile(t *testing.T) {
	var p Progress
	if got := p.TTFTQuantile(0.5); got != 0 {
		t.Errorf("empty: %v, want 0", got)
	}
	for i := 1; i <= 100; i++ { // 1ms … 100ms
		p.observeTTFT(time.Duration(i) * time.Millisecond)
	}
	p.observeTTFT(0) // not counted
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		got := p.TTFTQuantile(c.q)
		if got < c.want || float64(got) > float64(c.want)*ttftGrowth {
			t.Errorf("q%.2f = %v, want within [%v, %v·%.2f]", c.q, got, c.want, c.want, ttftGrowth)
		}
	}
	p.observeTTFT(time.Hour) // beyond the last bucket: counted in it
	if got := p.TTFTQuantile(1); got < 90*time.Second {
		t.Errorf("max after an hour-long TTFT: %v", got)
	}
	var nilP *Progress
	nilP.observeTTFT(time.Second)
	if nilP.TTFTQuantile(0.5) != 0 {
		t.Error("nil Progress reports a TTFT")
	}
}
