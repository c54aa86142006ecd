"""What only the libvirt driver does (R-I1, R-I3), against libvirt's test driver: errors of
libvirt's own translated into driver errors, root disks made over an image and removed with
the guest, and the platform's URI parameters kept apart from libvirt's."""

import uuid
import xml.etree.ElementTree as ET

import pytest

from zhengyun.infrastructure.drivers import libvirt_xml
from zhengyun.infrastructure.drivers.base import (
    DriverError,
    GuestSpec,
    GuestState,
    HostUnavailable,
    Unsupported,
)
from zhengyun.infrastructure.drivers.libvirt import split_uri
from zhengyun.infrastructure.tests.test_drivers import needs_libvirt


@pytest.fixture
def test_driver():
    from zhengyun.infrastructure.drivers.libvirt import LibvirtDriver

    return LibvirtDriver("test:///default?idle_watts=90&peak_watts=250")


@pytest.fixture
def guest(test_driver):
    made = GuestSpec(name=str(uuid.uuid4()), vcpus=1, memory_mb=512, disk_gb=8)
    yield made
    test_driver.delete(made.name)


def test_the_platforms_parameters_are_taken_out_of_the_libvirt_uri():
    uri, ours = split_uri("qemu+ssh://ops@kvm-07/system?keyfile=/k&idle_watts=120&no_verify=1")
    assert uri == "qemu+ssh://ops@kvm-07/system?keyfile=%2Fk&no_verify=1"
    assert (ours["idle_watts"], ours["peak_watts"], ours["shutdown_timeout"]) == (120, 450, 30)
    with pytest.raises(DriverError, match="peak_watts='lots' is not a number"):
        split_uri("test:///default?peak_watts=lots")


def test_domain_xml_keys_the_guest_by_its_uuid_and_escapes_nothing_by_hand():
    name = str(uuid.uuid4())
    spec = GuestSpec(name=name, vcpus=2, memory_mb=1024, disk_gb=8, image="/img/a'b.qcow2")
    domain = ET.fromstring(libvirt_xml.domain_xml(spec, "kvm", disk_path="/pool/x.qcow2"))
    assert (domain.findtext("name"), domain.findtext("uuid")) == (name, name)
    assert (domain.findtext("memory"), domain.findtext("vcpu")) == ("1048576", "2")
    assert domain.find("devices/disk/source").get("file") == "/pool/x.qcow2"
    assert domain.find("devices/graphics").get("listen") == "127.0.0.1"
    volume = ET.fromstring(libvirt_xml.root_volume_xml("x.qcow2", 8, spec.image))
    assert volume.findtext("backingStore/path") == "/img/a'b.qcow2"
    plain = ET.fromstring(libvirt_xml.domain_xml(GuestSpec("web-1", 1, 512, 8), "qemu"))
    assert plain.find("uuid") is None and plain.find("devices/disk") is None


@needs_libvirt
def test_the_host_reports_the_power_model_from_the_uri(test_driver):
    (host,) = test_driver.hosts()
    assert (host.idle_watts, host.peak_watts) == (90, 250)
    assert host.disk_gb == 100  # the test driver's one storage pool


@needs_libvirt
def test_live_migration_is_unsupported_on_the_test_driver(test_driver, guest):
    test_driver.define(test_driver.hosts()[0].name, guest)
    test_driver.start(guest.name)
    with pytest.raises(Unsupported, match="migration is not supported"):
        test_driver.live_migrate(guest.name, "kvm-02")


@needs_libvirt
def test_a_libvirt_error_becomes_a_driver_error_with_its_message(test_driver):
    bad = GuestSpec(name="web/1", vcpus=1, memory_mb=512, disk_gb=8)
    with pytest.raises(DriverError, match="cannot contain '/'") as raised:
        test_driver.define(test_driver.hosts()[0].name, bad)
    assert type(raised.value) is DriverError


@needs_libvirt
def test_a_hypervisor_that_cannot_be_reached_is_host_unavailable():
    from zhengyun.infrastructure.drivers.libvirt import LibvirtDriver

    with pytest.raises(HostUnavailable, match="Cannot connect to the hypervisor"):
        LibvirtDriver("test:///nonexistent/host.xml").hosts()


@needs_libvirt
def test_a_root_disk_is_made_over_the_image_and_removed_with_the_guest(test_driver):
    from zhengyun.infrastructure.drivers.libvirt import libvirt_module

    name = str(uuid.uuid4())
    spec = GuestSpec(name=name, vcpus=1, memory_mb=512, disk_gb=8, image="/images/os.qcow2")
    host = test_driver.hosts()[0].name
    assert test_driver.define(host, spec).state == GuestState.STOPPED
    pool = libvirt_module().open("test:///default").storagePoolLookupByName("default-pool")
    assert f"{name}.qcow2" in pool.listVolumes()
    assert test_driver.define(host, spec).name == name  # again: no second disk, no error
    test_driver.delete(name)
    assert f"{name}.qcow2" not in pool.listVolumes()


@needs_libvirt
def test_guest_cpu_is_a_rate_between_two_samples(test_driver, guest):
    test_driver.define(test_driver.hosts()[0].name, guest)
    test_driver.start(guest.name)
    assert "cpu_percent" in test_driver.guest_metrics(guest.name).unavailable
    assert "cpu_percent" not in test_driver.guest_metrics(guest.name).unavailable
