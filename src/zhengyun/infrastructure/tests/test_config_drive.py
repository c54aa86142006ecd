"""A guest learns its name and the addresses the platform gave it from a NoCloud config
drive, since no DHCP server runs in a department's network (R-I2, R-I3): each interface by
its MAC address with its subnet's prefix, the default route through the first, the region's
name servers — on the simulator as a guest would read it, and as a disk of its own on
libvirt."""

import json
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET

import pytest

from zhengyun.infrastructure import addresses, config_drive, connections, lifecycle
from zhengyun.infrastructure import services as infrastructure
from zhengyun.infrastructure.choices import NetworkReach
from zhengyun.infrastructure.drivers import libvirt_xml
from zhengyun.infrastructure.drivers.base import GuestSpec
from zhengyun.infrastructure.tests.test_drivers import needs_libvirt
from zhengyun.testing.lifecycle import build_crash_room, order

pytestmark = pytest.mark.django_db

SIMULATOR = "sim://memory?hosts=2&vcpus=8&memory_mb=16384&disk_gb=500"
BLKID = shutil.which("blkid") or "/usr/sbin/blkid"


@pytest.fixture
def room(world):
    made = build_crash_room(world, driver="simulator", uri=SIMULATOR)
    yield made
    connections.driver_for.cache_clear()


def read_seed(image):
    label, files = config_drive.read(image)
    return label, {name: content.decode() for name, content in files.items()}


def test_a_built_guest_reads_its_name_and_address_from_its_config_drive(world, room, settings):
    settings.ZHENGYUN_GUEST_DNS_SERVERS = "10.255.0.53, 10.255.1.53"
    instance = order(world, room, "web-1")
    lifecycle.build(instance.pk)
    port = instance.ports.get()

    label, files = read_seed(
        connections.driver_for("simulator", SIMULATOR).config_drive(str(instance.uuid))
    )
    assert label == "cidata"  # the label cloud-init looks for
    assert json.loads(files["meta-data"]) == {
        "instance-id": str(instance.uuid),
        "local-hostname": "web-1",
    }
    assert json.loads(files["network-config"]) == {
        "version": 2,
        "ethernets": {
            "eth0": {
                "match": {"macaddress": port.mac},
                "set-name": "eth0",
                "addresses": [f"{port.address}/24"],
                "routes": [{"to": "0.0.0.0/0", "via": "10.9.0.1"}],
                "nameservers": {"addresses": ["10.255.0.53", "10.255.1.53"]},
            }
        },
    }
    assert files["user-data"].startswith("#cloud-config\n")


def test_only_the_first_interface_routes_and_a_chinese_name_gives_a_host_name(world, room):
    instance = order(world, room, "门户网站")
    network = infrastructure.create_network(
        actor=world.staff_a, department=world.department_a, name="后台", reach="gov_extranet"
    )
    back = infrastructure.create_subnet(
        actor=world.staff_a, network=network, name="后台段", cidr="10.8.0.0/26"
    )
    second = addresses.allocate(instance, back)

    assert config_drive.hostname(instance) == f"i-{instance.uuid.hex[:12]}"
    ethernets = config_drive.network_config(instance)["ethernets"]
    assert list(ethernets) == ["eth0", "eth1"]
    assert ethernets["eth1"] == {
        "match": {"macaddress": second.mac},
        "set-name": "eth1",
        "addresses": [f"{second.address}/26"],
    }
    assert "nameservers" not in ethernets["eth0"]  # none configured for the region


def test_a_guest_without_addresses_gets_no_config_drive(world, room):
    instance = infrastructure.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name="isolated",
        flavour=room.flavour,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
    )
    lifecycle.build(instance.pk)
    driver = connections.driver_for("simulator", SIMULATOR)
    assert driver.config_drive(str(instance.uuid)) == b""


def test_the_image_is_an_iso_9660_file_system_labelled_cidata(tmp_path):
    files = {"meta-data": b"{}\n", "network-config": b"{}\n", "user-data": b"#cloud-config\n"}
    path = tmp_path / "seed.iso"
    path.write_bytes(config_drive.image(files))
    probed = subprocess.run(
        [BLKID, "-p", "-o", "export", str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert "TYPE=iso9660" in probed.splitlines() and "LABEL=cidata" in probed.splitlines()
    assert config_drive.read(path.read_bytes()) == ("cidata", files)


def test_libvirt_defines_the_config_drive_as_a_raw_disk_on_a_bus_of_its_own():
    spec = GuestSpec(str(uuid.uuid4()), 1, 512, 8, config_drive=b"iso")
    domain = ET.fromstring(
        libvirt_xml.domain_xml(spec, "kvm", "/pool/root.qcow2", config_drive_path="/pool/c.iso")
    )
    (drive,) = [d for d in domain.iter("disk") if d.find("target").get("dev") == "sda"]
    assert drive.get("device") == "disk" and drive.find("driver").get("type") == "raw"
    assert drive.find("target").get("bus") == "sata"  # the virtio disks keep their names
    assert drive.find("source").get("file") == "/pool/c.iso"
    volume = ET.fromstring(libvirt_xml.raw_volume_xml("x.config.iso", 366592))
    assert volume.find("capacity").get("unit") == "bytes"


@needs_libvirt
def test_a_hypervisor_that_takes_no_upload_defines_the_guest_without_a_drive(caplog):
    from zhengyun.infrastructure.drivers.libvirt import LibvirtDriver

    driver = LibvirtDriver("test:///default")
    name = str(uuid.uuid4())
    spec = GuestSpec(name, 1, 512, 8, image="/images/os.qcow2", config_drive=b"x" * 2048)
    driver.define(driver.hosts()[0].name, spec)
    try:
        assert "the test driver takes no config drive" in caplog.text
        assert f"{name}.config.iso" not in driver._pool().listVolumes()  # none left half-made
        assert "config.iso" not in driver._domain(name).XMLDesc(0)
    finally:
        driver.delete(name)
