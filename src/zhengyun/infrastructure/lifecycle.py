"""The hypervisor side of an instance's life, run by the worker as durable jobs (design
rule 5).

Each step is idempotent and starts by reading the instance's state: a worker killed at any
line and the step run again (by the queue's retry or the minute's reconciler) ends where
an uninterrupted run would have — no guest left on a hypervisor without its instance, no
claim or quota kept for a deleted one, no instance without a visible state. Defining a
guest is idempotent in every driver (keyed by the instance's UUID), and so is making the
networks its interfaces plug into, which the driver does first; deleting a missing guest is
not an error.
"""

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from zhengyun.audit.services import record
from zhengyun.infrastructure import (
    addresses,
    config_drive,
    firewalls,
    guest_networks,
    host_power,
    placement,
    quotas,
    volume_lifecycle,
)
from zhengyun.infrastructure.choices import InstanceStatus
from zhengyun.infrastructure.connections import driver_for
from zhengyun.infrastructure.drivers.base import DriverError, GuestSpec
from zhengyun.infrastructure.models import Instance
from zhengyun.jobs.crash_points import crash_point

logger = logging.getLogger(__name__)


def _driver(instance):
    provider = instance.host.provider
    return driver_for(provider.driver, provider.uri)


def _spec(instance):
    nics = guest_networks.nics(instance)
    return GuestSpec(
        name=str(instance.uuid),
        vcpus=instance.vcpus,
        memory_mb=instance.memory_mb,
        disk_gb=instance.disk_gb,
        image=instance.image.reference,
        nics=nics,
        # A guest learns its addresses and SSH key from its config drive (no DHCP runs).
        config_drive=config_drive.for_instance(instance) if nics or instance.key_pair else b"",
    )


def _locked(instance_id):
    return (
        Instance.objects.select_for_update(of=("self",))
        .select_related("host__provider", "image", "key_pair")
        .filter(pk=instance_id)
        .first()
    )


def build(instance_id):
    """Define and start the guest of a building instance; its status says how it ended.

    The instance's row stays locked meanwhile, so a deletion ordered now waits for the
    build and then removes what it made, rather than racing it into an orphan.
    """
    powered, refused = _host_powered(instance_id)
    with transaction.atomic():
        instance = _locked(instance_id)
        if instance is None or instance.status != InstanceStatus.BUILDING:
            return instance.status if instance else "missing"
        crash_point("build.locked")
        if refused is not None:
            _set_status(instance, InstanceStatus.ERROR, str(refused))
            return instance.status
        if not powered:
            _wait_for_host(instance)
            return instance.status
        try:
            driver = _driver(instance)
            guest_networks.prepare_host(instance, instance.host)
            driver.define(instance.host.name, _spec(instance))
            crash_point("build.defined")
            firewalls.give_rules(instance, driver)  # before the guest first takes traffic
            crash_point("build.firewall_applied")
            driver.start(str(instance.uuid))
            crash_point("build.started")
        except DriverError as exc:
            if _explained_by_power(instance.host):
                _wait_for_host(instance)  # its hypervisor is not up yet: the next minute
                return instance.status
            logger.warning("building %s failed: %s", instance.uuid, exc)
            _set_status(instance, InstanceStatus.ERROR, str(exc))
        else:
            _set_status(instance, InstanceStatus.ACTIVE, "")
        crash_point("build.marked")
        return instance.status


def destroy(instance_id):
    """Delete the guest of a deleting instance (which detaches its volumes), then give back
    its addresses, its quota and its host claim."""
    with transaction.atomic():
        instance = _locked(instance_id)
        if instance is None or instance.status != InstanceStatus.DELETING:
            return instance.status if instance else "missing"
        crash_point("destroy.locked")
        if instance.host is not None:
            try:
                _driver(instance).delete(str(instance.uuid))
                crash_point("destroy.deleted")
            except DriverError as exc:  # left deleting: the reconciler tries again
                logger.warning("deleting %s failed: %s", instance.uuid, exc)
                instance.status_detail = str(exc)[:300]
                instance.save(update_fields=["status_detail"])
                return instance.status
            volume_lifecycle.detached_with(instance)
            crash_point("destroy.volumes_detached")
        addresses.release(instance)
        firewalls.mark_address_change(instance)  # peers stop letting its address in
        crash_point("destroy.addresses_released")
        quotas.give_back(instance.department, quotas.of_instance(instance))
        crash_point("destroy.quota_returned")
        # The host row last: every job and service locks instance or volume, then quota,
        # then host, so two of them never wait on each other in a circle.
        if instance.host is not None:
            placement.release(instance.host, instance)
            crash_point("destroy.host_released")
        _set_status(instance, InstanceStatus.DELETED, "")
        crash_point("destroy.marked")
        return instance.status


def _host_powered(instance_id):
    """``(whether the instance's host may be used, a BMC's refusal or None)``, asked before
    the build's transaction so that no row is held while the BMC answers."""
    instance = Instance.objects.select_related("host").filter(pk=instance_id).first()
    if instance is None or instance.host is None:
        return True, None
    try:
        return host_power.ready(instance.host), None
    except DriverError as exc:
        return False, exc


def _explained_by_power(host):
    """Whether a hypervisor that did not answer is a host still booting, or one found off
    and now powered on: the build waits rather than fails."""
    try:
        return host_power.booting(host) or not host_power.ready(host, ask=True)
    except DriverError:
        return False


def _wait_for_host(instance):
    """Keep building, saying why, while the instance's host powers on; the minute's
    reconciler runs the build again."""
    detail = _("Waiting for host %(host)s to power on.") % {"host": instance.host}
    if instance.status_detail != detail:
        instance.status_detail = detail
        instance.save(update_fields=["status_detail"])


def _set_status(instance, status, detail):
    instance.status, instance.status_detail = status, detail[:300]
    instance.save(update_fields=["status", "status_detail"])
    record(
        actor=None,
        action="infrastructure.instance_status",
        obj=instance,
        changes={"status": [None, status]},
        detail=detail[:500],
    )


def unfinished():
    """``(id, status)`` of the instances a job still has to move on: building or deleting."""
    return list(
        Instance.objects.filter(
            status__in=[InstanceStatus.BUILDING, InstanceStatus.DELETING]
        ).values_list("pk", "status")
    )
