//go:build race

package runner

// raceDetector: the race detector slows every goroutine several times, so
// tests that measure timing skip under it.
const raceDetector = true
