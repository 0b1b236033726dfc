package runner

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// WrapReceive turns on kernel receive timestamps (SO_TIMESTAMPNS) for a
// TCP connection and returns a connection whose reads record them; see
// ReceiveTime. Anything else, or a socket that refuses the option, is
// returned unchanged.
func WrapReceive(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil || serr != nil {
		return c
	}
	return newRxConn(tc, rc)
}

// rxConn is a TCP connection read with recvmsg(2) to collect receive
// stamps. Only the net.Conn methods and CloseWrite are exposed: promoting
// *net.TCPConn's WriteTo or ReadFrom would let io.Copy splice around Read.
type rxConn struct {
	net.Conn
	TCPConn *net.TCPConn
	rc      syscall.RawConn
	clock   receiveClock
	oob     [64]byte // one SCM_TIMESTAMPNS message needs 32

	// Reordering: the kernel stamps a read with its newest segment in
	// sequence order, so after a loss the retransmitted bytes would carry
	// the earlier stamp of segments queued out of order behind them. A read
	// after the out-of-order counter (TCP_INFO tcpi_rcv_ooopack, Linux 5.4)
	// moved is not stamped.
	info unix.TCPInfo
	ooo  uint32 // the counter at the previous read; 0 on a new connection

	// One read's arguments and results, in the connection rather than
	// captured by a closure, so that a read allocates nothing: Read is
	// called by one goroutine at a time (the reading side of net/http's
	// client and server), as the stamps already assume.
	rd rxRead
	// recv is c.recvmsg, bound once.
	recv func(fd uintptr) bool
}

type rxRead struct {
	p         []byte
	n, oobn   int
	err       error
	reordered bool
}

func newRxConn(tc *net.TCPConn, rc syscall.RawConn) *rxConn {
	c := &rxConn{Conn: tc, TCPConn: tc, rc: rc}
	c.recv = c.recvmsg
	return c
}

func (c *rxConn) ReceiveTime() (time.Time, bool) { return c.clock.time() }

// SyscallConn gives the socket to code that peeks at it without reading
// (runner/h1 checks an idle connection for a close by the server).
func (c *rxConn) SyscallConn() (syscall.RawConn, error) { return c.rc, nil }

// CloseWrite half-closes the connection (net/http's server uses it for a
// graceful close).
func (c *rxConn) CloseWrite() error { return c.TCPConn.CloseWrite() }

func (c *rxConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rd = rxRead{p: p}
	err := c.rc.Read(c.recv)
	rd := c.rd
	c.rd.p = nil
	if err == nil && rd.err != nil {
		err = os.NewSyscallError("recvmsg", rd.err)
	}
	if err != nil {
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
	}
	if rd.n == 0 {
		return 0, io.EOF
	}
	// Without a stamp (the kernel switches stamping on lazily, after the
	// first socket asks) the clock is cleared: an older stamp must not
	// stand for these bytes.
	ts, ok := parseRxStamp(c.oob[:rd.oobn])
	c.clock.observe(ts, ok && !rd.reordered)
	return rd.n, nil
}

// recvmsg is the raw read of Read: it fills c.rd and reports whether the
// read is over (false: the socket has nothing yet, wait and call again).
func (c *rxConn) recvmsg(fd uintptr) bool {
	rd := &c.rd
	for {
		rd.n, rd.oobn, _, _, rd.err = syscall.Recvmsg(int(fd), rd.p, c.oob[:], 0)
		if rd.err != syscall.EINTR {
			break
		}
	}
	if rd.err == nil && rd.n > 0 {
		rd.reordered = c.reordered(int(fd))
	}
	return rd.err != syscall.EAGAIN
}

// reordered reports whether segments arrived out of order since the
// previous read (and so whether this read's stamp may predate some of its
// bytes). Where the kernel does not count them, it reports false.
func (c *rxConn) reordered(fd int) bool {
	l := uint32(unsafe.Sizeof(c.info))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&c.info)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 || uintptr(l) < unsafe.Offsetof(c.info.Rcv_ooopack)+unsafe.Sizeof(c.info.Rcv_ooopack) {
		return false
	}
	moved := c.info.Rcv_ooopack != c.ooo
	c.ooo = c.info.Rcv_ooopack
	return moved
}

// parseRxStamp finds an SCM_TIMESTAMPNS control message and returns its
// time in Unix nanoseconds.
func parseRxStamp(oob []byte) (int64, bool) {
	for len(oob) >= syscall.SizeofCmsghdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < syscall.SizeofCmsghdr || l > len(oob) {
			return 0, false
		}
		if h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS &&
			l-syscall.SizeofCmsghdr >= int(unsafe.Sizeof(syscall.Timespec{})) {
			ts := (*syscall.Timespec)(unsafe.Pointer(&oob[syscall.SizeofCmsghdr]))
			return ts.Nano(), true
		}
		const align = int(unsafe.Sizeof(uintptr(0)))
		step := (l + align - 1) &^ (align - 1)
		if step >= len(oob) {
			return 0, false
		}
		oob = oob[step:]
	}
	return 0, false
}
