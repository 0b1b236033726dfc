//go:build !linux

package runner

import "net"

// WrapReceive returns c unchanged: kernel receive timestamps are read on
// Linux only, and elsewhere ReceiveTime reports none.
func WrapReceive(c net.Conn) net.Conn { return c }
