"""Instances' network interfaces on the hypervisors, and virtual networks taken off them once
deleted (R-I2, R-I3; design rule 5).

An instance's interfaces are its ports: one per address it was given, with the port's MAC
address, on the port's subnet's network, named by the network's UUID. They are given when
the guest is defined, and ports are made only with the order and taken back only with the
deletion, so a guest's interfaces never change after its build. Before a guest is defined or
moved, its networks are made on the host it goes to, each with its segment number (the VLAN
ID its traffic carries where hosts share an uplink).

A network's segment is made on a host the first time a guest there needs it, and stays until
the platform network is deleted. A network can be deleted only once no subnet is left in it,
and a subnet only once no port is, so by then no guest of the platform is plugged in. The
job the deletion queues removes it from every hypervisor; the hourly reconciler removes any
the platform no longer has — a job a killed worker never finished, a hypervisor that did not
answer. It lists a hypervisor's networks before reading the platform's, so a network made
meanwhile is never taken for a deleted one: a network is on a hypervisor only after its row
was committed, and a deleted network's UUID never comes back.
"""

import logging

from zhengyun.audit.services import record
from zhengyun.infrastructure.connections import driver_for
from zhengyun.infrastructure.drivers.base import DriverError, Nic
from zhengyun.infrastructure.models import ComputeProvider, Network, Port

logger = logging.getLogger(__name__)


def ports(instance):
    """The instance's ports in the order the guest sees its interfaces: as they were given."""
    return Port.objects.filter(instance=instance).order_by("created_at", "pk")


def nics(instance):
    """The instance's interfaces, from its ports."""
    rows = ports(instance).values_list("mac", "subnet__network__uuid")
    return tuple(Nic(mac=mac, network=str(network)) for mac, network in rows)


def prepare_host(instance, host):
    """Make the instance's networks, each with its segment number, on ``host`` before its
    guest is defined or moves there.

    :raises DriverError: the host's hypervisor could not make one.
    """
    driver = driver_for(host.provider.driver, host.provider.uri)
    ports = (
        Port.objects.filter(instance=instance)
        .order_by("created_at", "pk")
        .values_list("subnet__network__uuid", "subnet__network__segment")
    )
    for network, segment in dict.fromkeys(ports):
        driver.ensure_network(host.name, str(network), segment)


def remove_deleted():
    """The job: take every network the platform no longer has off every hypervisor that
    answers; how many were removed. A network a guest is still plugged into — one the
    platform does not know — is left, and logged."""
    removed = 0
    for provider in ComputeProvider.objects.order_by("pk"):
        driver = driver_for(provider.driver, provider.uri)
        try:
            present = driver.networks()
        except DriverError as exc:
            logger.warning("networks of provider %s unreadable: %s", provider.name, exc)
            continue
        known = {str(uuid) for uuid in Network.objects.values_list("uuid", flat=True)}
        for network in present:
            if network in known:
                continue
            try:
                driver.remove_network(network)
            except DriverError as exc:
                logger.warning("network %s stays on %s: %s", network, provider.name, exc)
                continue
            record(
                actor=None,
                action="infrastructure.remove_virtual_network",
                obj=provider,
                detail=f"network={network}",
            )
            removed += 1
    return removed
