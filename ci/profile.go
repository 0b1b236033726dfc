package ci

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// ProfileEnv names the environment variable that, set to a path, makes
// benchrun write a CPU profile of the whole command there (go tool pprof
// reads it): how docs/performance.md finds where a load generator's time
// goes in the product path, not only in Go benchmarks.
const ProfileEnv = "BENCHRUN_CPUPROFILE"

// startCPUProfile starts the CPU profile ProfileEnv asks for and returns
// the function that ends and writes it; nil when none is asked for. A
// profile that cannot start is a warning on stderr, never a failed run.
func startCPUProfile(getenv func(string) string, stderr io.Writer) (stop func()) {
	path := getenv(ProfileEnv)
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "benchrun: %s: %v\n", ProfileEnv, err)
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		fmt.Fprintf(stderr, "benchrun: %s: %v\n", ProfileEnv, err)
		return nil
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "benchrun: %s: %v\n", ProfileEnv, err)
		}
	}
}
