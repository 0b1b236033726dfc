//go:build linux

package h1

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// unreceived reports whether the server acknowledged none of the bytes
// written on nc after the first sent ones: the kernel counts the bytes its
// peer acknowledged (TCP_INFO tcpi_bytes_acked, Linux 4.1). A server that
// had closed its socket answers new bytes with a reset, never an
// acknowledgement, so a request none of whose bytes were acknowledged
// never reached it. The count includes the SYN (one more than the data);
// were it not to, the one byte allowed for it would be one byte of a
// request, which no server can act on. Where the count cannot be read it
// reports false.
func unreceived(nc net.Conn, sent uint64) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var info unix.TCPInfo
	acked, known := uint64(0), false
	err = rc.Control(func(fd uintptr) {
		l := uint32(unsafe.Sizeof(info))
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.IPPROTO_TCP, unix.TCP_INFO,
			uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&l)), 0)
		if e == 0 && uintptr(l) >= unsafe.Offsetof(info.Bytes_acked)+unsafe.Sizeof(info.Bytes_acked) {
			acked, known = info.Bytes_acked, true
		}
	})
	return err == nil && known && acked <= sent+1
}
