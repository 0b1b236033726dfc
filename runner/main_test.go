package runner

import (
	"os"
	"testing"
)

// TestMain lets the test binary be the reaper that StartService runs (see
// IsReaper), as benchrun is through its hidden _reap command.
func TestMain(m *testing.M) {
	if IsReaper() {
		os.Exit(RunReaper())
	}
	os.Exit(m.Run())
}
