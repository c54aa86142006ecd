"""Hosts a consolidation emptied are powered down through their BMC, and powered on again
when placement gives them an instance (R-G3: a host in standby draws nothing; R-I4).

Power follows the database, never the other way round:

- A host is powered down only while its row is locked, in standby and empty. Placement's
  claim takes a host out of standby in the same row, so a claim either waits for the power
  down and finds the host off, or takes the host first and the power down leaves it alone.
- A build on a host with a BMC asks the BMC first. A host found off is powered on and the
  build waits, each minute, while it boots (``ZHENGYUN_HOST_BOOT_MINUTES``), so a worker
  killed after either request, or a host switched off by hand, is seen as it is.
- Every few minutes the hosts in standby that are empty and still on are powered down, so
  a power down lost with a killed worker is done again.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.audit.models import AuditResult
from zhengyun.audit.services import record
from zhengyun.core import crud
from zhengyun.core.services import service
from zhengyun.infrastructure.choices import HostPower
from zhengyun.infrastructure.models import Host
from zhengyun.infrastructure.redfish import Bmc, BmcError
from zhengyun.jobs.crash_points import crash_point

logger = logging.getLogger(__name__)

BMC_FIELDS = {"bmc_url", "bmc_username", "bmc_password"}
ARGUMENTS = {"bmc_url": "url", "bmc_username": "username", "bmc_password": "password"}


@service("infrastructure.set_host_bmc")
def set_host_bmc(host, *, actor, url, username, password):
    """Give ``host`` the Redfish system through which it is powered down and on, checked by
    reading its power state; an empty ``url`` takes the BMC away (the host then stays on)."""
    locked = Host.objects.select_for_update().get(pk=host.pk)
    changes = {"bmc_url": url, "bmc_username": username if url else "", "bmc_password": ""}
    if url:
        changes["bmc_password"] = password or (locked.bmc_password if url == locked.bmc_url else "")
    try:
        crud.update(actor, locked, "infrastructure.set_host_bmc", changes, BMC_FIELDS)
    except ValidationError as exc:  # named as the caller named them
        raise ValidationError(
            {ARGUMENTS.get(name, name): errors for name, errors in exc.message_dict.items()}
        ) from exc
    if url:
        try:
            Bmc.of(locked).power_state()
        except BmcError as exc:
            raise ValidationError({"url": str(exc)}) from exc
    return locked


def idle_standby_hosts():
    """Primary keys of the hosts in standby, empty, on, with a BMC: those to power down."""
    return list(
        Host.objects.filter(
            standby=True,
            used_vcpus=0,
            used_memory_mb=0,
            used_disk_gb=0,
            power_state=HostPower.ON,
        )
        .exclude(bmc_url="")
        .values_list("pk", flat=True)
    )


def power_down(host_id):
    """Power the host down if it is still in standby and empty; its power state after."""
    with transaction.atomic():
        host = Host.objects.select_for_update().filter(pk=host_id).first()
        if host is None or not host.bmc_url:
            return None
        empty = not (host.used_vcpus or host.used_memory_mb or host.used_disk_gb)
        if not host.standby or not empty or host.power_state == HostPower.OFF:
            return host.power_state
        crash_point("host_power.locked")
        bmc = Bmc.of(host)
        try:
            # Off already: a worker killed after asking, or someone at the machine.
            if bmc.power_state() != "Off":
                bmc.reset("GracefulShutdown")
        except BmcError as exc:
            logger.warning("powering %s down failed: %s", host, exc)
            _record(host, "infrastructure.power_down_host", str(exc), AuditResult.FAILED)
            return host.power_state
        crash_point("host_power.requested")
        _set_power(host, HostPower.OFF, "infrastructure.power_down_host")
        return host.power_state


def ready(host):
    """Whether ``host``'s hypervisor may be used now. A host with a BMC is asked first: one
    found off is powered on, and the caller waits for it to boot; ``BmcError`` when it has
    not come up in ``ZHENGYUN_HOST_BOOT_MINUTES``."""
    if not host.bmc_url:
        return True
    # Builds of two instances on one host: one powers it on, the other sees it starting.
    Host.objects.select_for_update().filter(pk=host.pk).exists()
    host.refresh_from_db(fields=["power_state", "power_changed_at"])
    bmc = Bmc.of(host)
    state = bmc.power_state()
    if state == "On":
        if host.power_state != HostPower.ON:
            _set_power(host, HostPower.ON, "infrastructure.power_on_host")
        return True
    if host.power_state != HostPower.STARTING:
        bmc.reset("On")
        crash_point("host_power.on_requested")
        _set_power(host, HostPower.STARTING, "infrastructure.power_on_host")
    elif not booting(host):
        raise BmcError(
            _("Host %(host)s did not power on within %(minutes)d minutes.")
            % {"host": host, "minutes": settings.ZHENGYUN_HOST_BOOT_MINUTES}
        )
    return False


def booting(host):
    """Whether ``host`` was powered on lately enough that its hypervisor may still be
    starting: a build failing to reach it waits rather than fails."""
    if not host.bmc_url or host.power_state == HostPower.OFF or host.power_changed_at is None:
        return False
    boot = timedelta(minutes=settings.ZHENGYUN_HOST_BOOT_MINUTES)
    return timezone.now() - host.power_changed_at < boot


def _set_power(host, state, action):
    before = host.power_state
    Host.objects.filter(pk=host.pk).update(power_state=state, power_changed_at=timezone.now())
    host.refresh_from_db(fields=["power_state", "power_changed_at"])
    _record(host, action, "", AuditResult.SUCCESS, {"power_state": [before, state]})


def _record(host, action, detail, result, changes=None):
    record(
        actor=None,
        action=action,
        obj=host,
        result=result,
        changes=changes or {},
        detail=detail[:500],
    )
