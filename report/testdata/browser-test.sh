#!/bin/sh
# browser-test.sh REPORT.html [OUT.png [CHART...]] — load a benchrun HTML
# report in headless Debian chromium, fail if the page recorded a
# JavaScript error, if any chart element has no rendered canvas, or if a
# CHART named (a part of a chart id, e.g. "timeline") has no chart element,
# if the rendered page lacks what its reader needs (the baseline's
# provenance or the "No baseline" line, the links to the results files,
# the environment section, a per-check explanation row, the baseline's
# distribution on a CDF chart when the run was compared), and save a
# screenshot.
#
# Exit codes: 0 ok, 1 the report failed a check, 2 usage, 3 chromium missing.
set -eu

report=${1:?usage: browser-test.sh REPORT.html [OUT.png [CHART...]]}
out=${2:-}
shift
[ $# -gt 0 ] && shift
required=$*
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "browser-test: chromium not found (apt-get install -y chromium)" >&2
	exit 3
fi
case $report in /*) ;; *) report=$PWD/$report ;; esac
[ -f "$report" ] || { echo "browser-test: no such file: $report" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags="--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-background-networking
 --disable-component-update --disable-sync --no-first-run --hide-scrollbars
 --virtual-time-budget=5000 --window-size=1400,2000"

# shellcheck disable=SC2086 # flags are words
"$browser" $flags --user-data-dir="$tmp/profile" --dump-dom "file://$report" >"$tmp/dom.html" 2>"$tmp/stderr" || {
	echo "browser-test: chromium failed:" >&2
	cat "$tmp/stderr" >&2
	exit 1
}

fail=0
if grep -q 'data-js-errors=' "$tmp/dom.html"; then
	echo "browser-test: the page recorded JavaScript errors" >&2
	fail=1
fi
# Every chart element must hold a canvas once ECharts ran.
charts=$(grep -o '<div class="chart" id="[^"]*"' "$tmp/dom.html" | sed 's/.*id="//; s/"$//' || true)
n=0
for id in $charts; do
	n=$((n + 1))
	# The chart's div and its contents up to the next chart card.
	if ! awk -v id="$id" 'index($0, "id=\"" id "\"") { on = 1 } on { print } on && /<\/canvas>/ { exit }' "$tmp/dom.html" | grep -q '<canvas'; then
		echo "browser-test: chart $id has no canvas" >&2
		fail=1
	fi
done
for want in $required; do
	case " $(echo $charts) " in
	*"$want"*) ;;
	*)
		echo "browser-test: no chart whose id contains \"$want\"" >&2
		fail=1
		;;
	esac
done
# What the morning reader needs, as the browser rendered it.
if ! grep -Eq 'id="baseline">(Baseline: |No baseline)' "$tmp/dom.html"; then
	echo "browser-test: no baseline provenance line (id=baseline: \"Baseline: ...\" or \"No baseline ...\")" >&2
	fail=1
fi
if ! awk '/id="files"/ { on = 1 } on && /<a href="/ { found = 1; exit } END { exit !found }' "$tmp/dom.html"; then
	echo "browser-test: no links to the results files (id=files)" >&2
	fail=1
fi
if ! grep -q 'id="environment"' "$tmp/dom.html" || ! grep -q '<dl class="env">' "$tmp/dom.html"; then
	echo "browser-test: no environment section" >&2
	fail=1
fi
if ! grep -q '<tr class="why">' "$tmp/dom.html"; then
	echo "browser-test: no per-check explanation row (tr.why)" >&2
	fail=1
fi
# A run compared with a baseline draws the baseline's distribution on its
# CDF charts (a series "CASE · baseline (DATE)"), as ECharts holds it.
if grep -q 'id="baseline">Baseline: ' "$tmp/dom.html" && grep -q 'class="chart" id="[^"]*-cdf-' "$tmp/dom.html" &&
	! grep -Eq 'class="chart" id="[^"]*-cdf-[^"]*"[^>]*data-series="[^"]* · baseline \(' "$tmp/dom.html"; then
	echo "browser-test: compared with a baseline, but no CDF chart draws the baseline's distribution" >&2
	fail=1
fi
rendered=$(sed -n 's/.*data-charts="\([0-9]*\)".*/\1/p' "$tmp/dom.html" | head -n 1)
if [ "${rendered:-x}" != "$n" ]; then
	echo "browser-test: $n chart elements but ${rendered:-no} charts rendered" >&2
	fail=1
fi
if [ -n "$out" ]; then
	case $out in /*) ;; *) out=$PWD/$out ;; esac
	# shellcheck disable=SC2086
	"$browser" $flags --user-data-dir="$tmp/profile2" --screenshot="$out" "file://$report" >/dev/null 2>"$tmp/stderr2" || {
		echo "browser-test: screenshot failed:" >&2
		cat "$tmp/stderr2" >&2
		exit 1
	}
fi
[ "$fail" -eq 0 ] || exit 1
echo "browser-test: ok: $n charts rendered, no JavaScript errors${out:+, screenshot $out}"
