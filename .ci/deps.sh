#!/usr/bin/env bash
# Installs what `make test` needs when it is missing (Debian 12, as root):
# xmllint for the JUnit schema check, chromium for the browser test,
# chroma (npm, pinned) for the Chroma integration tests.
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
# Chroma for the Chroma integration tests and examples/chroma.toml, without
# Python: the npm package's `chroma` CLI and its native bindings, pinned
# (bindings ≥ 1.0.6 need glibc ≥ 2.38 and fail on Debian 12).
CHROMA_NPM=(chromadb@3.0.11 chromadb-js-bindings-linux-x64-gnu@1.0.5)
if ! command -v chroma >/dev/null || ! chroma --version 2>/dev/null | grep -q '^chroma 1\.0\.0$'; then
  if [ "$(id -u)" != 0 ]; then
    echo ".ci/deps.sh: chroma missing; as root: npm install -g ${CHROMA_NPM[*]}" >&2
    exit 1
  fi
  command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; }
  echo ".ci/deps.sh: installing ${CHROMA_NPM[*]}"
  npm install -g --no-fund --no-audit "${CHROMA_NPM[@]}" >/dev/null
fi
# gitlab-ci-local runs the GitLab CI template in `make gitlab-test`.
# 4.56.2: later versions need Node 22 (Set.prototype.union). It needs
# rsync; its re2 dependency downloads a prebuilt binary from GitHub, which
# is built from source here (g++, make and Node's headers) when absent.
GITLAB_CI_LOCAL=gitlab-ci-local@4.56.2
if ! gitlab-ci-local --version 2>/dev/null | grep -qx '4\.56\.2'; then
  if [ "$(id -u)" != 0 ]; then
    echo ".ci/deps.sh: gitlab-ci-local 4.56.2 missing; as root: npm install -g $GITLAB_CI_LOCAL" >&2
    exit 1
  fi
  need=()
  command -v rsync >/dev/null || need+=(rsync)
  command -v g++ >/dev/null || need+=(g++)
  command -v make >/dev/null || need+=(make)
  [ -e /usr/include/node/node.h ] || need+=(libnode-dev)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  echo ".ci/deps.sh: installing $GITLAB_CI_LOCAL"
  npm install -g --no-fund --no-audit "$GITLAB_CI_LOCAL" >/dev/null
  re2="$(npm root -g)/gitlab-ci-local/node_modules/re2"
  if [ ! -e "$re2/build/Release/re2.node" ]; then
    (cd "$re2" && npm_config_nodedir=/usr npx --no-install node-gyp rebuild >/dev/null)
  fi
fi
