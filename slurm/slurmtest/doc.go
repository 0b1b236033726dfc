// Package slurmtest holds what the SLURM cluster tests of package slurm and
// package ci share: RequireCluster, the gate that decides whether a test
// may submit jobs to the 3-node cluster of .ci/slurm-cluster.sh and kill
// one of its nodes. Only tests import it; like net/http/httptest it is a
// package of its own so that package slurm does not import testing.
package slurmtest
