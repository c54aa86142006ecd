"""The hypervisor side of volumes and snapshots, run by the worker (design rule 5).

``advance_volume`` and ``advance_snapshot`` do the step the record's status asks for —
create, attach, detach or delete — holding the record's row lock, and are safe to run again
at any point: the driver's operations are idempotent by name (the platform's UUID), and the
platform's figures move in the same transaction as the status. A driver failure on the way
out (detach, delete) leaves the status as it was for the reconciler to try again; on the way
in (create, attach) it is shown on the record.
"""

import logging

from django.db import transaction

from zhengyun.audit.services import record
from zhengyun.infrastructure import placement, quotas
from zhengyun.infrastructure.choices import InstanceStatus, VolumeStatus
from zhengyun.infrastructure.connections import driver_for
from zhengyun.infrastructure.drivers.base import DriverError, VolumeSpec
from zhengyun.infrastructure.models import Snapshot, Volume
from zhengyun.jobs.crash_points import crash_point

logger = logging.getLogger(__name__)

TRANSITIONAL = (
    VolumeStatus.CREATING,
    VolumeStatus.ATTACHING,
    VolumeStatus.DETACHING,
    VolumeStatus.DELETING,
)


def _driver(host):
    return driver_for(host.provider.driver, host.provider.uri)


def _set(obj, status, detail="", **changes):
    obj.status, obj.status_detail = status, detail[:300]
    for field, value in changes.items():
        setattr(obj, field, value)
    obj.save()
    record(
        actor=None,
        action=f"infrastructure.{obj._meta.model_name}_status",
        obj=obj,
        changes={"status": [None, status]},
        detail=detail[:500],
    )
    return status


def advance_volume(volume_id):
    """Carry out the step ``volume_id``'s status asks for; the status it ends in."""
    with transaction.atomic():
        volume = (
            Volume.objects.select_for_update(of=("self",))
            .select_related("host__provider", "instance", "source")
            .filter(pk=volume_id)
            .first()
        )
        if volume is None:
            return "missing"
        step = _VOLUME_STEPS.get(volume.status)
        if step is None:
            return volume.status
        try:
            return step(volume, _driver(volume.host))
        except DriverError as exc:
            logger.warning("volume %s (%s) failed: %s", volume.uuid, volume.status, exc)
            if volume.status in (VolumeStatus.DETACHING, VolumeStatus.DELETING):
                volume.status_detail = str(exc)[:300]
                volume.save(update_fields=["status_detail"])
                return volume.status
            if volume.status == VolumeStatus.ATTACHING:
                return _set(volume, VolumeStatus.AVAILABLE, str(exc), instance=None)
            return _set(volume, VolumeStatus.ERROR, str(exc))


def _create(volume, driver):
    source = str(volume.source.uuid) if volume.source else ""
    driver.create_volume(
        volume.host.name, VolumeSpec(name=str(volume.uuid), size_gb=volume.size_gb, snapshot=source)
    )
    crash_point("volume.created")
    instance = volume.instance
    if instance is None:
        return _set(volume, VolumeStatus.AVAILABLE)
    if instance.status in (InstanceStatus.BUILDING, InstanceStatus.RESIZING):
        return volume.status  # made; attached once the guest exists or settles (the reconciler)
    if instance.status not in (InstanceStatus.ACTIVE, InstanceStatus.STOPPED):
        return _set(volume, VolumeStatus.AVAILABLE, instance=None)
    return _attach(volume, driver)


def _attach(volume, driver):
    attached = driver.attach_volume(str(volume.instance.uuid), str(volume.uuid))
    crash_point("volume.attached")
    return _set(volume, VolumeStatus.IN_USE, attached.device)


def _detach(volume, driver):
    if volume.instance is not None:
        driver.detach_volume(str(volume.instance.uuid), str(volume.uuid))
        crash_point("volume.detached")
    return _set(volume, VolumeStatus.AVAILABLE, instance=None)


def _delete(volume, driver):
    driver.delete_volume(str(volume.uuid))
    crash_point("volume.deleted")
    # Quota before host: the order every job and service locks them in.
    quotas.give_back(volume.department, {"volumes": 1, "disk_gb": volume.size_gb})
    crash_point("volume.quota_returned")
    placement.release_disk(volume.host, volume.size_gb)
    return _set(volume, VolumeStatus.DELETED)


_VOLUME_STEPS = {
    VolumeStatus.CREATING: _create,
    VolumeStatus.ATTACHING: _attach,
    VolumeStatus.DETACHING: _detach,
    VolumeStatus.DELETING: _delete,
}


def advance_snapshot(snapshot_id):
    """Take or delete the snapshot as its status asks; the status it ends in."""
    with transaction.atomic():
        snap = (
            Snapshot.objects.select_for_update(of=("self",))
            .select_related("host__provider", "volume")
            .filter(pk=snapshot_id)
            .first()
        )
        if snap is None:
            return "missing"
        driver = _driver(snap.host)
        try:
            if snap.status == VolumeStatus.CREATING:
                driver.snapshot_volume(str(snap.volume.uuid), str(snap.uuid))
                crash_point("snapshot.taken")
                return _set(snap, VolumeStatus.AVAILABLE)
            if snap.status == VolumeStatus.DELETING:
                driver.delete_snapshot(str(snap.uuid))
                crash_point("snapshot.deleted")
                quotas.give_back(snap.department, {"disk_gb": snap.size_gb})
                crash_point("snapshot.quota_returned")
                placement.release_disk(snap.host, snap.size_gb)
                return _set(snap, VolumeStatus.DELETED)
        except DriverError as exc:
            logger.warning("snapshot %s (%s) failed: %s", snap.uuid, snap.status, exc)
            if snap.status == VolumeStatus.DELETING:
                snap.status_detail = str(exc)[:300]
                snap.save(update_fields=["status_detail"])
                return snap.status
            return _set(snap, VolumeStatus.ERROR, str(exc))
        return snap.status


def detached_with(instance):
    """Record that deleting ``instance``'s guest detached its volumes (the drivers keep a
    deleted guest's volumes), so they can be attached elsewhere or deleted."""
    attached = (VolumeStatus.ATTACHING, VolumeStatus.IN_USE, VolumeStatus.DETACHING)
    for volume in Volume.objects.select_for_update(of=("self",)).filter(
        instance=instance, status__in=attached
    ):
        _set(volume, VolumeStatus.AVAILABLE, instance=None)


def unfinished():
    """``(kind, id)`` of the volumes and snapshots a step is still owed to."""
    volumes = Volume.objects.filter(status__in=TRANSITIONAL).values_list("pk", flat=True)
    snapshots = Snapshot.objects.filter(status__in=TRANSITIONAL).values_list("pk", flat=True)
    return [("volume", pk) for pk in volumes] + [("snapshot", pk) for pk in snapshots]
