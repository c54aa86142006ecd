#!/usr/bin/env bash
# Makes this machine a QEMU host for the libvirt driver's real-guest test
# (src/zhengyun/infrastructure/tests/test_drivers_qemu.py): installs Debian's QEMU and libvirt
# daemon when missing, starts virtlogd and libvirtd where no init system did, and checks that
# qemu:///system answers. CI runs it and then sets ZHENGYUN_QEMU_URI; elsewhere that test is
# opt-in. Needs root (or sudo).
set -euo pipefail
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else
  echo "a QEMU host needs root: apt-get install qemu-system-x86 qemu-utils libvirt-daemon-system" >&2
  exit 1
fi
if ! command -v libvirtd >/dev/null || ! command -v qemu-system-x86_64 >/dev/null; then
  echo "installing qemu-system-x86 qemu-utils libvirt-daemon-system for the real-guest test"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    qemu-system-x86 qemu-utils libvirt-daemon-system >/dev/null
fi
pgrep -x virtlogd >/dev/null || $sudo virtlogd --daemon
pgrep -x libvirtd >/dev/null || $sudo libvirtd --daemon
for _ in $(seq 50); do
  virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "libvirtd does not answer on qemu:///system" >&2
exit 1
