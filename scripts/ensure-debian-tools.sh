#!/usr/bin/env bash
# Installs the Debian packages that tests (and, with --bench, benchmarks) use, only when something is missing.
set -euo pipefail
# chromium: the dashboard's browser test (test/e2e/dashboard.test.ts drives it with playwright-core).
# gcc, libc6-dev: the sidecar's native data path (l4-sidecar/native/build.sh).
# binutils (strip), systemd (systemd-analyze), procps (/bin/kill): the sidecar release and its unit's checks.
# iproute2 (ss): the sidecar's data-path tests read TCP segment counts and socket states.
packages=(gcc libc6-dev binutils systemd procps iproute2 curl openssl socat netcat-openbsd redis-server redis-tools chromium)
if [[ "${1:-}" == "--bench" ]]; then packages+=(haproxy nginx-light wrk iperf3); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts redis-server as a service on install; tests start their own on other ports.
  ($SUDO systemctl stop redis-server 2>/dev/null || $SUDO service redis-server stop 2>/dev/null || true) >/dev/null
fi
