"""The libvirt driver boots a real QEMU guest with its config drive (R-I1, R-I3). Runs when
ZHENGYUN_QEMU_URI is set (for example ``qemu:///system``, as CI does after
``scripts/start-qemu-host.sh``) on a machine with QEMU and a running libvirtd; the guest
boots a one-sector image this test writes itself, so nothing is downloaded."""

import os
import shutil
import tempfile
import uuid

import pytest

from zhengyun.infrastructure import config_drive
from zhengyun.infrastructure.drivers.base import GuestSpec, GuestState

QEMU_URI = os.environ.get("ZHENGYUN_QEMU_URI", "")

pytestmark = pytest.mark.skipif(
    not QEMU_URI,
    reason="opt-in: set ZHENGYUN_QEMU_URI=qemu:///system with qemu-system-x86, qemu-utils and "
    "libvirt-daemon-system installed and libvirtd and virtlogd running",
)

# A BIOS boot sector that disables interrupts and halts for ever (cli; hlt; jmp back to hlt),
# padded to 512 bytes with the 0x55AA boot signature: the smallest image a PC will boot.
BOOT_SECTOR = bytes([0xFA, 0xF4, 0xEB, 0xFD]).ljust(510, b"\0") + b"\x55\xaa"


@pytest.fixture
def qemu_host():
    """A storage pool of its own in a directory QEMU's user can read, holding the image."""
    from zhengyun.infrastructure.drivers.libvirt import libvirt_module

    libvirt = libvirt_module()
    directory = tempfile.mkdtemp(prefix="zhengyun-qemu-")
    os.chmod(directory, 0o755)  # noqa: S103 - QEMU runs as another user and must read it
    image = os.path.join(directory, "boot.img")
    with open(image, "wb") as file:
        file.write(BOOT_SECTOR.ljust(1024 * 1024, b"\0"))
    pool_name = f"zhengyun-test-{uuid.uuid4().hex[:8]}"
    connection = libvirt.open(QEMU_URI)
    pool = connection.storagePoolCreateXML(
        f"<pool type='dir'><name>{pool_name}</name>"
        f"<target><path>{directory}/pool</path></target></pool>",
        libvirt.VIR_STORAGE_POOL_CREATE_WITH_BUILD,
    )
    yield pool, image
    pool.destroy()
    connection.close()
    shutil.rmtree(directory)


def downloaded(volume):
    """The bytes of a storage volume, read back through libvirt."""
    connection = volume.connect()
    stream = connection.newStream(0)
    volume.download(stream, 0, 0, 0)
    chunks = []
    while chunk := stream.recv(256 * 1024):
        chunks.append(chunk)
    stream.finish()
    return b"".join(chunks)


def test_a_real_guest_boots_runs_and_is_removed(qemu_host):
    from zhengyun.infrastructure.drivers.libvirt import LibvirtDriver

    pool, image = qemu_host
    driver = LibvirtDriver(f"{QEMU_URI}?storage_pool={pool.name()}&shutdown_timeout=1")
    host = driver.hosts()[0].name
    name = str(uuid.uuid4())
    seed = config_drive.image(
        {"meta-data": b"{}\n", "network-config": b"{}\n", "user-data": b"#cloud-config\n"}
    )
    spec = GuestSpec(name, vcpus=1, memory_mb=64, disk_gb=1, image=image, config_drive=seed)
    try:
        driver.define(host, spec)
        # The root disk copy-on-write over the image, and the config drive uploaded whole.
        assert sorted(pool.listVolumes()) == sorted([f"{name}.qcow2", f"{name}.config.iso"])
        assert downloaded(pool.storageVolLookupByName(f"{name}.config.iso")) == seed
        assert f"{name}.config.iso" in driver._domain(name).XMLDesc(0)  # the guest's sda
        assert driver.start(name).state == GuestState.RUNNING
        assert driver.console_url(name).startswith("vnc://127.0.0.1:59")
        driver.guest_metrics(name)
        sample = driver.guest_metrics(name)
        assert "cpu_percent" not in sample.unavailable and sample.memory_used_mb > 0
        assert driver.resize(name, 2, 128).vcpus == 2
        # The boot sector ignores ACPI: stop waits out the timeout, then powers off.
        assert driver.stop(name).state == GuestState.STOPPED
    finally:
        driver.delete(name)
    assert driver.guest(name).state == GuestState.MISSING
    pool.refresh(0)
    assert pool.listVolumes() == []
