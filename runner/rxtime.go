package runner

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Receive timestamps.
//
// A load generator that timestamps a chunk when its goroutine gets around
// to parsing it adds its own scheduling delay to every latency: on a busy
// client node that is tens of microseconds at the median and milliseconds
// in the tail. On Linux the kernel can stamp each TCP segment as it
// arrives (SO_TIMESTAMPNS); a connection wrapped by WrapReceive reads with
// recvmsg(2) and remembers the stamp of the newest segment it returned, so
// ReceiveTime tells when the bytes just read reached this host, not when
// they were read.
//
// The stamp belongs to the newest segment of the newest read. For the
// bytes being parsed it is therefore never earlier than their real
// arrival (they came in that read or an earlier one) and never later than
// now: a client that keeps up gets the exact arrival, one that fell behind
// gets at worst the arrival of what it read with them.

// rxBase anchors stored receive times: they are kept as nanoseconds after
// it so that one atomic word holds a monotonic time.
var rxBase = time.Now()

// maxReceiveAge bounds how old a kernel stamp may be when it is read; an
// older one is not trusted.
const maxReceiveAge = 10 * time.Second

// maxWallStep is how far the wall clock may move against the monotonic
// clock between two reads before a stamp (wall-clock time, converted
// through its age) is not trusted: NTP slews by at most 0.5 ms/s, a step
// is larger.
const maxWallStep = time.Millisecond

// receiveClock is the part of a wrapped connection ReceiveTime reads.
// observe is called by the reading goroutine only; time by any.
type receiveClock struct {
	last    atomic.Int64 // ns after rxBase of the newest stamp, 0: none
	wallOff int64        // wall − monotonic at the previous read
	haveOff bool
}

// observe records one read: the kernel's stamp of its newest segment
// (Unix ns, CLOCK_REALTIME) when ok.
func (c *receiveClock) observe(unixNano int64, ok bool) {
	now := time.Now()
	c.observeAt(unixNano, ok, now.Sub(rxBase), now.UnixNano())
}

// observeAt is observe with the read's time given on both clocks: mono
// after rxBase and wall in Unix ns. The stamp is converted to the
// monotonic clock through its age. It is dropped (ReceiveTime then reports
// none, and callers use their own clock) when missing, implausibly old or
// in the future, or when the wall clock was stepped since the previous
// read, which would falsify the age.
func (c *receiveClock) observeAt(unixNano int64, ok bool, mono time.Duration, wall int64) {
	off := wall - int64(mono)
	stepped := c.haveOff && time.Duration(abs64(off-c.wallOff)) > maxWallStep
	c.wallOff, c.haveOff = off, true
	age := time.Duration(wall - unixNano)
	if !ok || stepped || age < 0 || age > maxReceiveAge || mono-age <= 0 {
		c.last.Store(0)
		return
	}
	c.last.Store(int64(mono - age))
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func (c *receiveClock) time() (time.Time, bool) {
	v := c.last.Load()
	if v == 0 {
		return time.Time{}, false
	}
	return rxBase.Add(time.Duration(v)), true
}

// receiveTimer is implemented by connections that know when the bytes they
// returned last reached the host. Test doubles may implement it too.
type receiveTimer interface {
	ReceiveTime() (time.Time, bool)
}

// ReceiveTime returns when the bytes most recently read from c reached
// this host's kernel, if c was wrapped by WrapReceive (directly or under
// a *tls.Conn) and has read something. Otherwise ok is false and callers
// use their own clock.
func ReceiveTime(c net.Conn) (t time.Time, ok bool) {
	for c != nil {
		switch v := c.(type) {
		case receiveTimer:
			return v.ReceiveTime()
		case *tls.Conn:
			c = v.NetConn()
		default:
			return time.Time{}, false
		}
	}
	return time.Time{}, false
}

// ReceiveDialer returns a DialContext function for http.Transport: it
// dials with d and wraps TCP connections with WrapReceive.
func ReceiveDialer(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return WrapReceive(c), nil
	}
}

// ReceiveListener wraps ln so that every accepted TCP connection is
// wrapped by WrapReceive. Serve it with an http.Server whose ConnContext is
// ConnContext, and handlers find their connection with ConnFromContext.
func ReceiveListener(ln net.Listener) net.Listener { return receiveListener{ln} }

type receiveListener struct{ net.Listener }

func (l receiveListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return WrapReceive(c), nil
}

type connKey struct{}

// ConnContext is an http.Server ConnContext hook that stores the
// connection in the context of its requests.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// ConnFromContext returns the connection stored by ConnContext, or nil.
func ConnFromContext(ctx context.Context) net.Conn {
	c, _ := ctx.Value(connKey{}).(net.Conn)
	return c
}

// RequestArrival returns when a server's request r arrived: the receive
// stamp of its connection's newest read when there is one (called once the
// body is read, that read carried the request's last bytes), else now. The
// connection is found through ConnContext.
func RequestArrival(r *http.Request) time.Time {
	now := time.Now()
	if c := ConnFromContext(r.Context()); c != nil {
		if t, ok := ReceiveTime(c); ok && !t.After(now) && now.Sub(t) < maxReceiveAge {
			return t
		}
	}
	return now
}
