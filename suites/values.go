package suites

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as a string in suites ("30s", "1m30s").
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("bad duration %q: want a number with a unit such as \"500ms\", \"30s\" or \"2m\"", string(b))
	}
	if v < 0 {
		return fmt.Errorf("bad duration %q: must not be negative", string(b))
	}
	*d = Duration(v)
	return nil
}

// MarshalText formats the duration as Go does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Ratio is a fraction written as "10%" or 0.1 in suites.
type Ratio float64

// UnmarshalText parses "10%" or "0.1".
func (r *Ratio) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("bad ratio %q: want a percentage such as \"10%%\" or a fraction such as 0.1", s)
	}
	if pct {
		v /= 100
	}
	*r = Ratio(v)
	return nil
}

// MarshalText formats the ratio as a percentage.
func (r Ratio) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(r)*100, 'g', -1, 64) + "%"), nil
}

// Size is a byte count written as "4KiB", "1MiB", "2GB" or a bare integer.
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"TB", 1000 * 1000 * 1000 * 1000},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1},
}

// UnmarshalText parses a size with a unit.
func (z *Size) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			// 2^63 is the first float64 beyond an int64.
			if err != nil || v < 0 || math.IsNaN(v) || v*float64(u.mult) >= 1<<63 {
				break
			}
			*z = Size(v * float64(u.mult))
			return nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("bad size %q: want a number with a unit such as \"4KiB\", \"1MiB\" or \"2GB\"", s)
	}
	*z = Size(v)
	return nil
}
