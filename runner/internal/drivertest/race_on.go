//go:build race

package drivertest

// RaceEnabled: the race detector slows every goroutine several times, so
// timing assertions only log.
const RaceEnabled = true
