package runner

import (
	"net"
	"testing"
	"time"

	"github.com/benchrun/benchrun/runner/results"
)

// fakeStampConn reports a receive time the test sets.
type fakeStampConn struct {
	net.Conn
	at *time.Time
}

func (c fakeStampConn) ReceiveTime() (time.Time, bool) { return *c.at, !c.at.IsZero() }

// TestArrivalNeverGoesBack: a stamped read after one timed by the clock
// cannot make a chunk arrive before the one before it (a negative ITL),
// and a stamp is used when it falls between the send and now.
func TestArrivalNeverGoesBack(t *testing.T) {
	start := time.Now()
	x := NewExchange(Op{Start: start}, &results.Sample{})
	var at time.Time
	x.conn.Store(&connRef{fakeStampConn{at: &at}})
	time.Sleep(2 * time.Millisecond)
	first := x.Arrival() // no stamp: the clock
	if first < 2*time.Millisecond {
		t.Fatalf("first arrival %v, want the clock (≥ 2ms)", first)
	}
	at = start.Add(time.Millisecond) // stamped, but before the first
	if second := x.Arrival(); second != first {
		t.Errorf("second arrival %v, want the first's %v", second, first)
	}
	time.Sleep(2 * time.Millisecond)
	at = start.Add(first + time.Millisecond)
	if third := x.Arrival(); third != first+time.Millisecond {
		t.Errorf("third arrival %v, want its stamp %v", third, first+time.Millisecond)
	}
}
