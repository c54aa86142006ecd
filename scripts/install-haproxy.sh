#!/usr/bin/env bash
# Installs Debian's HAProxy, which the HAProxy load-balancer driver runs and its tests drive
# on 127.0.0.1. Needs root (or sudo). On a workstation without either, those tests skip and
# say what to install; on CI (CI set) this fails.
set -euo pipefail
command -v haproxy >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else
  echo "load-balancer driver tests need: haproxy (apt-get install it as root)" >&2
  [ -n "${CI:-}" ] && exit 1
  exit 0
fi
echo "installing haproxy for the load-balancer driver"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq haproxy >/dev/null
