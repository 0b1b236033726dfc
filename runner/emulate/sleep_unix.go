//go:build linux || freebsd

package emulate

import (
	"syscall"
	"time"
)

// preciseSleep blocks the calling thread for d with nanosleep(2), which
// wakes within the kernel's timer slack instead of the Go netpoller's
// millisecond rounding. The runtime hands the P to another thread while it
// sleeps, so only callers near a deadline hold a thread.
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var rem syscall.Timespec
		if err := syscall.Nanosleep(&ts, &rem); err != syscall.EINTR {
			return
		}
		ts = rem
	}
}
