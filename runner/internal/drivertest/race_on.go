//go:build race

package drivertest

// raceEnabled: the race detector slows every goroutine several times, so
// timing assertions only log.
const raceEnabled = true
