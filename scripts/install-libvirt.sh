#!/usr/bin/env bash
# Installs Debian's libvirt headers and pkg-config, which libvirt-python (in the test lock)
# builds against: PyPI has no wheels for it; and xmllint, which checks the network filters the
# driver writes against libvirt's schema (the test driver cannot define them). Needs root (or
# sudo). On a workstation without either, the libvirt driver's tests skip and say what to
# install; on CI (CI set) this fails.
set -euo pipefail
pkg-config --exists libvirt 2>/dev/null && command -v xmllint >/dev/null && exit 0
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else
  echo "libvirt driver tests need: libvirt-dev pkg-config libxml2-utils (apt-get install them as root)" >&2
  [ -n "${CI:-}" ] && exit 1
  exit 0
fi
echo "installing libvirt-dev pkg-config libxml2-utils for the libvirt driver"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libvirt-dev pkg-config libxml2-utils >/dev/null
