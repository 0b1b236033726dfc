package ci

import (
	"bufio"
	"bytes"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
)

// The load generator's garbage collector. benchrun allocates a little per
// request (net/http's share is most of it) and keeps little alive, so the
// runtime's default (collect when the heap doubles, GOGC=100) spends CPU on
// collections that free almost everything, CPU the load generator needs to
// keep up with the server. While it generates load, a benchrun process
// therefore collects when the heap grows by LoadGOGC percent, and caps the
// heap that lets it grow to (GOMEMLIMIT) at a quarter of the machine's
// memory, at most maxLoadMemLimit, so a large live heap (10,000 open
// streams) still collects instead of running a node out of memory.
// Setting GOGC or GOMEMLIMIT in the environment keeps the runtime's
// reading of them: each default applies only when its variable is unset.
const (
	// LoadGOGC is the GC percent a load-generating benchrun sets (make
	// bench's memory figures run with it too).
	LoadGOGC        = 400
	maxLoadMemLimit = 4 << 30
)

var tuneGCOnce sync.Once

// tuneLoadGC applies the load generator's GC defaults once per process
// (see LoadGOGC); getenv reads the environment.
func tuneLoadGC(getenv func(string) string) {
	tuneGCOnce.Do(func() {
		gogc, limit := loadGCSettings(getenv, physicalMemory())
		if gogc > 0 {
			debug.SetGCPercent(gogc)
		}
		if limit > 0 {
			debug.SetMemoryLimit(limit)
		}
	})
}

// loadGCSettings returns the GC percent and memory limit to set for a
// machine with mem bytes of memory (0: unknown); 0 leaves a setting alone.
func loadGCSettings(getenv func(string) string, mem int64) (gogc int, limit int64) {
	if getenv("GOGC") == "" {
		gogc = LoadGOGC
	}
	if getenv("GOMEMLIMIT") == "" && mem > 0 {
		limit = min(mem/4, maxLoadMemLimit)
	}
	return gogc, limit
}

// physicalMemory returns MemTotal from /proc/meminfo in bytes, or 0.
func physicalMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("MemTotal:")); ok {
			if fs := bytes.Fields(rest); len(fs) == 2 && string(fs[1]) == "kB" {
				if kb, err := strconv.ParseInt(string(fs[0]), 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}
