"""Networks' segment numbers (R-I2): each network gets the lowest VLAN ID free on the
platform, whatever its zone (a pool may reach several zones through one uplink), exactly
once, also under concurrent orders; a deleted network's number is free again; with none
left a new network is refused clearly and nothing is made. Built guests' networks carry their
number to the hypervisor, and on hosts sharing an Open vSwitch uplink a libvirt network is
a VLAN of it."""

import datetime
import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from zhengyun.infrastructure import connections, lifecycle
from zhengyun.infrastructure import services as infrastructure
from zhengyun.infrastructure.choices import InstanceStatus, NetworkReach
from zhengyun.infrastructure.drivers import libvirt_xml
from zhengyun.infrastructure.drivers.base import DriverError, GuestSpec, Nic
from zhengyun.infrastructure.models import Network, RetiredSegment
from zhengyun.infrastructure.segments import SegmentsExhausted
from zhengyun.infrastructure.tests.test_drivers import needs_libvirt
from zhengyun.infrastructure.tests.test_drivers_libvirt import (
    NETWORK_SCHEMA,
    needs_xmllint,
    schema_errors,
)
from zhengyun.testing.lifecycle import build_crash_room, order

EXTRANET, INTERNET = NetworkReach.GOV_EXTRANET, NetworkReach.INTERNET


def network(world, name, reach=EXTRANET, department="a"):
    staff = world.staff_a if department == "a" else world.staff_b
    return infrastructure.create_network(
        actor=staff,
        department=getattr(world, f"department_{department}"),
        name=name,
        reach=reach,
    )


@pytest.mark.django_db
def test_each_network_takes_the_lowest_free_number_whatever_its_zone(world, settings):
    settings.ZHENGYUN_NETWORK_SEGMENTS = (100, 3999)
    first, second = network(world, "一"), network(world, "二", department="b")
    other_zone = network(world, "三", reach=INTERNET)
    assert (first.segment, second.segment, other_zone.segment) == (100, 101, 102)
    infrastructure.delete_network(first, actor=world.staff_a)
    # Its number rests while others are free: a host that was down may still carry it.
    assert network(world, "四", department="b").segment == 103
    RetiredSegment.objects.update(retired_at=timezone.now() - datetime.timedelta(hours=25))
    assert network(world, "五", reach=INTERNET).segment == 100  # free again
    assert not RetiredSegment.objects.exists()


@pytest.mark.django_db
def test_a_resting_number_is_given_out_rather_than_refusing_a_network(world, settings):
    settings.ZHENGYUN_NETWORK_SEGMENTS = (300, 301)
    infrastructure.delete_network(network(world, "一"), actor=world.staff_a)
    second = network(world, "二")
    assert second.segment == 301
    infrastructure.delete_network(second, actor=world.staff_a)
    assert network(world, "三").segment == 300  # both resting: the lowest


@pytest.mark.django_db
def test_with_no_number_left_a_network_is_refused_and_nothing_made(world, settings, api_as):
    settings.ZHENGYUN_NETWORK_SEGMENTS = (200, 201)
    network(world, "一")
    network(world, "二", reach=INTERNET)
    with pytest.raises(SegmentsExhausted):
        network(world, "三", reach=NetworkReach.GOV_INTERNAL)
    response = api_as(world.staff_a).post(
        "/api/v1/infrastructure/networks/",
        {"name": "三", "reach": EXTRANET},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409
    assert "Every network segment is in use" in response.json()["detail"]
    assert Network.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_never_share_a_number(world):
    made, failures, start = [], [], threading.Barrier(8)

    def create(n):
        try:
            start.wait()
            made.append(network(world, f"并发{n}", department="ab"[n % 2]).segment)
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(made) == list(range(100, 108))
    assert sorted(Network.objects.values_list("segment", flat=True)) == list(range(100, 108))


@pytest.mark.django_db
def test_a_built_guests_networks_reach_the_hypervisor_with_their_numbers(world):
    room = build_crash_room(
        world, driver="simulator", uri="sim://memory?hosts=1&vcpus=8&memory_mb=16384&disk_gb=500"
    )
    instance = order(world, room, "web")
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE
    sim = connections.driver_for("simulator", room.pool.hosts.get().provider.uri)
    assert sim.segment(str(room.subnet.network.uuid)) == room.subnet.network.segment


UPLINK = "test:///default?uplink=br-zy"


@pytest.fixture
def uplinked():
    from zhengyun.infrastructure.drivers.libvirt import LibvirtDriver

    driver = LibvirtDriver(UPLINK)
    yield driver
    for made in driver.networks():
        driver.remove_network(made)


@needs_xmllint
def test_a_network_on_an_uplink_is_a_valid_vlan_of_it(tmp_path):
    xml = libvirt_xml.uplink_network_xml(str(uuid.uuid4()), 123, "br-zy")
    assert schema_errors(NETWORK_SCHEMA, xml, tmp_path) == ""
    assert libvirt_xml.network_place(xml) == ("br-zy", {123})


@needs_libvirt
def test_on_an_uplink_each_network_is_its_own_vlan_and_never_shares_one(uplinked):
    host = uplinked.hosts()[0].name
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    uplinked.ensure_network(host, first, 100)
    uplinked.ensure_network(host, first, 100)  # again: nothing new
    uplinked.ensure_network(host, second, 101)
    conn = uplinked._conn()
    defined = {n.name(): libvirt_xml.network_place(n.XMLDesc(0)) for n in conn.listAllNetworks(0)}
    assert defined[libvirt_xml.network_name(first)] == ("br-zy", {100})
    assert defined[libvirt_xml.network_name(second)] == ("br-zy", {101})
    with pytest.raises(DriverError, match="VLAN 100 of bridge br-zy .* is held by network"):
        uplinked.ensure_network(host, third, 100)
    # Without its number, a network cannot be made on the uplink, nor a guest plugged into it.
    with pytest.raises(DriverError, match="needs its segment number"):
        uplinked.ensure_network(host, third)
    spec = GuestSpec(str(uuid.uuid4()), 1, 512, 8, nics=(Nic("52:54:00:00:00:09", third),))
    with pytest.raises(DriverError, match="needs its segment number"):
        uplinked.define(host, spec)
    assert third not in uplinked.networks()


@needs_libvirt
@pytest.mark.django_db
def test_an_instance_built_on_an_uplink_is_plugged_into_its_networks_vlan(world, uplinked):
    room = build_crash_room(world, driver="libvirt", uri=UPLINK)
    instance = order(world, room, "web")
    try:
        assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE
        subnet_network = room.subnet.network
        found = uplinked._conn().networkLookupByName(
            libvirt_xml.network_name(str(subnet_network.uuid))
        )
        place = libvirt_xml.network_place(found.XMLDesc(0))
        assert place == ("br-zy", {subnet_network.segment})
        (nic,) = uplinked.guest_nics(str(instance.uuid))
        assert nic.network == str(subnet_network.uuid)
    finally:
        uplinked.delete(str(instance.uuid))
        connections.driver_for.cache_clear()


@needs_libvirt
def test_a_network_made_before_the_uplink_moves_onto_it_unless_a_guest_uses_it(uplinked):
    from zhengyun.infrastructure.drivers.libvirt import LibvirtDriver

    isolated = LibvirtDriver("test:///default")
    host = uplinked.hosts()[0].name
    unused, used = str(uuid.uuid4()), str(uuid.uuid4())
    isolated.ensure_network(host, unused)
    guest = GuestSpec(str(uuid.uuid4()), 1, 512, 8, nics=(Nic("52:54:00:00:00:0a", used),))
    isolated.define(host, guest)
    try:
        uplinked.ensure_network(host, unused, 300)
        found = uplinked._conn().networkLookupByName(libvirt_xml.network_name(unused))
        assert libvirt_xml.network_place(found.XMLDesc(0)) == ("br-zy", {300})
        with pytest.raises(DriverError, match="guests are plugged into it"):
            uplinked.ensure_network(host, used, 301)
    finally:
        isolated.delete(guest.name)


@needs_libvirt
def test_an_uplink_vlan_held_in_a_port_group_is_not_taken_again(uplinked):
    conn = uplinked._conn()
    trunk = conn.networkDefineXML(
        "<network><name>operators-trunk</name><forward mode='bridge'/><bridge name='br-zy'/>"
        "<virtualport type='openvswitch'/><portgroup name='mgmt'><vlan><tag id='400'/></vlan>"
        "</portgroup></network>"
    )
    try:
        with pytest.raises(DriverError, match="VLAN 400 of bridge br-zy"):
            uplinked.ensure_network(uplinked.hosts()[0].name, str(uuid.uuid4()), 400)
    finally:
        trunk.undefine()
