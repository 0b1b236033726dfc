package ci

import (
	"testing"
)

// TestLoadGCSettings: the defaults apply only where the environment says
// nothing; the memory limit is a quarter of memory, at most 4 GiB, and
// absent when memory is unknown.
func TestLoadGCSettings(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, tc := range []struct {
		name  string
		env   map[string]string
		mem   int64
		gogc  int
		limit int64
	}{
		{"defaults", nil, 8 << 30, LoadGOGC, 2 << 30},
		{"big machine", nil, 512 << 30, LoadGOGC, 4 << 30},
		{"memory unknown", nil, 0, LoadGOGC, 0},
		{"GOGC set", map[string]string{"GOGC": "100"}, 8 << 30, 0, 2 << 30},
		{"GOGC off", map[string]string{"GOGC": "off"}, 8 << 30, 0, 2 << 30},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, 8 << 30, LoadGOGC, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gogc, limit := loadGCSettings(env(tc.env), tc.mem)
			if gogc != tc.gogc || limit != tc.limit {
				t.Errorf("got GOGC %d, limit %d; want %d, %d", gogc, limit, tc.gogc, tc.limit)
			}
		})
	}
	if physicalMemory() <= 0 {
		t.Log("no /proc/meminfo here: no default memory limit")
	}
}
