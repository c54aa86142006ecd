#!/usr/bin/env bash
# Installs Debian's nftables, whose `nft -c` checks the rulesets the nftables network-edge
# driver writes (checking reads netfilter's state, so it needs CAP_NET_ADMIN). Needs root (or
# sudo). On a workstation without either, those tests skip and say what to install; on CI
# (CI set) this fails.
set -euo pipefail
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else
  echo "network-edge driver tests need: nftables (apt-get install it as root)" >&2
  [ -n "${CI:-}" ] && exit 1
  exit 0
fi
echo "installing nftables for the network-edge driver"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nftables >/dev/null
