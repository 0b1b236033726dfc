//go:build !linux && !freebsd

package emulate

import "time"

// preciseSleep sleeps for d with the Go timer; on this platform no finer
// sleep is used.
func preciseSleep(d time.Duration) { time.Sleep(d) }
