#!/usr/bin/env bash
# Installs Debian's Chromium and a CJK font for the console's browser test when missing.
# Needs root (or sudo); without it, the browser test reports what to install.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi 'wenquanyi\|wqy' || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else
  echo "browser test needs: ${need[*]} (apt-get install them as root)" >&2
  exit 0
fi
echo "installing ${need[*]} for the browser test"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
