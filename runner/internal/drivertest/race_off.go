//go:build !race

package drivertest

// RaceEnabled is false: timing assertions hold.
const RaceEnabled = false
