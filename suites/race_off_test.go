//go:build !race

package suites

const raceEnabled = false
