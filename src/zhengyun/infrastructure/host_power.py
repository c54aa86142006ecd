"""Hosts a consolidation emptied are powered down through their BMC, and powered on again
when placement gives them an instance (R-G3: a host in standby draws nothing; R-I4).

A host's ``power_state`` is the platform's record — on, powering down, powered down,
powering on — and changes only by compare-and-set, so no row stays locked while a BMC is
asked anything and two workers never both act on one change:

- A host goes from on to powering down only while it is in standby and empty: a claim that
  comes later finds it powering down, and the build powers it on again once it is off.
  Every five minutes ``settle`` records hosts seen off as powered down, forces off an empty
  standby host that ignored the shutdown for ``ZHENGYUN_HOST_POWER_MINUTES``, takes back
  into service one claimed meanwhile, and powers down empty standby hosts still on — so a
  worker killed after any request is followed up.
- A build on a host not recorded on asks the BMC before the build's own transaction. A host
  found off is powered on and the build waits, each minute, while it boots; one that has
  not come up in ``ZHENGYUN_HOST_POWER_MINUTES`` fails the builds that waited, and the next
  build asks again. A host recorded on is used without asking; should its hypervisor not
  answer, the BMC is asked then, and a host found off (switched off at the machine) is
  powered on while the build waits.
"""

import logging
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require
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
EMPTY = Q(used_vcpus=0, used_memory_mb=0, used_disk_gb=0)


@service("infrastructure.set_host_bmc")
def set_host_bmc(host, *, actor, url, username, password):
    """Give ``host`` the Redfish system through which it is powered down and on, checked by
    reading its power, which becomes the host's record; an empty ``url`` takes the BMC
    away (the host is then taken to be on, as the platform no longer changes it). The BMC
    is asked before the host's row is locked: a slow BMC holds up no claim on the host."""
    current = Host.objects.get(pk=host.pk)
    require(actor, "change", current)  # before the platform connects anywhere for anyone
    changes = {"bmc_url": url, "bmc_username": username if url else "", "bmc_password": ""}
    if url:
        changes["bmc_password"] = password or (
            current.bmc_password if url == current.bmc_url else ""
        )
    for name, value in changes.items():
        setattr(current, name, value)
    with _named_as_arguments():
        current.full_clean()  # the address is checked before it is connected to
    power = _power_seen(current) if url else HostPower.ON
    locked = Host.objects.select_for_update().get(pk=host.pk)
    with _named_as_arguments():
        crud.update(actor, locked, "infrastructure.set_host_bmc", changes, BMC_FIELDS)
    if locked.power_state != power:
        _change(locked, locked.power_state, power, "infrastructure.set_host_bmc")
    return locked


@contextmanager
def _named_as_arguments():
    """Validation errors named as the caller named the fields."""
    try:
        yield
    except ValidationError as exc:
        raise ValidationError(
            {ARGUMENTS.get(name, name): errors for name, errors in exc.message_dict.items()}
        ) from exc


def _power_seen(host):
    """The power record for what ``host``'s BMC reports."""
    try:
        return HostPower.OFF if Bmc.of(host).power_state() == "Off" else HostPower.ON
    except BmcError as exc:
        field = "password" if exc.status == 401 else "url"
        raise ValidationError({field: exc.message}) from exc


def to_settle():
    """Primary keys of the hosts with a BMC whose power ``settle`` looks after: those not
    recorded on, and empty hosts in standby."""
    return list(
        Host.objects.exclude(bmc_url="")
        .filter(~Q(power_state=HostPower.ON) | (Q(standby=True) & EMPTY))
        .values_list("pk", flat=True)
    )


def settle(host_id):
    """Move the host's power on as its record and its BMC say; its power state after."""
    host = Host.objects.filter(pk=host_id).exclude(bmc_url="").first()
    if host is None:
        return None
    if host.power_state == HostPower.ON:
        return power_down(host_id)
    if host.power_state != HostPower.STOPPING:
        return host.power_state  # powered down, or powering on for a build that waits
    bmc = Bmc.of(host)
    try:
        if bmc.power_state() == "Off":
            _change(host, HostPower.STOPPING, HostPower.OFF, "infrastructure.power_down_host")
        elif _late(host):
            if Host.objects.filter(EMPTY, pk=host.pk, standby=True).exists():
                bmc.reset("ForceOff")  # the shutdown was ignored: the host is still idle
                _change(host, HostPower.STOPPING, HostPower.STOPPING, "")  # restamped
                _record(host, "infrastructure.force_off_host", {})
            else:  # taken by an order meanwhile: in service again
                _change(host, HostPower.STOPPING, HostPower.ON, "infrastructure.power_on_host")
    except BmcError as exc:
        logger.warning("settling the power of %s failed: %s", host, exc)
    return Host.objects.values_list("power_state", flat=True).get(pk=host.pk)


def power_down(host_id):
    """Power the host down if it is on, in standby and empty; its power state after."""
    now = timezone.now()
    marked = (
        Host.objects.filter(EMPTY, pk=host_id, standby=True, power_state=HostPower.ON)
        .exclude(bmc_url="")
        .update(power_state=HostPower.STOPPING, power_changed_at=now)
    )
    host = Host.objects.filter(pk=host_id).first()
    if host is None or not marked:
        return host.power_state if host else None
    _record(
        host, "infrastructure.power_down_host", {"power_state": [HostPower.ON, host.power_state]}
    )
    crash_point("host_power.stopping")
    try:
        bmc = Bmc.of(host)
        if bmc.power_state() != "Off":  # off already: someone at the machine
            bmc.reset("GracefulShutdown")
    except BmcError as exc:
        logger.warning("powering %s down failed: %s", host, exc)
        _change(host, HostPower.STOPPING, HostPower.ON, "infrastructure.power_down_host", str(exc))
    return Host.objects.values_list("power_state", flat=True).get(pk=host.pk)


def ready(host, *, ask=False):
    """Whether ``host``'s hypervisor may be used now. A host recorded on is, unless ``ask``
    has its BMC asked; one found off is powered on, and the caller waits for it to boot.
    ``BmcError`` when the BMC cannot be asked, or the host has not come up in time."""
    host.refresh_from_db(fields=["bmc_url", "power_state", "power_changed_at"])
    if not host.bmc_url or (host.power_state == HostPower.ON and not ask):
        return True
    bmc = Bmc.of(host)
    state = bmc.power_state()
    if state == "On":
        if host.power_state == HostPower.STOPPING and not _late(host):
            return False  # still going down: powered on once it is off
        if host.power_state == HostPower.ON:
            return True
        return _change(host, host.power_state, HostPower.ON, "infrastructure.power_on_host")
    if state == "Off":
        if host.power_state == HostPower.STARTING:
            if not _late(host):
                return False
            _change(host, HostPower.STARTING, HostPower.OFF, "infrastructure.power_on_host")
            raise BmcError(
                _("Host %(host)s did not power on within %(minutes)d minutes.")
                % {"host": host, "minutes": settings.ZHENGYUN_HOST_POWER_MINUTES}
            )
        before = host.power_state
        if _change(host, before, HostPower.STARTING, "infrastructure.power_on_host"):
            try:
                bmc.reset("On")
            except BmcError:
                _change(host, HostPower.STARTING, before, "infrastructure.power_on_host")
                raise
            crash_point("host_power.on_requested")
        return False
    if _late(host):  # "PoweringOn", "PoweringOff" … for too long
        raise BmcError(
            _("Host %(host)s reports its power as %(state)s.") % {"host": host, "state": state}
        )
    return False


def booting(host):
    """Whether ``host`` was powered on lately enough that its hypervisor may still be
    starting: a build failing to reach it waits rather than fails."""
    host.refresh_from_db(fields=["bmc_url", "power_state", "power_changed_at"])
    return bool(host.bmc_url) and host.power_state == HostPower.ON and not _late(host)


def _late(host):
    if host.power_changed_at is None:
        return True
    allowed = timedelta(minutes=settings.ZHENGYUN_HOST_POWER_MINUTES)
    return timezone.now() - host.power_changed_at > allowed


def _change(host, before, after, action, failure=""):
    """Record ``host``'s power as ``after`` if it is still ``before``; whether it was."""
    with transaction.atomic():
        changed = Host.objects.filter(pk=host.pk, power_state=before).update(
            power_state=after, power_changed_at=timezone.now()
        )
        if changed and (before != after or failure):
            changes = {"power_state": [before, after]} if before != after else {}
            _record(host, action, changes, failure)
    host.refresh_from_db(fields=["power_state", "power_changed_at"])
    return bool(changed)


def _record(host, action, changes, failure=""):
    record(
        actor=None,
        action=action,
        obj=host,
        result=AuditResult.FAILED if failure else AuditResult.SUCCESS,
        changes=changes,
        detail=failure[:500],
    )
