"""Business operations on a department's volumes and snapshots (R-I3): ordering them within
quota, attaching, detaching and deleting.

Each takes the acting user as ``actor``, checks permission through the restriction helper,
changes the platform's records in one transaction with its audit event, and leaves the
hypervisor's part to the worker (``volume_lifecycle``), which moves the volume out of the
transitional state the service put it in.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core import crud
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import service
from zhengyun.infrastructure import placement, quotas
from zhengyun.infrastructure.choices import InstanceStatus, VolumeStatus
from zhengyun.infrastructure.models import Instance, Snapshot, Volume
from zhengyun.infrastructure.models.maintenance import OPEN as OPEN_MIGRATIONS

# Instances a volume may be attached to: their guest exists on the hypervisor.
ATTACHABLE = (InstanceStatus.ACTIVE, InstanceStatus.STOPPED)


def _advance_volume_after_commit(volume):
    from zhengyun.infrastructure.tasks import advance_volume_task

    transaction.on_commit(lambda: advance_volume_task(volume.pk))


def _advance_snapshot_after_commit(snap):
    from zhengyun.infrastructure.tasks import advance_snapshot_task

    transaction.on_commit(lambda: advance_snapshot_task(snap.pk))


def _claim_on(host, department, size_gb, count):
    """Count ``size_gb`` (and ``count`` volumes) against the quota and claim it on
    ``host``'s disk, or refuse changing nothing."""
    amounts = {"disk_gb": size_gb}
    if count:
        amounts["volumes"] = count
    quotas.take(department, amounts)
    if not placement.claim_disk(host, size_gb):
        raise Conflict(
            _("Host %(host)s has no room left for %(size)d GB.") % {"host": host, "size": size_gb}
        )


@service("infrastructure.create_volume")
def create_volume(*, actor, department, name, size_gb, instance=None, source=None):
    """Order a volume for ``department``: made on the host of ``instance`` and attached to
    it, or on the host of the snapshot ``source`` it is copied from (or both, when they
    share a host)."""
    if instance is None and source is None:
        raise ValidationError(
            {"instance": _("Choose the instance the volume is for, or a snapshot to copy.")}
        )
    for field, anchor in (("instance", instance), ("source", source)):
        if anchor is not None and anchor.department_id != department.pk:
            raise ValidationError({field: _("Choose one of the department's own.")})
    if instance is not None:
        # Held until the volume is recorded, so that no move takes the instance elsewhere
        # meanwhile: the volume is made where the instance is.
        instance = Instance.objects.select_for_update(of=("self",)).get(pk=instance.pk)
        if instance.status not in (InstanceStatus.BUILDING, *ATTACHABLE):
            raise ValidationError({"instance": _("This instance can take no volume now.")})
        refuse_while_moving(instance)
    if source is not None:
        if source.status != VolumeStatus.AVAILABLE:
            raise ValidationError({"source": _("This snapshot is not ready to be copied.")})
        if size_gb < source.size_gb:
            raise ValidationError(
                {"size_gb": _("At least the snapshot's %(size)d GB.") % {"size": source.size_gb}}
            )
        if instance is not None and instance.host_id != source.host_id:
            raise ValidationError(
                {"source": _("The snapshot is kept on another host than the instance.")}
            )
    host = instance.host if instance is not None else source.host
    _claim_on(host, department, size_gb, count=1)
    volume = crud.create(
        actor,
        Volume,
        "infrastructure.create_volume",
        department=department,
        name=name,
        size_gb=size_gb,
        host=host,
        instance=instance,
        source=source,
        created_by=actor,
    )
    _advance_volume_after_commit(volume)
    return volume


def refuse_while_moving(instance):
    """A volume is not attached to an instance that is being moved to another host: it
    would stay behind on the old one."""
    if instance.migrations.filter(status__in=OPEN_MIGRATIONS).exists():
        raise Conflict(
            _("The instance is being moved to another host; give it volumes once it has moved.")
        )


def _locked(volume):
    return Volume.objects.select_for_update(of=("self",)).select_related("host").get(pk=volume.pk)


def _move(actor, volume, action, status, **changes):
    """Put ``volume`` in ``status`` (with ``changes``), audit it, and hand it to the worker."""
    before = snapshot(volume)
    volume.status, volume.status_detail = status, ""
    for field, value in changes.items():
        setattr(volume, field, value)
    volume.save()
    record(actor=actor, action=action, obj=volume, changes=diff(before, snapshot(volume)))
    _advance_volume_after_commit(volume)
    return volume


@service("infrastructure.attach_volume")
def attach_volume(volume, *, actor, instance):
    """Attach an available volume to an instance of its department on the same host."""
    require(actor, "change", volume)
    volume = _locked(volume)
    # The instance's row too (after the volume's; a move locks the instance and then only
    # the volumes attached to it), so that it cannot be moved away meanwhile.
    instance = (
        Instance.objects.restrict(actor, "view")
        .select_for_update(of=("self",))
        .filter(pk=instance.pk)
        .first()
    )
    if volume.status != VolumeStatus.AVAILABLE:
        raise Conflict(_("Only an available volume can be attached."))
    if instance is None or instance.department_id != volume.department_id:
        raise ValidationError({"instance": _("Choose one of the department's own.")})
    if instance.status not in ATTACHABLE:
        raise ValidationError({"instance": _("This instance can take no volume now.")})
    if instance.host_id != volume.host_id:
        raise ValidationError(
            {
                "instance": _(
                    "The volume is kept on host %(host)s; only instances there can use it."
                )
                % {"host": volume.host}
            }
        )
    refuse_while_moving(instance)
    return _move(
        actor, volume, "infrastructure.attach_volume", VolumeStatus.ATTACHING, instance=instance
    )


@service("infrastructure.detach_volume")
def detach_volume(volume, *, actor):
    """Detach a volume from its instance; it stays, with its data, on its host."""
    require(actor, "change", volume)
    volume = _locked(volume)
    if volume.status != VolumeStatus.IN_USE:
        raise Conflict(_("Only a volume in use can be detached."))
    return _move(actor, volume, "infrastructure.detach_volume", VolumeStatus.DETACHING)


@service("infrastructure.delete_volume")
def delete_volume(volume, *, actor):
    """Delete a volume that is not attached; its snapshots stay."""
    require(actor, "delete", volume)
    volume = _locked(volume)
    if volume.status not in (VolumeStatus.AVAILABLE, VolumeStatus.ERROR):
        raise Conflict(_("Detach the volume first; only an unattached volume can be deleted."))
    if volume.snapshots.filter(status=VolumeStatus.CREATING).exists():
        raise Conflict(_("A snapshot of this volume is being taken; delete it afterwards."))
    return _move(actor, volume, "infrastructure.delete_volume", VolumeStatus.DELETING)


@service("infrastructure.create_snapshot")
def create_snapshot(volume, *, actor, name):
    """Take a snapshot of a volume (attached or not), kept on the volume's host; its size
    counts against the department's disk quota."""
    require(actor, "change", volume)
    volume = _locked(volume)
    if volume.status not in (VolumeStatus.AVAILABLE, VolumeStatus.IN_USE):
        raise Conflict(_("Only an available or attached volume can be snapshotted."))
    _claim_on(volume.host, volume.department, volume.size_gb, count=0)
    snap = crud.create(
        actor,
        Snapshot,
        "infrastructure.create_snapshot",
        department=volume.department,
        volume=volume,
        host=volume.host,
        name=name,
        size_gb=volume.size_gb,
    )
    _advance_snapshot_after_commit(snap)
    return snap


@service("infrastructure.delete_snapshot")
def delete_snapshot(snap, *, actor):
    """Delete a snapshot; volumes made from it keep their data."""
    require(actor, "delete", snap)
    snap = Snapshot.objects.select_for_update(of=("self",)).get(pk=snap.pk)
    if snap.status not in (VolumeStatus.AVAILABLE, VolumeStatus.ERROR):
        raise Conflict(_("This snapshot is already being made or deleted."))
    if Volume.objects.filter(source=snap, status=VolumeStatus.CREATING).exists():
        raise Conflict(_("A volume is being copied from this snapshot; delete it afterwards."))
    before = snapshot(snap)
    snap.status, snap.status_detail = VolumeStatus.DELETING, ""
    snap.save(update_fields=["status", "status_detail"])
    record(
        actor=actor,
        action="infrastructure.delete_snapshot",
        obj=snap,
        changes=diff(before, snapshot(snap)),
    )
    _advance_snapshot_after_commit(snap)
    return snap
