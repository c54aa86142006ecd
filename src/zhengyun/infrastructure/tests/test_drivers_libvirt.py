"""What only the libvirt driver does (R-I1, R-I3), against libvirt's test driver: errors of
libvirt's own translated into driver errors, root disks made over an image and removed with
the guest, volumes and snapshots as pool volumes and guests holding them, guests'
firewalls as network filters, the platform's URI parameters kept apart from libvirt's, and
a host's disk and network traffic summed from its domains (R-I4)."""

import os
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from zhengyun.infrastructure.drivers import libvirt_firewall, libvirt_xml
from zhengyun.infrastructure.drivers.base import (
    IO_COUNTERS,
    DriverError,
    FirewallRule,
    GuestNotFound,
    GuestSpec,
    GuestState,
    HostUnavailable,
    Nic,
    Unsupported,
    VolumeInUse,
    VolumeSpec,
    VolumeState,
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
def test_a_running_guest_with_local_disks_is_migrated_with_a_copy_of_them():
    from zhengyun.infrastructure.drivers.libvirt import libvirt_module, migration_flags

    libvirt = libvirt_module()
    copied = migration_flags(libvirt, GuestState.RUNNING, copy_disks=True)
    assert copied & libvirt.VIR_MIGRATE_NON_SHARED_DISK and copied & libvirt.VIR_MIGRATE_LIVE
    assert copied & libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    shared = migration_flags(libvirt, GuestState.RUNNING, copy_disks=False)
    assert not shared & libvirt.VIR_MIGRATE_NON_SHARED_DISK
    offline = migration_flags(libvirt, GuestState.STOPPED, copy_disks=False)
    assert offline & libvirt.VIR_MIGRATE_OFFLINE and not offline & libvirt.VIR_MIGRATE_LIVE
    # libvirt cannot copy disks with an offline migration: refused, not left behind.
    with pytest.raises(Unsupported, match="cannot be migrated; start it first"):
        migration_flags(libvirt, GuestState.STOPPED, copy_disks=True)


@needs_libvirt
def test_the_disks_a_migration_copies_are_the_guests_pool_volumes_and_stay_if_it_fails(
    test_driver,
):
    from zhengyun.infrastructure.drivers.libvirt import LibvirtDriver, libvirt_module

    name = str(uuid.uuid4())
    spec = GuestSpec(name=name, vcpus=1, memory_mb=512, disk_gb=8, image="/images/os.qcow2")
    test_driver.define(test_driver.hosts()[0].name, spec)
    test_driver.start(name)
    try:
        domain = test_driver._domain(name)
        assert {d: v.name() for d, v in test_driver._local_volumes(domain).items()} == {
            "vda": f"{name}.qcow2"
        }
        shared = LibvirtDriver("test:///default?shared_storage=1")
        assert shared.parameters["shared_storage"] == 1
        with pytest.raises(Unsupported, match="migration is not supported"):
            test_driver.live_migrate(name, "kvm-02")
        pool = libvirt_module().open("test:///default").storagePoolLookupByName("default-pool")
        assert f"{name}.qcow2" in pool.listVolumes()  # nothing removed by a failed move
    finally:
        test_driver.delete(name)


@needs_libvirt
def test_disk_copies_a_move_left_behind_are_removed_and_disks_in_use_stay(test_driver, held_volume):
    from zhengyun.infrastructure.drivers.libvirt import LibvirtDriver

    held, _holder = held_volume
    host = test_driver.hosts()[0].name
    moved, data = str(uuid.uuid4()), str(uuid.uuid4())
    image = "/images/os.qcow2"
    test_driver.define(host, GuestSpec(moved, vcpus=1, memory_mb=512, disk_gb=8, image=image))
    test_driver.create_volume(host, VolumeSpec(name=data, size_gb=1))
    assert test_driver.discard_moved_disks(moved, (data,)) == []  # still defined here
    test_driver._domain(moved).undefine()  # gone to the target, as a migration leaves it
    shared = LibvirtDriver("test:///default?shared_storage=1")
    assert shared.discard_moved_disks(moved, (data,)) == []  # the target uses these files

    removed = test_driver.discard_moved_disks(moved, (data, held))
    assert removed == [f"{moved}.qcow2", f"{data}.volume.qcow2"]
    assert f"{held}.volume.qcow2" in test_driver._pool().listVolumes()  # a guest here uses it
    assert test_driver.discard_moved_disks(moved, (data,)) == []  # nothing left


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


def test_disk_xml_names_the_volume_and_is_read_back():
    disk = libvirt_xml.data_disk_xml("/pool/a'b.volume.qcow2", "vdc")
    element = ET.fromstring(disk)
    assert element.find("source").get("file") == "/pool/a'b.volume.qcow2"
    assert element.find("target").attrib == {"dev": "vdc", "bus": "virtio"}
    assert element.find("driver").get("type") == "qcow2"
    domain = (
        f"<domain><devices>{disk}<disk type='network'><target dev='vdd'/></disk></devices></domain>"
    )
    assert libvirt_xml.disk_sources(domain) == {"/pool/a'b.volume.qcow2": "vdc"}


@pytest.fixture
def held_volume(test_driver):
    """A volume and a running guest that holds it, defined through libvirt itself, since
    the test driver cannot attach a disk: as a hypervisor that did attach it leaves them."""
    from zhengyun.infrastructure.drivers.libvirt import libvirt_module

    connection = libvirt_module().open("test:///default")
    volume, guest = str(uuid.uuid4()), GuestSpec(str(uuid.uuid4()), 1, 512, 0)
    test_driver.create_volume(test_driver.hosts()[0].name, VolumeSpec(volume, size_gb=3))
    pool = connection.storagePoolLookupByName("default-pool")
    path = pool.storageVolLookupByName(f"{volume}.volume.qcow2").path()
    domain = ET.fromstring(libvirt_xml.domain_xml(guest, "test"))
    domain.find("devices").append(ET.fromstring(libvirt_xml.data_disk_xml(path, "vdb")))
    connection.defineXML(ET.tostring(domain, encoding="unicode"))
    test_driver.start(guest.name)
    yield volume, guest.name
    test_driver.delete(guest.name)
    test_driver.delete_volume(volume)


@needs_libvirt
def test_a_volume_a_guest_holds_is_attached_to_it(test_driver, held_volume):
    volume, guest = held_volume
    info = test_driver.volume(volume)
    assert (info.state, info.guest, info.device, info.size_gb) == (
        VolumeState.ATTACHED,
        guest,
        "vdb",
        3,
    )
    assert info in test_driver.volumes()
    assert test_driver.attach_volume(guest, volume) == info  # a retry: nothing to do
    with pytest.raises(VolumeInUse, match=guest):
        test_driver.delete_volume(volume)
    with pytest.raises(Unsupported, match="virDomainDetachDeviceFlags"):
        test_driver.detach_volume(guest, volume)


@needs_libvirt
def test_a_snapshot_of_a_running_guests_volume_is_a_cloned_pool_volume(test_driver, held_volume):
    from zhengyun.infrastructure.drivers.libvirt import libvirt_module

    volume, guest = held_volume
    snapshot = str(uuid.uuid4())
    taken = test_driver.snapshot_volume(volume, snapshot)
    try:
        assert (taken.volume, taken.size_gb) == (volume, 3)
        pool = libvirt_module().open("test:///default").storagePoolLookupByName("default-pool")
        assert f"{snapshot}.snapshot-of.{volume}.qcow2" in pool.listVolumes()
        # Paused for the copy, the guest runs again after it (not merely "not shut off").
        assert libvirt_module().open("test:///default").lookupByName(guest).state()[0] == (
            libvirt_module().VIR_DOMAIN_RUNNING
        )
        assert snapshot not in {info.name for info in test_driver.volumes()}
    finally:
        test_driver.delete_snapshot(snapshot)


@needs_libvirt
def test_a_snapshot_retried_after_a_copy_killed_mid_way_resumes_the_guest(test_driver, held_volume):
    from zhengyun.infrastructure.drivers.libvirt import libvirt_module

    volume, guest = held_volume
    snapshot = str(uuid.uuid4())
    test_driver.snapshot_volume(volume, snapshot)
    domain = libvirt_module().open("test:///default").lookupByName(guest)
    domain.suspend()  # as a worker killed between the copy and its resume leaves it
    try:
        test_driver.snapshot_volume(volume, snapshot)
        assert domain.state()[0] == libvirt_module().VIR_DOMAIN_RUNNING
    finally:
        test_driver.delete_snapshot(snapshot)


@needs_libvirt
def test_deleting_the_guest_leaves_its_volume_in_the_pool_detached(test_driver, held_volume):
    volume, guest = held_volume
    test_driver.delete(guest)
    kept = test_driver.volume(volume)
    assert (kept.state, kept.guest, kept.size_gb) == (VolumeState.AVAILABLE, "", 3)


@needs_libvirt
def test_a_guest_deleted_while_volumes_are_listed_holds_nothing(
    test_driver, held_volume, monkeypatch
):
    volume, guest = held_volume
    read = test_driver._definitions

    def deleted_meanwhile(domain):
        if domain.name() == guest:
            raise GuestNotFound(f"{guest} went")
        return read(domain)

    monkeypatch.setattr(test_driver, "_definitions", deleted_meanwhile)
    assert test_driver.volume(volume).state == VolumeState.AVAILABLE


# Firewalls: libvirt's test driver has no network filters, so the filter the driver would
# define is checked against libvirt's own schema for them.
NWFILTER_SCHEMA = Path("/usr/share/libvirt/schemas/nwfilter.rng")
needs_xmllint = pytest.mark.skipif(
    (shutil.which("xmllint") is None or not NWFILTER_SCHEMA.exists()) and not os.environ.get("CI"),
    reason="xmllint (libxml2-utils) and libvirt's schemas (libvirt-dev) are not installed",
)
FIREWALL = [
    FirewallRule("ingress", "IPv4", "tcp", 22, 22, "10.0.0.0/24"),
    FirewallRule("ingress", "IPv4", "icmp"),
    FirewallRule("ingress", "IPv6", "udp", 5000, 5010, "fd00::/64"),
    FirewallRule("egress", "IPv4", "any", remote="10.0.0.7/32"),
    FirewallRule("egress", "IPv6", "any"),
]
OWN = ["10.0.0.5", "fd00::5"]  # the guest's own addresses


@needs_xmllint
def test_the_guests_filter_is_valid_nwfilter_xml(tmp_path):
    document = tmp_path / "filter.xml"
    document.write_text(libvirt_firewall.filter_xml("guest-1", FIREWALL, OWN))
    checked = subprocess.run(
        ["xmllint", "--noout", "--relaxng", str(NWFILTER_SCHEMA), str(document)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    # The schema's checker refuses a broken filter, so the check above can fail.
    document.write_text('<filter name="x" chain="root"><rule action="accept"/></filter>')
    assert subprocess.run(
        ["xmllint", "--noout", "--relaxng", str(NWFILTER_SCHEMA), str(document)],
        capture_output=True,
        check=False,
    ).returncode


def test_the_filter_accepts_each_rule_and_drops_the_rest():
    root = ET.fromstring(libvirt_firewall.filter_xml("guest-1", FIREWALL, OWN))
    assert (root.get("name"), root.get("chain")) == ("zhengyun-guest-1", "root")
    rules = root.findall("rule")
    accepts = [r for r in rules if r.get("priority") == libvirt_firewall.ACCEPT_PRIORITY]
    ssh = accepts[0]
    assert (ssh.get("action"), ssh.get("direction")) == ("accept", "in")
    assert ssh.find("tcp").attrib == {
        "srcipaddr": "10.0.0.0",
        "srcipmask": "24",
        "dstportstart": "22",
        "dstportend": "22",
    }
    assert accepts[2].find("udp-ipv6").get("srcipaddr") == "fd00::"
    # Outbound rules hold only for what the guest sends from its own addresses.
    outbound = accepts[3]
    assert outbound.get("direction") == "out"
    assert outbound.find("all").attrib == {
        "dstipaddr": "10.0.0.7",
        "dstipmask": "32",
        "srcipaddr": "10.0.0.5",
        "srcipmask": "32",
    }
    sources = [(r.find("all-ipv6").get("srcipaddr"), r.find("all-ipv6").get("srcipmask"))
               for r in accepts[4:]]  # fmt: skip
    assert sources == [("fd00::5", "128"), ("fe80::", "10")]  # link-local: neighbour discovery
    drops = [(r.get("action"), r.get("direction"), r[0].tag) for r in rules[-2:]]
    assert drops == [("drop", "inout", "all"), ("drop", "inout", "all-ipv6")]
    assert all(int(r.get("priority")) < int(rules[-1].get("priority")) for r in rules[:-2])


def test_a_guest_sends_only_as_itself():
    root = ET.fromstring(libvirt_firewall.filter_xml("guest-1", FIREWALL, ["10.0.0.5"]))
    first = sorted(root.findall("rule"), key=lambda r: int(r.get("priority")))
    (mac,) = first[0]
    assert (first[0].get("action"), first[0].get("direction")) == ("drop", "out")
    assert mac.attrib == {"match": "no", "srcmacaddr": "$MAC"}  # each interface's own MAC
    tagged = [r[0].get("protocolid") for r in first if r[0].get("protocolid")]
    assert tagged == ["0x8100", "0x88a8"]  # VLAN-tagged frames would bypass the IP rules
    arp = [(r.get("action"), r[0].attrib) for r in first if r[0].tag == "arp"]
    assert arp == [
        ("accept", {"arpsrcmacaddr": "$MAC", "arpsrcipaddr": "0.0.0.0"}),  # conflict probes
        ("accept", {"arpsrcmacaddr": "$MAC", "arpsrcipaddr": "10.0.0.5"}),
        ("drop", {}),
    ]
    # Without an IPv6 address of its own the guest sends no IPv6, whatever the rules say.
    assert not [r for r in first if r.get("direction") == "out" and r.find("all-ipv6") is not None
                and r.get("action") == "accept"]  # fmt: skip


def test_ipv6_neighbour_discovery_passes_whatever_the_rules_but_never_spoofed():
    root = ET.fromstring(libvirt_firewall.filter_xml("guest-1", [], OWN))
    found = [
        (r.get("direction"), r[0].get("type"), r[0].get("srcipaddr"), r[0].get("srcipmask"))
        for r in root.findall("rule")
        if r.get("priority") == libvirt_firewall.ND_PRIORITY
    ]
    assert set(found) == {
        ("in", "134", None, None),  # router advertisements reach the guest
        ("in", "135", None, None),
        ("in", "136", None, None),
        *(
            ("out", kind, address, mask)
            for address, mask in (("fd00::5", "128"), ("fe80::", "10"))
            for kind in ("133", "135", "136")  # never an advertisement of a router
        ),
        ("out", "135", "::", "128"),  # duplicate-address detection
    }
    assert all(
        r[0].tag == "icmpv6"
        for r in root.findall("rule")
        if r.get("priority") == libvirt_firewall.ND_PRIORITY
    )
    # A guest without an IPv6 address gets none of it.
    v4 = ET.fromstring(libvirt_firewall.filter_xml("guest-1", [], ["10.0.0.5"]))
    assert not [r for r in v4.findall("rule") if r.get("priority") == libvirt_firewall.ND_PRIORITY]


def test_each_interface_is_pointed_at_the_guests_filter_once():
    domain = (
        "<domain><devices>"
        "<interface type='network'><source network='default'/></interface>"
        "<interface type='network'><filterref filter='zhengyun-guest-1'/></interface>"
        "<interface type='bridge'><filterref filter='clean-traffic'/></interface>"
        "</devices></domain>"
    )
    changed = [
        ET.fromstring(xml)
        for xml in libvirt_firewall.interfaces_to_filter(domain, "zhengyun-guest-1")
    ]
    assert [i.get("type") for i in changed] == ["network", "bridge"]
    for interface in changed:
        assert [f.get("filter") for f in interface.findall("filterref")] == ["zhengyun-guest-1"]


@needs_libvirt
def test_the_test_driver_refuses_a_firewall_and_still_deletes_the_guest(test_driver, guest):
    test_driver.define(test_driver.hosts()[0].name, guest)
    with pytest.raises(Unsupported):
        test_driver.apply_firewall(guest.name, FIREWALL, OWN)
    test_driver.delete(guest.name)  # its filter, which it cannot have, is no obstacle
    assert test_driver.guest(guest.name).state == GuestState.MISSING


# Networks: each platform network is an isolated libvirt network of its own.
DOMAIN_SCHEMA = Path("/usr/share/libvirt/schemas/domain.rng")
NETWORK_SCHEMA = Path("/usr/share/libvirt/schemas/network.rng")


def schema_errors(schema, xml, tmp_path):
    """What xmllint finds wrong with ``xml`` by libvirt's schema (empty when it is valid)."""
    document = tmp_path / "checked.xml"
    document.write_text(xml)
    checked = subprocess.run(
        ["xmllint", "--noout", "--relaxng", str(schema), str(document)],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if checked.returncode == 0 else checked.stderr or "invalid"


@pytest.fixture
def network(test_driver):
    made = str(uuid.uuid4())
    yield made
    test_driver.remove_network(made)


@needs_xmllint
def test_network_and_interface_xml_are_valid_for_libvirts_schemas(tmp_path):
    network = str(uuid.uuid4())
    assert schema_errors(NETWORK_SCHEMA, libvirt_xml.network_xml(network), tmp_path) == ""
    spec = GuestSpec(str(uuid.uuid4()), 1, 512, 8, nics=(Nic("52:54:00:12:34:56", network),))
    domain = libvirt_xml.domain_xml(spec, "kvm", disk_path="/pool/x.qcow2")
    assert schema_errors(DOMAIN_SCHEMA, domain, tmp_path) == ""
    # The checks can fail: a MAC address libvirt would not take is refused.
    broken = domain.replace("52:54:00:12:34:56", "52:54:00:12:34")
    assert schema_errors(DOMAIN_SCHEMA, broken, tmp_path)


def test_an_interface_names_its_mac_its_network_and_virtio():
    network = str(uuid.uuid4())
    spec = GuestSpec("web-1", 1, 512, 8, nics=(Nic("52:54:00:12:34:56", network),))
    (interface,) = ET.fromstring(libvirt_xml.domain_xml(spec, "kvm")).findall("devices/interface")
    assert interface.get("type") == "network"
    assert interface.find("mac").get("address") == "52:54:00:12:34:56"
    assert interface.find("source").get("network") == f"zhengyun-{network}"
    assert interface.find("model").get("type") == "virtio"
    defined = ET.fromstring(libvirt_xml.network_xml(network))
    assert (defined.findtext("name"), defined.findtext("uuid")) == (f"zhengyun-{network}", network)
    # Isolated: no forwarding, and no address of the host's on the bridge.
    assert defined.find("forward") is None and defined.find("ip") is None
    bridge = defined.find("bridge").get("name")
    assert bridge == "zy" + uuid.UUID(network).hex[:13] and len(bridge) <= 15


@needs_libvirt
def test_a_network_is_defined_started_and_set_to_start_with_the_host(test_driver, network):
    from zhengyun.infrastructure.drivers.libvirt import libvirt_module

    test_driver.ensure_network(test_driver.hosts()[0].name, network)
    found = libvirt_module().open("test:///default").networkLookupByName(f"zhengyun-{network}")
    assert (found.isActive(), found.autostart(), found.UUIDString()) == (1, 1, network)


@needs_libvirt
@pytest.mark.parametrize("left", ["defined", "started"])
def test_a_network_definition_killed_half_way_is_finished_without_a_second(
    test_driver, network, left
):
    from zhengyun.infrastructure.drivers.libvirt import libvirt_module

    connection = libvirt_module().open("test:///default")
    # As a worker killed after defining, or after starting, leaves it.
    half = connection.networkDefineXML(libvirt_xml.network_xml(network))
    if left == "started":
        half.create()
    guest = GuestSpec(str(uuid.uuid4()), 1, 512, 0, nics=(Nic("52:54:00:0d:00:01", network),))
    try:
        test_driver.define(test_driver.hosts()[0].name, guest)
        found = connection.networkLookupByName(f"zhengyun-{network}")
        assert (found.isActive(), found.autostart()) == (1, 1)
        names = [n.name() for n in connection.listAllNetworks(0)]
        assert names.count(f"zhengyun-{network}") == 1
    finally:
        test_driver.delete(guest.name)


@needs_libvirt
def test_a_bridge_another_network_holds_is_refused_not_shared(test_driver, network):
    from zhengyun.infrastructure.drivers.libvirt import libvirt_module

    connection = libvirt_module().open("test:///default")
    intruder = f"intruder-{network}"
    xml = ET.fromstring(libvirt_xml.network_xml(network))
    xml.find("name").text = intruder
    xml.remove(xml.find("uuid"))
    taken = connection.networkDefineXML(ET.tostring(xml, encoding="unicode"))
    try:
        with pytest.raises(DriverError, match=f"held by network {intruder}"):
            test_driver.ensure_network(test_driver.hosts()[0].name, network)
        assert network not in test_driver.networks()
    finally:
        taken.undefine()


@needs_libvirt
def test_two_networks_get_two_bridges_and_guests_sit_on_their_own(test_driver):
    from zhengyun.infrastructure.drivers.libvirt import libvirt_module

    connection = libvirt_module().open("test:///default")
    office, tax = str(uuid.uuid4()), str(uuid.uuid4())
    guests = {
        office: GuestSpec(str(uuid.uuid4()), 1, 512, 0, nics=(Nic("52:54:00:0e:00:01", office),)),
        tax: GuestSpec(str(uuid.uuid4()), 1, 512, 0, nics=(Nic("52:54:00:0e:00:02", tax),)),
    }
    host = test_driver.hosts()[0].name
    try:
        for spec in guests.values():
            test_driver.define(host, spec)
            test_driver.start(spec.name)
        bridges = {
            connection.networkLookupByName(f"zhengyun-{network}").bridgeName() for network in guests
        }
        assert len(bridges) == 2
        for network, spec in guests.items():
            live = connection.lookupByName(spec.name).XMLDesc(0)
            assert libvirt_xml.interfaces(live) == [(spec.nics[0].mac, f"zhengyun-{network}")]
    finally:
        for network, spec in guests.items():
            test_driver.delete(spec.name)
            test_driver.remove_network(network)
    assert not {office, tax} & set(test_driver.networks())


@needs_libvirt
@needs_xmllint
def test_the_guests_filter_lands_on_its_real_interface(test_driver, network, tmp_path):
    """The test driver has no network filters, so the reference the firewall would put on
    each interface is put into the domain XML libvirt holds for the guest, and checked."""
    from zhengyun.infrastructure.drivers.libvirt import libvirt_module

    guest = GuestSpec(str(uuid.uuid4()), 1, 512, 0, nics=(Nic("52:54:00:0f:00:01", network),))
    test_driver.define(test_driver.hosts()[0].name, guest)
    try:
        held = libvirt_module().open("test:///default").lookupByName(guest.name).XMLDesc(0)
        filter_name = libvirt_firewall.filter_name(guest.name)
        (changed,) = libvirt_firewall.interfaces_to_filter(held, filter_name)
        interface = ET.fromstring(changed)
        assert interface.find("mac").get("address") == "52:54:00:0f:00:01"
        assert interface.find("source").get("network") == f"zhengyun-{network}"
        assert interface.find("filterref").get("filter") == filter_name
        domain = ET.fromstring(held)
        devices = domain.find("devices")
        devices.remove(devices.find("interface"))
        devices.append(interface)
        assert schema_errors(DOMAIN_SCHEMA, ET.tostring(domain, encoding="unicode"), tmp_path) == ""
    finally:
        test_driver.delete(guest.name)


def test_host_disk_and_network_io_sums_its_running_domains(test_driver):
    # test:///default runs one domain, "test", whose statistics grow with the clock.
    guest = test_driver.guest_metrics("test")
    host = test_driver.host_metrics(test_driver.hosts()[0].name)
    assert not set(IO_COUNTERS) & set(host.unavailable)
    for counter in IO_COUNTERS:
        assert getattr(host, counter) >= getattr(guest, counter) > 0
