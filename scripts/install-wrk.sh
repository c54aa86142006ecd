#!/usr/bin/env bash
# Installs Debian's wrk, the HTTP load generator the gateway benchmark drives the server
# with (benchmarks/gateway_throughput.py). Needs root (or sudo). On a workstation without
# either, that benchmark says what to install or takes --load python; on CI (CI set) this fails.
set -euo pipefail
command -v wrk >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else
  echo "the gateway benchmark needs: wrk (apt-get install it as root)" >&2
  [ -n "${CI:-}" ] && exit 1
  exit 0
fi
echo "installing wrk for the gateway benchmark"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
