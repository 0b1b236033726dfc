# benchrun — make demo runs the offline example; make test is what CI runs.
SHELL := /bin/bash
GO ?= go
BIN := bin/benchrun
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X github.com/benchrun/benchrun/ci.version=$(VERSION) -X github.com/benchrun/benchrun/ci.commit=$(COMMIT)
DEMO_DIR ?= results/demo
ARTIFACTS ?= testdata/artifacts

.PHONY: all build demo test unit accuracy-test lint deadcode deps cluster browser-test slurm-test gitlab-test bench fuzz clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

# The offline demo: emulated vLLM, a short closed-loop chat sweep, reports.
# SLOWDOWN=1.3 makes the emulator 30% slower (to see a regression after
# `benchrun baseline promote`).
demo: build
	rm -rf $(DEMO_DIR)
	BENCHRUN_EMULATE_SLOWDOWN=$(or $(SLOWDOWN),1) ./$(BIN) suite -o $(DEMO_DIR) examples/demo.toml

# Everything CI checks. Installs what it needs when missing (Debian, root).
test: deps lint cluster unit accuracy-test browser-test slurm-test gitlab-test
	@echo "make test: all passed"

deps:
	@.ci/deps.sh

# The 4-node SLURM test cluster (root only; installs slurm-wlm and munge).
cluster:
	@if [ "$$(id -u)" = 0 ]; then .ci/slurm-cluster.sh up; \
	else echo "!!! no SLURM test cluster: .ci/slurm-cluster.sh up needs root; SLURM tests will skip !!!"; fi

# gofmt, go vet, and go.mod/go.sum as `go mod tidy` leaves them (a direct
# dependency marked indirect, or a stale sum, fails here).
lint: deadcode
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff

# Functions no command reaches (tests do not count), found by deadcode,
# installed at the pinned version when missing. Only production packages
# are reported: the filter is every package of the module but the
# test-only helpers (runner/internal/..., slurm/slurmtest), derived from
# go list so a new package is checked without editing this file.
DEADCODE_VERSION := v0.52.0
DEADCODE := $(shell $(GO) env GOPATH)/bin/deadcode
deadcode:
	@[ -x $(DEADCODE) ] || GOBIN=$(dir $(DEADCODE)) $(GO) install golang.org/x/tools/cmd/deadcode@$(DEADCODE_VERSION)
	@set -o pipefail; pkgs=$$($(GO) list ./... | grep -Ev '/runner/internal/|/slurm/slurmtest$$' | sed 's/\./\\./g' | paste -sd'|') || exit 1; \
	  out=$$($(DEADCODE) -filter "^($$pkgs)$$" ./...) || exit 1; \
	  if [ -n "$$out" ]; then echo "unreachable functions:"; echo "$$out"; exit 1; fi

# The SLURM cluster tests run in slurm-test, one package at a time: they
# share three nodes and kill one of them.
unit:
	BENCHRUN_SLURM=separately $(GO) test -race -count=1 ./...

# Tests whose answer depends on the client keeping a schedule of hundreds
# of requests/s (the capacity search against the emulator): alone, without
# -race, so the machine's other work does not decide them.
accuracy-test:
	BENCHRUN_ACCURACY=1 $(GO) test -count=1 -p 1 -run 'TestCapacitySearch' ./ci

browser-test: build
	rm -rf $(ARTIFACTS)/demo && mkdir -p $(ARTIFACTS)
	BENCHRUN_EMULATE_SLOWDOWN=1 ./$(BIN) --quiet suite -o $(ARTIFACTS)/demo examples/demo.toml
	sh report/testdata/browser-test.sh $(ARTIFACTS)/demo/report.html $(ARTIFACTS)/report.png timeline
	@grep -q 'KV cache % (server)' $(ARTIFACTS)/demo/report.html || \
	  { echo "browser-test: the demo's timeline has no server series (the emulator's /metrics)"; exit 1; }

# The GitLab CI template run by gitlab-ci-local (shell executor) in
# scratch repositories: the nightly job on the offline demo suite, then the
# pages job must write public/index.html listing the run; a nightly whose
# results are not copied back must fail; the manual promote job pushes a
# baselines branch with merge-request push options to a local bare
# repository (an errored run, no token, the default branch refused); with
# the SLURM test cluster up (root; the cluster target), two nights
# submitted to it by the nightly job and published by pages, a nightly
# whose service cannot start must fail, and the batch job's script runs
# in an allocation from SCHEDULER_PARAMETERS (Jacamar CI emulated)
# (skipped loudly without root or cluster; .ci/gitlab-ci-local.sh).
gitlab-test: build
	.ci/gitlab-ci-local.sh $(BIN)

# A real 4-node SLURM cluster in network namespaces (.ci/slurm-cluster.sh),
# then jobs through sbatch: roles across nodes, NODE_FAIL, time limit.
slurm-test: build
	@if [ "$$(id -u)" != 0 ] && [ "$$CI" != true ]; then \
	  echo "!!! SKIPPING slurm-test: the test cluster needs root (.ci/slurm-cluster.sh up) !!!"; exit 0; fi; \
	BENCHRUN_SLURM=1 $(GO) test -count=1 -p 1 -timeout 15m -run 'TestCluster|TestSlurm|Scontrol' ./slurm ./ci

# Timing and memory goals: benchmarks print the measured numbers.
# Go benchmarks, then the load generators side by side (ci/benchpeers:
# installs wrk, hey (apt) and vegeta (go install) when missing, never k6
# (AGPL); closed and open loop, then issue 18's Go-benchmark figures; one
# table to $(ARTIFACTS)/bench-peers.md, see docs/performance.md).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./...
	$(GO) run ./ci/benchpeers -duration 5s -rounds 3 -conns 50 -out $(ARTIFACTS)/bench-peers.md

fuzz:
	@for t in $$(grep -rhoE 'func (Fuzz[A-Za-z0-9_]+)' --include='*_test.go' . | awk '{print $$2}' | sort -u); do \
	  pkg=$$(grep -rlE "func $$t\(" --include='*_test.go' . | head -1 | xargs dirname); \
	  echo "fuzz $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime 10s $$pkg || exit 1; done

clean:
	rm -rf bin results $(ARTIFACTS)
