"""The hypervisor side of a resize, run by the worker as a durable job (design rule 5).

``advance_resize`` holds the instance's row and then the resize's, asks the hypervisor
where the guest is and how large, and does only what is still owed: on another host, stop
the guest, move it and (below) start it again; then set the new vCPUs and memory and start
it if it was running. Every driver call is idempotent, and the platform's figures move in
the same transaction as the statuses, so a worker killed at any line and the job run again
finishes the resize, or gives it back, exactly once:

- done: the quota of every figure that shrank is given back, and the old claim — the
  shrinkage on the same host, the whole old size on the host left — is released;
- a driver refusal: the resize is marked ``reverting`` in a commit of its own, then the
  guest is put back as it was (size, host, running or not), the growth taken from the
  quota and the new claim are given back, and the instance returns to its old size and
  state with the refusal shown on it. Should putting it back fail too, the resize stays
  reverting, the failure shown, for the reconciler to try again.
"""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.audit.models import AuditResult
from zhengyun.audit.services import record
from zhengyun.infrastructure import guest_networks, placement, quotas
from zhengyun.infrastructure.choices import InstanceStatus, ResizeStatus
from zhengyun.infrastructure.connections import driver_for
from zhengyun.infrastructure.drivers.base import DriverError
from zhengyun.infrastructure.models import Instance, InstanceResize
from zhengyun.infrastructure.models.resize import OPEN
from zhengyun.infrastructure.resize import sizes
from zhengyun.jobs.crash_points import crash_point

logger = logging.getLogger(__name__)


def _driver(host):
    return driver_for(host.provider.driver, host.provider.uri)


def advance_resize(resize_id):
    """Carry out or give back the open resize ``resize_id``; the status it ends in."""
    status = _step(resize_id)
    if status == ResizeStatus.REVERTING:
        crash_point("resize.refused")
        status = _step(resize_id)
    return status


def _step(resize_id):
    """One commit's work: the resize carried out, or refused and marked reverting (kept
    even if the worker dies next, so a refusal is never retried into a success the
    department was told had failed), or put back."""
    instance_id = (
        InstanceResize.objects.filter(pk=resize_id).values_list("instance", flat=True).first()
    )
    with transaction.atomic():
        # The instance's row first, as the build, delete and migration jobs lock it.
        instance = Instance.objects.select_for_update(of=("self",)).filter(pk=instance_id).first()
        resize = (
            InstanceResize.objects.select_for_update(of=("self",))
            .select_related("source__provider", "target__provider", "new_flavour")
            .filter(pk=resize_id)
            .first()
        )
        if instance is None or resize is None:
            return "missing"
        name = str(instance.uuid)
        if resize.status == ResizeStatus.RESIZING:
            crash_point("resize.locked")
            try:
                _carry_out(resize, name)
            except DriverError as exc:
                logger.warning("resizing %s failed: %s", instance.uuid, exc)
                return _finish(resize, ResizeStatus.REVERTING, str(exc), finished=False)
            return _complete(instance, resize)
        if resize.status == ResizeStatus.REVERTING:
            try:
                _put_back(resize, name)
            except DriverError as again:  # left reverting: the reconciler tries again
                logger.warning("restoring %s failed: %s", instance.uuid, again)
                instance.status_detail = str(again)[:300]
                instance.save(update_fields=["status_detail"])
                return resize.status
            return _give_back(instance, resize, resize.detail)
        return resize.status


def _carry_out(resize, name):
    old, new = sizes(resize)
    driver = _driver(resize.target)
    # The hypervisor is the truth: a step killed after the move is not moved twice.
    if resize.moves and driver.guest(name).host != resize.target.name:
        source = _driver(resize.source)
        source.stop(name)
        crash_point("resize.stopped")
        guest_networks.prepare_host(resize.instance, resize.target)
        source.live_migrate(name, resize.target.name)
        crash_point("resize.moved")
    driver.resize(name, new.vcpus, new.memory_mb)
    crash_point("resize.resized")
    if resize.resume == InstanceStatus.ACTIVE:
        driver.start(name)
        crash_point("resize.started")
    if new.disk_gb > old.disk_gb:
        # The very last step, since a disk never shrinks: a resize put back before it has
        # grown nothing. Growing again is harmless.
        grown = driver.grow_disk(name, new.disk_gb)
        if 0 < grown < new.disk_gb:
            raise DriverError(f"The disk of guest {name} stayed at {grown} GB.")


def _put_back(resize, name):
    """The guest as it was before the resize: its old size, on its old host, running if it
    was."""
    old, _new = sizes(resize)
    source, target = _driver(resize.source), _driver(resize.target)
    if resize.moves and target.guest(name).host == resize.target.name:
        target.stop(name)
        guest_networks.prepare_host(resize.instance, resize.source)
        target.live_migrate(name, resize.source.name)
        crash_point("resize.moved_back")
    guest = source.guest(name)
    if (guest.vcpus, guest.memory_mb) != (old.vcpus, old.memory_mb):
        source.resize(name, old.vcpus, old.memory_mb)
    if resize.resume == InstanceStatus.ACTIVE:
        source.start(name)
    crash_point("resize.put_back")


def _complete(instance, resize):
    old, new = sizes(resize)
    # Quota before host: the order every job and service locks them in.
    quotas.give_back(instance.department, old.beyond(new).quota_amounts())
    crash_point("resize.quota_settled")
    placement.release(resize.source, old if resize.moves else old.beyond(new))
    crash_point("resize.host_released")
    before = {"flavour": instance.flavour_id, "host": instance.host_id}
    instance.flavour = resize.new_flavour
    instance.vcpus, instance.memory_mb, instance.disk_gb = new.vcpus, new.memory_mb, new.disk_gb
    instance.host = resize.target
    instance.status, instance.status_detail = resize.resume, ""
    instance.save(
        update_fields=[
            "flavour",
            "vcpus",
            "memory_mb",
            "disk_gb",
            "host",
            "status",
            "status_detail",
        ]
    )
    record(
        actor=None,
        action="infrastructure.resize_instance",
        obj=instance,
        changes={
            "flavour": [before["flavour"], resize.new_flavour_id],
            "host": [before["host"], resize.target_id],
            "status": [InstanceStatus.RESIZING, resize.resume],
        },
    )
    status = _finish(resize, ResizeStatus.DONE, "")
    crash_point("resize.marked")
    return status


def _give_back(instance, resize, error):
    old, new = sizes(resize)
    quotas.give_back(instance.department, new.beyond(old).quota_amounts())
    placement.release(resize.target, new if resize.moves else new.beyond(old))
    crash_point("resize.claims_returned")
    reason = _("Resizing to %(flavour)s failed, the old size is kept: %(error)s") % {
        "flavour": resize.new_flavour,
        "error": error,
    }
    instance.status, instance.status_detail = resize.resume, reason[:300]
    instance.save(update_fields=["status", "status_detail"])
    record(
        actor=None,
        action="infrastructure.resize_instance",
        obj=instance,
        result=AuditResult.FAILED,
        detail=reason[:500],
    )
    return _finish(resize, ResizeStatus.FAILED, reason)


def _finish(resize, status, detail, finished=True):
    resize.status, resize.detail = status, detail[:300]
    resize.finished_at = timezone.now() if finished else None
    resize.save(update_fields=["status", "detail", "finished_at"])
    return status


def unfinished():
    """Ids of the resizes a job still has to carry out or give back."""
    return list(InstanceResize.objects.filter(status__in=OPEN).values_list("pk", flat=True))
