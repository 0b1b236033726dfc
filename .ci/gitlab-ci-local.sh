#!/usr/bin/env bash
# Runs benchrun's GitLab CI template (ci/gitlab/benchrun.gitlab-ci.yml)
# with gitlab-ci-local and the shell executor, in a scratch git
# repository: the nightly job runs `benchrun suite` on the offline demo
# suite (the vLLM emulator, here, no SLURM), then the pages job must
# produce public/index.html linking the run. Usage: gitlab-ci-local.sh BENCHRUN_BINARY
set -euo pipefail
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q -b main .
cp "$root/ci/gitlab/benchrun.gitlab-ci.yml" benchrun.gitlab-ci.yml
printf 'include:\n  - local: benchrun.gitlab-ci.yml\nvariables:\n  BENCHRUN_SUITE: demo.toml\n' >.gitlab-ci.yml
cp "$root/ci/testdata/demo-short.toml" demo.toml
mkdir -p baselines && touch baselines/.keep
git add -A && git -c user.name=t -c user.email=t@t commit -qm fixture
run() { gitlab-ci-local --variable BENCHRUN_RUN=always --variable BENCHRUN="$bin" "$@"; }
run benchrun-nightly
test -s .gitlab-ci-local/artifacts/benchrun-nightly/benchrun-results/report.html || { echo "gitlab-ci-local: no report.html in the nightly job's artifacts" >&2; exit 1; }
test -s .gitlab-ci-local/artifacts/benchrun-nightly/benchrun-results/junit.xml || { echo "gitlab-ci-local: no junit.xml in the nightly job's artifacts" >&2; exit 1; }
run --needs pages
grep -q 'runs/demo-.*/report.html' public/index.html || { echo "gitlab-ci-local: public/index.html does not link the run" >&2; exit 1; }
grep -q 'class="badge ok">pass' public/index.html || { echo "gitlab-ci-local: the run is not listed as passed" >&2; exit 1; }
echo "gitlab-ci-local: nightly and pages jobs passed; public/index.html lists the run"
