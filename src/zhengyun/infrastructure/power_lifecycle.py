"""The hypervisor side of starting, stopping and rebooting an instance, run by the worker
as a durable job (design rule 5, R-I3).

``advance`` holds the instance's row, asks the hypervisor how its guest is, does only what
is still owed and settles the status in the same transaction: a guest found stopped
already counts as stopped, one found running as started. A worker killed at any line
leaves the instance stopping, starting or rebooting, and the step run again (by the
queue's retry or the minute's reconciler) finishes it; a reboot killed after the driver's
call may restart the guest once more, which the guest sees as one more restart and nothing
worse. A hypervisor's refusal returns the instance to the state it started from with the
refusal shown, so it is never left in a transitional state.
"""

import logging

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zhengyun.audit.models import AuditResult
from zhengyun.audit.services import record
from zhengyun.infrastructure.choices import InstanceStatus
from zhengyun.infrastructure.connections import driver_for
from zhengyun.infrastructure.drivers.base import DriverError, GuestState
from zhengyun.infrastructure.instance_power import TRANSITIONS
from zhengyun.infrastructure.models import Instance
from zhengyun.jobs.crash_points import crash_point

logger = logging.getLogger(__name__)

FAILURES = {
    InstanceStatus.STOPPING: _("Stopping failed, the instance is still running: %(error)s"),
    InstanceStatus.STARTING: _("Starting failed, the instance is still stopped: %(error)s"),
    InstanceStatus.REBOOTING: _("Rebooting failed: %(error)s"),
}


def advance(instance_id):
    """Carry out the power change ``instance_id`` is marked for; the status it ends in."""
    with transaction.atomic():
        instance = (
            Instance.objects.select_for_update(of=("self",))
            .select_related("host__provider")
            .filter(pk=instance_id)
            .first()
        )
        if instance is None:
            return "missing"
        if instance.status not in TRANSITIONS:  # done already, or deleted meanwhile
            return instance.status
        crash_point("power.locked")
        started_from, ends_in = TRANSITIONS[instance.status]
        try:
            _carry_out(instance)
        except DriverError as exc:
            logger.warning("%s of %s failed: %s", instance.status, instance.uuid, exc)
            _settle(instance, started_from, str(exc))
        else:
            _settle(instance, ends_in, "")
        crash_point("power.marked")
        return instance.status


def _carry_out(instance):
    provider = instance.host.provider
    driver = driver_for(provider.driver, provider.uri)
    name = str(instance.uuid)
    # The hypervisor is the truth: a step run again does not repeat what is done.
    running = driver.guest(name).state == GuestState.RUNNING
    crash_point("power.asked")
    if instance.status == InstanceStatus.STOPPING:
        if running:
            driver.stop(name)  # gracefully, then forced, as the driver promises
            crash_point("power.stopped")
    elif instance.status == InstanceStatus.STARTING:
        if not running:
            driver.start(name)
            crash_point("power.started")
    else:
        if running:
            driver.reboot(name)
        else:  # stopped behind the platform's back: starting it is what was asked
            driver.start(name)
        crash_point("power.rebooted")


def _settle(instance, status, error):
    transitional = instance.status
    detail = FAILURES[transitional] % {"error": error} if error else ""
    instance.status, instance.status_detail = status, detail[:300]
    instance.save(update_fields=["status", "status_detail"])
    record(
        actor=None,
        action="infrastructure.instance_status",
        obj=instance,
        changes={"status": [transitional, status]},
        result=AuditResult.FAILED if error else AuditResult.SUCCESS,
        detail=detail[:500],
    )


def unfinished():
    """Ids of the instances still stopping, starting or rebooting."""
    return list(Instance.objects.filter(status__in=list(TRANSITIONS)).values_list("pk", flat=True))
