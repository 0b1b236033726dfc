#!/usr/bin/env bash
# Runs benchrun's GitLab CI template (ci/gitlab/benchrun.gitlab-ci.yml)
# with gitlab-ci-local and the shell executor, in scratch git repositories.
#
#  1. Offline: the nightly job runs `benchrun suite` on the demo suite (the
#     vLLM emulator, here, no SLURM); the pages job must produce
#     public/index.html linking the run.
#  2. A run whose results do not come back (a benchrun that exits 0 but
#     leaves no results directory) must fail the nightly job.
#  3. The manual promote job, against a local bare repository standing in
#     for the project on GitLab (its pre-receive hook records the refs and
#     push options GitLab would read): a passed run becomes a commit of
#     exactly the baseline file on benchrun/baselines-<pipeline>, pushed
#     with the merge-request push options; a run with execution errors,
#     a missing token and a branch equal to the default branch are refused
#     with nothing pushed.
#  4. With the SLURM test cluster of .ci/slurm-cluster.sh up (root): two
#     nights of a [slurm] suite (ci/testdata/slurm/gitlab-nightly.toml)
#     that the job submits with sbatch to the default partition and
#     follows, its results written outside the project (the "cluster
#     filesystem") and copied back; the second night's report has a trend
#     and the pages index lists both nights with a sparkline. A nightly
#     whose service cannot start (gitlab-nostart.toml) must fail the job.
#  5. The batch-executor job, Jacamar CI emulated: gitlab-ci-local writes
#     benchrun-nightly-batch's step script (SCHEDULER_PARAMETERS set by the
#     project to the default partition), which is submitted with
#     `sbatch --wait $SCHEDULER_PARAMETERS` in the job's environment;
#     benchrun must run the suite inside that allocation (a nested sbatch
#     fails and is caught), and the results come back into the project,
#     where the pages job lists them. Its failure path, in the same way:
#     a suite whose service cannot start in the allocation
#     (gitlab-nostart.toml) must make sbatch --wait exit 2 while the error
#     report and junit.xml come back; a run whose results are lost (benchrun
#     exits 0, its results directory gone) must exit 2 by the template's
#     guard.
#     Every use of the cluster holds /tmp/benchrun-cluster.lock. Without
#     root or without the cluster, parts 4 and 5 are skipped, loudly.
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
# gitlab-ci-local sets GITLAB_CI=false; a GitLab runner sets it to true,
# and benchrun then records the pipeline and job in the manifest.
run() { gitlab-ci-local --variable GITLAB_CI=true --variable BENCHRUN_RUN=always --variable BENCHRUN="${BR:-$bin}" "$@"; }
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

# --- 3. the promote job: a branch and a merge request, never the default branch
# The project's GitLab remote is a local bare repository: the fixture's
# origin is https://gitlab.example.com/bench/nightly.git (gitlab-ci-local
# derives CI_SERVER_* and CI_PROJECT_PATH from it), and git's insteadOf
# maps the URL the job builds with the token onto the bare repository.
# Its pre-receive hook records what GitLab would read: the refs pushed and
# the push options (merge_request.create, .target, .title).
remote="$work/remote.git"
git init -q --bare -b main "$remote"
git -C "$remote" config receive.advertisePushOptions true
cat >"$remote/hooks/pre-receive" <<'EOF'
#!/bin/sh
# Runs in the bare repository: one line per ref updated and per push option.
while read -r old new ref; do echo "ref $ref" >>pushes.log; done
i=0
while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do
	eval "echo \"option \$GIT_PUSH_OPTION_$i\"" >>pushes.log
	i=$((i + 1))
done
EOF
chmod +x "$remote/hooks/pre-receive"
promote_fixture() { # DIR SUITE: a fixture whose origin is the bare remote
	fixture "$1" "$2"
	git remote add origin https://gitlab.example.com/bench/nightly.git
	git config url."$remote".insteadOf https://oauth2:s3cret@gitlab.example.com:443/bench/nightly.git
	git push -q -f "$remote" main
	rm -f "$remote/pushes.log"
}
token=(--variable BENCHRUN_PROMOTE_TOKEN=s3cret)
# promote [--variable K=V...] [JOB]: runs the promote job (allow_failure, so
# gitlab-ci-local exits 0 when it fails: its PASS or WARN line says which);
# its output is in $out, and the status is 0 only when the job passed.
promote() {
	out=$(run "$@" 2>&1) || true
	grep -Eq '^ *PASS +benchrun-promote *$' <<<"$out"
}

# A run with execution errors is refused: nothing is pushed.
promote_fixture "$work/promote-error" "$root/ci/testdata/demo-nostart.toml"
if run benchrun-nightly >/dev/null 2>&1; then fail "the nightly job passed although its service could not start"; fi
if promote "${token[@]}" benchrun-promote; then echo "$out"; fail "the promote job promoted a run whose verdict is error"; fi
grep -q "the run's verdict is error" <<<"$out" || { echo "$out"; fail "the refused promotion does not say why"; }
test ! -e "$remote/pushes.log" || fail "the refused promotion pushed: $(cat "$remote/pushes.log")"
echo "gitlab-ci-local: the promote job refuses a run with execution errors and pushes nothing"

# A passed run: the nightly, then the manual promote job, in one pipeline.
promote_fixture "$work/promote" "$root/ci/testdata/demo-short.toml"
main0=$(git -C "$remote" rev-parse main)
if promote benchrun-promote; then echo "$out"; fail "the promote job ran without BENCHRUN_PROMOTE_TOKEN"; fi
grep -q 'benchrun-promote needs BENCHRUN_PROMOTE_TOKEN' <<<"$out" || { echo "$out"; fail "the promote job without a token does not say so"; }
promote "${token[@]}" --needs benchrun-promote || { echo "$out"; fail "the nightly or promote job failed"; }
pipeline=$(sed -n 's/.*"pipeline_id": *"\([^"]*\)".*/\1/p' $artifacts/manifest.json)
branch="benchrun/baselines-$pipeline"
test -n "$pipeline" || fail "the nightly's manifest names no pipeline"
test "$(git -C "$remote" rev-parse main)" = "$main0" || fail "the promote job changed the default branch"
printf 'ref refs/heads/%s\noption merge_request.create\noption merge_request.target=main\noption merge_request.title=benchrun baselines from pipeline %s\n' "$branch" "$pipeline" >"$work/want.log"
diff -u "$work/want.log" "$remote/pushes.log" || fail "the promote job's push (refs and merge-request options) is not the expected one"
changed=$(git -C "$remote" diff --name-only main "$branch")
test "$changed" = baselines/demo.json || fail "the promote branch changes '$changed', not exactly baselines/demo.json"
msg=$(git -C "$remote" log -1 --format=%B "$branch")
grep -q "^benchrun baselines from pipeline $pipeline\$" <<<"$msg" || fail "the commit's subject does not name the pipeline: $msg"
grep -q "^run: suite demo, started .*, pipeline $pipeline, CI job https://" <<<"$msg" || fail "the commit message does not name the run: $msg"
git -C "$remote" show "$branch:baselines/demo.json" >"$work/promoted.json" # not piped: grep -q would end git show with SIGPIPE under pipefail
grep -q '"chat/users=16"' "$work/promoted.json" || fail "the promoted baselines lack chat/users=16"
echo "gitlab-ci-local: the promote job pushed $branch (baselines/demo.json only) with a merge request for main"

# A promotion aimed at the default branch is refused before any push.
rm -f "$remote/pushes.log"
if promote "${token[@]}" --variable BENCHRUN_PROMOTE_BRANCH=main benchrun-promote; then echo "$out"; fail "the promote job pushed to the default branch"; fi
grep -q 'refusing to push to the default branch' <<<"$out" || { echo "$out"; fail "the promote job aimed at main does not say why it stops"; }
test ! -e "$remote/pushes.log" || fail "the promote job aimed at main pushed: $(cat "$remote/pushes.log")"
test "$(git -C "$remote" rev-parse main)" = "$main0" || fail "the default branch was pushed to"
echo "gitlab-ci-local: the promote job never pushes to the default branch"

# --- 4. the nightly job against the SLURM test cluster ----------------------
nodes=$(timeout 10 sinfo -h -o '%P %D' 2>/dev/null | awk '$1 ~ /\*$/ {n += $2} END {print n + 0}' || echo 0)
if [ "$(id -u)" != 0 ] || [ "${nodes:-0}" -lt 3 ]; then
	echo "!!! SKIPPING the nightly and batch-executor jobs against the SLURM test cluster: it needs root and .ci/slurm-cluster.sh up (default partition: ${nodes:-0} nodes) !!!"
	exit 0
fi
lock=/tmp/benchrun-cluster.lock
fs="$work/cluster-fs" # the cluster filesystem the runs are written to
night() { flock "$lock" gitlab-ci-local --variable GITLAB_CI=true --variable BENCHRUN_RUN=always --variable BENCHRUN="$bin" --variable BENCHRUN_RESULTS_ROOT="$fs" "$@"; }

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

# --- 5. the batch-executor job, Jacamar CI style, emulated ------------------
# gitlab-ci-local cannot run a custom executor, so Jacamar's part is
# emulated: gitlab-ci-local resolves the benchrun-nightly-batch job (the
# template, extends and the project's SCHEDULER_PARAMETERS) and writes its
# step script; a stand-in for $BENCHRUN captures that script and the job's
# environment, then stops. As Jacamar does, the step script is then
# submitted with `sbatch $SCHEDULER_PARAMETERS` (here --wait) from the
# project directory, the job's environment exported to it; the stages
# around it (sources, cache, artifacts) stay on the login node: the
# artifacts are what the script leaves in benchrun-results/, and the job's
# status is the step script's, which `sbatch --wait` returns. Inside the
# allocation benchrun must run the suite there: an `sbatch` on the job's
# PATH that fails and leaves a mark catches any nested submission.
cat >"$work/capture-benchrun" <<EOF
#!/bin/bash
# \$BENCHRUN for the capture: keeps the job's step script and environment
# next to the project directory (\$CI_PROJECT_DIR.step, .env).
cp "\$CI_PROJECT_DIR"/.gitlab-ci-local/scripts/benchrun-nightly-batch_"\$CI_JOB_ID" "\$CI_PROJECT_DIR.step"
export -p >"\$CI_PROJECT_DIR.env"
exit 0
EOF
chmod +x "$work/capture-benchrun"
mkdir -p "$work/nested"
printf '#!/bin/sh\necho "$*" >>%s/nested/called\necho "nested sbatch inside the allocation" >&2\nexit 1\n' "$work" >"$work/nested/sbatch"
chmod +x "$work/nested/sbatch"
sbatch_bin=$(command -v sbatch)
jacamar() { # DIR BENCHRUN: the emulated executor: DIR's job environment, sbatch $SCHEDULER_PARAMETERS
	# shellcheck disable=SC1090
	source "$1.env"
	export BENCHRUN="$2" PATH="$work/nested:$PATH"
	cd "$CI_PROJECT_DIR"
	# shellcheck disable=SC2086 # SCHEDULER_PARAMETERS is split into arguments, as Jacamar does
	"$sbatch_bin" --wait --parsable $SCHEDULER_PARAMETERS --output="$work/jacamar-%j.out" "$1.sh"
}
# batch NAME SUITE [BENCHRUN]: the batch job of a fixture $work/NAME running
# SUITE with BENCHRUN (default the binary under test) in an allocation of
# the default partition. Leaves the job id in $job, its SLURM output file in
# $log and the status GitLab would see (sbatch --wait's) in $status.
batch() {
	local dir="$work/$1"
	fixture "$dir" "$2"
	printf 'benchrun-nightly-batch:\n  variables:\n    SCHEDULER_PARAMETERS: --nodes=3 --time=00:10:00\n' >>.gitlab-ci.yml
	git commit -qam "batch executor, default partition"
	BR="$work/capture-benchrun" run --variable BENCHRUN_EXECUTOR=batch --variable BENCHRUN_RESULTS_ROOT="$fs" benchrun-nightly-batch >/dev/null 2>&1 || true
	test -s "$dir.step" && test -s "$dir.env" || fail "$1: gitlab-ci-local did not run benchrun-nightly-batch's script (BENCHRUN_EXECUTOR=batch)"
	grep -q 'SCHEDULER_PARAMETERS=.*--nodes=3 --time=00:10:00' "$dir.env" || fail "$1: the batch job's environment lacks the project's SCHEDULER_PARAMETERS"
	{ echo '#!/bin/bash'; cat "$dir.step"; } >"$dir.sh"
	rm -rf benchrun-results
	status=0
	job=$(flock "$lock" bash -c "$(declare -f jacamar); work='$work' sbatch_bin='$sbatch_bin'; jacamar '$dir' '${3:-$bin}'") || status=$?
	job=${job%%;*}
	log="$work/jacamar-$job.out"
	test -n "$job" && test -e "$log" || fail "$1: sbatch did not submit the batch job's step script (status $status)"
	test ! -e "$work/nested/called" || fail "$1: benchrun submitted a nested sbatch inside the allocation: $(cat "$work/nested/called")"
}

batch batch "$root/ci/testdata/slurm/gitlab-nightly.toml"
test "$status" = 0 || { cat "$log"; fail "the batch job's step script failed in its SLURM allocation (status $status)"; }
grep -q 'benchrun suite\|\$BENCHRUN suite' "$log" || { cat "$log"; fail "the allocation's output does not show the job script"; }
grep -Eq '"verdict": *"pass"' benchrun-results/summary.json || { cat "$log"; fail "the batch job's run did not pass or its results did not come back"; }
grep -Eq "\"job_id\": *\"$job\"" benchrun-results/manifest.json || fail "the run's manifest does not name the allocation $job (not run inside it)"
test -s benchrun-results/report.html && test -s benchrun-results/junit.xml || fail "the batch job left no report.html or junit.xml for the artifacts"
run pages >/dev/null || fail "the pages job failed after the batch job"
grep -q 'runs/gitlab-nightly-.*/report.html' public/index.html || fail "public/index.html does not list the batch job's run"
echo "gitlab-ci-local: the batch job's step script ran inside SLURM allocation $job (Jacamar emulated): no nested sbatch, results and pages back in the project"

# A service that cannot start inside the allocation: the batch job fails
# with benchrun's status 2 (execution error), and its error report and
# JUnit file still come back for the artifacts and the pages index.
batch batch-nostart "$root/ci/testdata/slurm/gitlab-nostart.toml"
test "$status" = 2 || { cat "$log"; fail "the batch job whose service cannot start exited $status, not 2 (execution error)"; }
grep -Eq '"verdict": *"error"' benchrun-results/summary.json || { cat "$log"; fail "the failed batch job's summary is missing or not an error"; }
grep -Eq "\"job_id\": *\"$job\"" benchrun-results/manifest.json || fail "the failed batch job's manifest does not name the allocation $job"
grep -q '<failure\|<error' benchrun-results/junit.xml || fail "the failed batch job's junit.xml reports no failure"
test -s benchrun-results/report.html || fail "the failed batch job left no report.html for the artifacts"
run pages >/dev/null || fail "the pages job failed after the failed batch job"
grep -q 'class="badge warn">error' public/index.html || fail "public/index.html does not list the failed batch job's run as error"
echo "gitlab-ci-local: a batch job whose service cannot start in allocation $job fails (status 2), its error report and junit.xml kept"

# Results lost on the way back (benchrun exits 0, its results directory
# gone): the template's guard fails the batch job too.
batch batch-lost "$root/ci/testdata/slurm/gitlab-nightly.toml" "$work/lost-benchrun"
test "$status" = 2 || { cat "$log"; fail "the batch job whose results were not copied back exited $status, not 2"; }
grep -q 'no results copied back' "$log" || { cat "$log"; fail "the failed batch job does not say the results are missing"; }
test ! -e benchrun-results/summary.json || fail "the lost run's summary.json is in the artifacts"
echo "gitlab-ci-local: a batch job whose results were not copied back fails (status 2) in allocation $job"
