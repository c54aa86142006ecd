"""An instance ordered into a subnet is plugged into its network on the hypervisor, with its
port's MAC address; instances of one network share a segment and two departments' networks
never do; a guest's networks follow it to another host; a deleted network is taken off the
hypervisors once no guest is plugged in, also after a failure (R-I2, R-I3, design rule 5) —
on the simulator and on libvirt's test driver. On libvirt the security group's filter is
shown to land on the guest's real interface."""

import xml.etree.ElementTree as ET

import pytest

from zhengyun.audit.models import AuditEvent
from zhengyun.infrastructure import connections, firewalls, lifecycle, maintenance
from zhengyun.infrastructure import services as infrastructure
from zhengyun.infrastructure.choices import InstanceStatus, NetworkReach
from zhengyun.infrastructure.drivers import libvirt_firewall, libvirt_xml
from zhengyun.infrastructure.drivers.base import GuestSpec, Nic
from zhengyun.infrastructure.models import Instance
from zhengyun.infrastructure.tasks import reconcile_networks_task
from zhengyun.infrastructure.tests.test_drivers import needs_libvirt
from zhengyun.infrastructure.tests.test_drivers_libvirt import (
    DOMAIN_SCHEMA,
    NWFILTER_SCHEMA,
    needs_xmllint,
    schema_errors,
)
from zhengyun.testing.lifecycle import build_crash_room, order

pytestmark = pytest.mark.django_db

SIMULATOR = "sim://memory?hosts=2&vcpus=8&memory_mb=16384&disk_gb=500"


@pytest.fixture(
    params=[
        pytest.param(("simulator", SIMULATOR), id="simulator"),
        pytest.param(("libvirt", "test:///default"), id="libvirt", marks=needs_libvirt),
    ]
)
def room(request, world):
    """One pool on the hypervisor with department A's subnet; the guests and networks the
    test made are removed after it."""
    driver, uri = request.param
    made = build_crash_room(world, driver=driver, uri=uri)
    hypervisor = connections.driver_for(driver, uri)
    before = {guest.name for guest in hypervisor.guests()}
    yield made
    for guest in hypervisor.guests():
        if guest.name not in before:
            hypervisor.delete(guest.name)
    for network in hypervisor.networks():
        hypervisor.remove_network(network)
    connections.driver_for.cache_clear()


def hypervisor(instance):
    instance.refresh_from_db()
    provider = instance.host.provider
    return connections.driver_for(provider.driver, provider.uri)


def built(world, room, name, subnet=None):
    instance = order(world, room, name) if subnet is None else _order_in(world, room, name, subnet)
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE
    return Instance.objects.get(pk=instance.pk)


def _order_in(world, room, name, subnet):
    staff = world.staff_a if subnet.department_id == world.department_a.pk else world.staff_b
    return infrastructure.create_instance(
        actor=staff,
        department=subnet.department,
        name=name,
        flavour=room.flavour,
        image=room.image,
        subnet=subnet,
    )


def department_b_subnet(world):
    network = infrastructure.create_network(
        actor=world.staff_b,
        department=world.department_b,
        name="乙网",
        reach=NetworkReach.GOV_EXTRANET,
    )
    # The same range as department A's: departments' ranges may overlap.
    return infrastructure.create_subnet(
        actor=world.staff_b, network=network, name="乙段", cidr="10.9.0.0/24"
    )


def test_an_instance_is_plugged_into_its_network_with_its_ports_mac(world, room):
    instance = built(world, room, "web")
    (port,) = instance.ports.select_related("subnet__network")
    network = room.subnet.network
    assert port.subnet.network == network
    assert hypervisor(instance).guest_nics(str(instance.uuid)) == [
        Nic(mac=port.mac, network=str(network.uuid))
    ]
    assert str(network.uuid) in hypervisor(instance).networks(instance.host.name)


def test_an_instance_without_an_address_has_no_interface(world, room):
    instance = infrastructure.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name="bare",
        flavour=room.flavour,
        image=room.image,
    )
    lifecycle.build(instance.pk)
    assert hypervisor(instance).guest_nics(str(instance.uuid)) == []


def test_one_networks_instances_are_connected_and_two_departments_are_not(world, room):
    web, database = built(world, room, "web"), built(world, room, "db")
    stranger = built(world, room, "stranger", subnet=department_b_subnet(world))
    driver = hypervisor(web)
    names = {i: str(i.uuid) for i in (web, database, stranger)}
    if hasattr(driver, "neighbours"):  # the simulator answers for its segments
        assert driver.neighbours(names[web]) == {names[database]}
        assert driver.neighbours(names[stranger]) == set()
        return
    # On libvirt: the same libvirt network for one platform network, another for the other,
    # each on a bridge of its own.
    connection = driver._conn()
    networks = {
        instance: libvirt_xml.interfaces(connection.lookupByName(name).XMLDesc(0))[0][1]
        for instance, name in names.items()
    }
    assert networks[web] == networks[database] != networks[stranger]
    bridges = {connection.networkLookupByName(n).bridgeName() for n in networks.values()}
    assert len(bridges) == 2


def test_a_retried_build_plugs_in_no_second_interface_or_network(world, room):
    instance = built(world, room, "web")
    instance.status = InstanceStatus.BUILDING  # as a build killed before it was marked
    instance.save(update_fields=["status"])
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE
    driver = hypervisor(instance)
    assert len(driver.guest_nics(str(instance.uuid))) == 1
    assert driver.networks().count(str(room.subnet.network.uuid)) == 1


# libvirt's test driver is one host and cannot migrate.
@pytest.mark.parametrize("room", [("simulator", SIMULATOR)], indirect=True, ids=["simulator"])
def test_a_guests_network_is_made_on_the_host_it_moves_to(world, room):
    instance = built(world, room, "web")
    source = instance.host
    migration = maintenance.migrate_instance(instance, actor=world.operator)
    maintenance.migrate(migration.pk)
    instance.refresh_from_db()
    assert instance.host != source
    driver = hypervisor(instance)
    assert str(room.subnet.network.uuid) in driver.networks(instance.host.name)
    assert [nic.mac for nic in driver.guest_nics(str(instance.uuid))] == [instance.ports.get().mac]


def delete_everything(world, room, *instances):
    for instance in instances:
        infrastructure.delete_instance(instance, actor=world.staff_a)
        lifecycle.destroy(instance.pk)
    infrastructure.delete_subnet(room.subnet, actor=world.staff_a)
    infrastructure.delete_network(room.subnet.network, actor=world.staff_a)


def test_deleting_the_last_guest_then_the_network_leaves_no_network_behind(world, room):
    first, second = built(world, room, "web"), built(world, room, "db")
    driver, network = hypervisor(first), str(room.subnet.network.uuid)
    delete_everything(world, room, first, second)
    assert reconcile_networks_task.call_local() == 1  # what the deletion's job does
    assert network not in driver.networks()
    event = AuditEvent.objects.filter(action="infrastructure.remove_virtual_network").get()
    assert event.detail == f"network={network}"
    assert reconcile_networks_task.call_local() == 0  # nothing left to do


def test_a_removal_that_failed_is_done_by_the_reconciler(world, room):
    instance = built(world, room, "web")
    driver, network = hypervisor(instance), str(room.subnet.network.uuid)
    # A guest the platform does not know is plugged into the network on the hypervisor.
    orphan = GuestSpec("orphan-of-a-test", 1, 128, 0, nics=(Nic("52:54:00:77:00:01", network),))
    driver.define(instance.host.name, orphan)
    delete_everything(world, room, instance)
    assert reconcile_networks_task.call_local() == 0  # left while a guest is plugged in
    assert network in driver.networks()
    driver.delete(orphan.name)
    assert reconcile_networks_task.call_local() == 1
    assert network not in driver.networks()


@needs_libvirt
@needs_xmllint
@pytest.mark.parametrize("room", [("libvirt", "test:///default")], indirect=True, ids=["libvirt"])
def test_the_security_groups_filter_lands_on_the_guests_real_interface(world, room, tmp_path):
    instance = built(world, room, "web")
    # The test driver has no network filters: the build says so on the instance.
    assert "virNWFilterDefineXML" in instance.firewall_detail
    name = str(instance.uuid)
    held = hypervisor(instance)._conn().lookupByName(name).XMLDesc(0)
    filter_name = libvirt_firewall.filter_name(name)
    (changed,) = libvirt_firewall.interfaces_to_filter(held, filter_name)
    interface = ET.fromstring(changed)
    assert interface.find("mac").get("address") == instance.ports.get().mac
    assert interface.find("source").get("network") == libvirt_xml.network_name(
        str(room.subnet.network.uuid)
    )
    assert interface.find("filterref").get("filter") == filter_name
    domain = ET.fromstring(held)
    devices = domain.find("devices")
    devices.remove(devices.find("interface"))
    devices.append(interface)
    assert schema_errors(DOMAIN_SCHEMA, ET.tostring(domain, encoding="unicode"), tmp_path) == ""
    rules = firewalls.resolve(instance)
    assert rules  # the default group's
    own = [instance.ports.get().address]
    filter_xml = libvirt_firewall.filter_xml(name, rules, own)
    assert schema_errors(NWFILTER_SCHEMA, filter_xml, tmp_path) == ""
    assert f'arpsrcipaddr="{own[0]}"' in filter_xml
