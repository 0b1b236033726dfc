#!/usr/bin/env bash
# Installs what `make test` needs when it is missing (Debian 12, as root):
# xmllint for the JUnit schema check, chromium for the browser test.
# The SLURM test cluster installs its own packages (.ci/slurm-cluster.sh).
set -euo pipefail
need=()
command -v xmllint >/dev/null || need+=(libxml2-utils)
command -v chromium >/dev/null || need+=(chromium)
command -v ip >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo ".ci/deps.sh: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  echo ".ci/deps.sh: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
