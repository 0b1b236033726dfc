#!/usr/bin/env bash
# Runs benchrun's GitLab CI template (ci/gitlab/benchrun.gitlab-ci.yml)
# with gitlab-ci-local and the shell executor, in scratch git repositories.
#
#  1. Offline: the nightly job runs `benchrun suite` on the demo suite (the
#     vLLM emulator, here, no SLURM); the pages job must produce
#     public/index.html linking the run.
#  2. A run whose results do not come back (a benchrun that exits 0 but
#     leaves no results directory) must fail the nightly job.
#  3. With the SLURM test cluster of .ci/slurm-cluster.sh up (root): two
#     nights of a [slurm] suite (ci/testdata/slurm/gitlab-nightly.toml)
#     that the job submits with sbatch to the default partition and
#     follows, its results written outside the project (the "cluster
#     filesystem") and copied back; the second night's report has a trend
#     and the pages index lists both nights with a sparkline. A nightly
#     whose service cannot start (gitlab-nostart.toml) must fail the job.
#     Every use of the cluster holds /tmp/benchrun-cluster.lock. Without
#     root or without the cluster, part 3 is skipped, loudly.
#
# Usage: gitlab-ci-local.sh BENCHRUN_BINARY
set -euo pipefail
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "gitlab-ci-local: $*" >&2; exit 1; }

# fixture DIR SUITE: a scratch git repository that includes the template
# and runs SUITE (copied as suite.toml), with an empty baselines directory.
fixture() {
	mkdir -p "$1" && cd "$1"
	git init -q -b main .
	cp "$root/ci/gitlab/benchrun.gitlab-ci.yml" benchrun.gitlab-ci.yml
	printf 'include:\n  - local: benchrun.gitlab-ci.yml\nvariables:\n  BENCHRUN_SUITE: suite.toml\n' >.gitlab-ci.yml
	cp "$2" suite.toml
	mkdir -p baselines && touch baselines/.keep
	git add -A && git -c user.name=t -c user.email=t@t commit -qm fixture
}

# run [--variable K=V...] JOB...: gitlab-ci-local with benchrun ($BR,
# default the binary under test) and the jobs enabled outside a schedule.
run() { gitlab-ci-local --variable BENCHRUN_RUN=always --variable BENCHRUN="${BR:-$bin}" "$@"; }
artifacts=.gitlab-ci-local/artifacts/benchrun-nightly/benchrun-results

# --- 1. offline: the demo suite, then pages ---------------------------------
fixture "$work/offline" "$root/ci/testdata/demo-short.toml"
run benchrun-nightly
test -s $artifacts/report.html || fail "no report.html in the nightly job's artifacts"
test -s $artifacts/junit.xml || fail "no junit.xml in the nightly job's artifacts"
run --needs pages
grep -q 'runs/demo-.*/report.html' public/index.html || fail "public/index.html does not link the run"
grep -q 'class="badge ok">pass' public/index.html || fail "the run is not listed as passed"
echo "gitlab-ci-local: nightly and pages jobs passed; public/index.html lists the run"

# --- 2. results that never come back fail the job ---------------------------
cat >"$work/lost-benchrun" <<EOF
#!/bin/sh
# benchrun, whose results directory (-o) is gone when it ends with 0: a
# cluster filesystem the runner cannot see.
out=; prev=
for a in "\$@"; do [ "\$prev" = -o ] && out=\$a; prev=\$a; done
"$bin" "\$@" || exit \$?
[ -n "\$out" ] && rm -rf "\$out"
exit 0
EOF
chmod +x "$work/lost-benchrun"
fixture "$work/lost" "$root/ci/testdata/demo-short.toml"
if out=$(BR="$work/lost-benchrun" run benchrun-nightly 2>&1); then
	echo "$out"
	fail "the nightly job passed although no results were copied back"
fi
grep -q 'no results copied back' <<<"$out" || { echo "$out"; fail "the failed nightly job does not say the results are missing"; }
echo "gitlab-ci-local: a nightly whose results were not copied back fails"

# --- 3. the nightly job against the SLURM test cluster ----------------------
nodes=$(timeout 10 sinfo -h -o '%P %D' 2>/dev/null | awk '$1 ~ /\*$/ {n += $2} END {print n + 0}' || echo 0)
if [ "$(id -u)" != 0 ] || [ "${nodes:-0}" -lt 3 ]; then
	echo "!!! SKIPPING the nightly job against the SLURM test cluster: it needs root and .ci/slurm-cluster.sh up (default partition: ${nodes:-0} nodes) !!!"
	exit 0
fi
lock=/tmp/benchrun-cluster.lock
fs="$work/cluster-fs" # the cluster filesystem the runs are written to
night() { flock "$lock" gitlab-ci-local --variable BENCHRUN_RUN=always --variable BENCHRUN="$bin" --variable BENCHRUN_RESULTS_ROOT="$fs" "$@"; }

fixture "$work/cluster" "$root/ci/testdata/slurm/gitlab-nightly.toml"
for n in 1 2; do
	night --needs pages || fail "night $n: the nightly or pages job failed against the SLURM cluster"
	grep -Eq '"state": *"COMPLETED"' $artifacts/manifest.json || fail "night $n: the manifest has no COMPLETED SLURM job"
	grep -Eq '"verdict": *"pass"' $artifacts/summary.json || fail "night $n: the run did not pass"
	ls $artifacts/slurm-*.out >/dev/null 2>&1 || fail "night $n: the SLURM job's log was not copied back"
	ls "$fs" | grep -q . || fail "night $n: nothing was written on the cluster filesystem $fs"
done
grep -q 'trend over the last 2 runs' $artifacts/report.md || fail "the second night's report.md has no trend line"
grep -q 'trend: chat ' $artifacts/report.html || fail "the second night's report.html has no trend chart"
test "$(ls public/runs | grep -c '^gitlab-nightly-')" = 2 || fail "public/runs does not hold both nights: $(ls public/runs)"
grep -q 'aria-label="2 runs"' public/index.html || fail "public/index.html has no sparkline over the two nights"
echo "gitlab-ci-local: two nights against the SLURM cluster passed; report trend and pages sparkline over both"

fixture "$work/nostart" "$root/ci/testdata/slurm/gitlab-nostart.toml"
if out=$(night benchrun-nightly 2>&1); then
	echo "$out"
	fail "the nightly job passed although its service could not start"
fi
grep -Eq '"verdict": *"error"' $artifacts/summary.json || { echo "$out"; fail "the failed night's summary is not an error"; }
echo "gitlab-ci-local: a nightly whose service cannot start under SLURM fails the job (its report kept)"
