package slurmtest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RequireCluster lets t go on only when BENCHRUN_SLURM=1 asks for the
// cluster tests (`make slurm-test`), and then fails it unless the cluster
// of .ci/slurm-cluster.sh (partition "bench", three nodes) is up: a
// cluster that merely answers is no reason to run a test that kills a
// node. Otherwise t skips loudly: under -short, with
// BENCHRUN_SLURM=separately (`make unit`, which leaves these tests to
// slurm-test, one package at a time), or without BENCHRUN_SLURM=1.
func RequireCluster(t testing.TB) {
	t.Helper()
	switch v := os.Getenv("BENCHRUN_SLURM"); {
	case testing.Short():
		t.Skip("SKIPPING SLURM cluster test under -short: it submits jobs and kills a node")
	case v == "separately":
		t.Skip("SKIPPING SLURM cluster test here: `make slurm-test` runs the cluster tests one package at a time")
	case v != "1":
		t.Skip("SKIPPING SLURM cluster test: it submits jobs and kills a node of the cluster of .ci/slurm-cluster.sh; BENCHRUN_SLURM=1 (make slurm-test) runs it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sinfo", "-h", "-p", "bench", "-o", "%D").Output()
	if err != nil || strings.TrimSpace(string(out)) != "3" {
		t.Fatalf("BENCHRUN_SLURM=1, but the cluster of .ci/slurm-cluster.sh is not up (as root: .ci/slurm-cluster.sh up); sinfo: %v %s", err, out)
	}
}
