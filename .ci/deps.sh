#!/usr/bin/env bash
# Installs what `make test` needs when it is missing (Debian 12, as root):
# xmllint for the JUnit schema check, chromium for the browser test.
# The SLURM test cluster installs its own packages (.ci/slurm-cluster.sh).
set -euo pipefail
need=()
command -v xmllint >/dev/null || need+=(libxml2-utils)
command -v chromium >/dev/null || need+=(chromium)
command -v ip >/dev/null || need+=(iproute2)
# Monitoring tests (docs/monitoring.md) start these on free loopback ports
# themselves; the packages' services are not started here (policy-rc.d
# below keeps apt from starting them).
command -v prometheus >/dev/null || need+=(prometheus)
command -v prometheus-pushgateway >/dev/null || need+=(prometheus-pushgateway)
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo ".ci/deps.sh: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  echo ".ci/deps.sh: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No service starts during the install (exit 101: "action forbidden").
  rc=/usr/sbin/policy-rc.d
  had_rc=0
  [ -e "$rc" ] && had_rc=1
  [ "$had_rc" = 1 ] || { printf '#!/bin/sh\nexit 101\n' >"$rc"; chmod +x "$rc"; }
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  [ "$had_rc" = 1 ] || rm -f "$rc"
fi
