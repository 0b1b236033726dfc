//go:build unix

package h1

import (
	"net"
	"syscall"
)

// alive reports whether an idle connection can carry another request:
// a non-blocking peek finds nothing to read. A close by the server (end of
// stream), a reset, or bytes nobody asked for all mean it cannot. A
// connection that does not expose its socket is taken as alive.
func alive(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var buf [1]byte
	ok = false
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		ok = n <= 0 && (rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK)
		return true
	})
	return ok && err == nil
}
