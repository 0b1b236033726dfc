package slurmtest

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRequireClusterGate: the destructive cluster tests run only when
// BENCHRUN_SLURM=1 asks for them, never because sinfo answers (here a
// stand-in sinfo answers as the 3-node test cluster does).
func TestRequireClusterGate(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "sinfo"), []byte("#!/bin/sh\necho 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, tt := range []struct {
		name, slurm, ci string
		runs            bool
	}{
		{"not asked", "", "", false},
		{"not asked, in CI", "", "true", false},
		{"make unit", "separately", "", false},
		{"asked", "1", "", !testing.Short()},
	} {
		t.Setenv("BENCHRUN_SLURM", tt.slurm)
		t.Setenv("CI", tt.ci)
		reached := false
		t.Run(tt.name, func(t *testing.T) {
			RequireCluster(t)
			reached = true
		})
		if reached != tt.runs {
			t.Errorf("%s (BENCHRUN_SLURM=%q CI=%q, -short %t): cluster test runs %t, want %t", tt.name, tt.slurm, tt.ci, testing.Short(), reached, tt.runs)
		}
	}
}
