"""Resizing a department's instance to another flavour (R-I3, R-I4).

The service decides everything that can be refused while the requester waits, in one
transaction with its audit event: the quota for every figure that grows is taken under the
department's quota row, and room for the new size is claimed — the growth alone on the
instance's own host when it has the room (placement's conditional UPDATE), else the whole
new size on another host of its pool chosen by the scheduler, which makes the resize a cold
migration (stop, move, start). An ``InstanceResize`` records what was taken; the instance
shows ``resizing`` until the worker (``resize_lifecycle``) has carried it out or given it
back. Disks never shrink: a guest's file systems cannot be cut down from outside.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import service
from zhengyun.infrastructure import maintenance, placement, quotas
from zhengyun.infrastructure.choices import InstanceStatus
from zhengyun.infrastructure.models import Instance, InstanceResize
from zhengyun.infrastructure.models.maintenance import OPEN
from zhengyun.infrastructure.placement import Size

# A guest that exists and is settled; the resize returns it to the same state.
RESIZABLE = (InstanceStatus.ACTIVE, InstanceStatus.STOPPED)


def sizes(resize):
    """``(old, new)`` sizes of ``resize``."""
    return (
        Size(resize.old_vcpus, resize.old_memory_mb, resize.old_disk_gb),
        Size(resize.new_vcpus, resize.new_memory_mb, resize.new_disk_gb),
    )


@service("infrastructure.resize_instance")
def resize_instance(instance, *, actor, flavour):
    """Resize ``instance`` to ``flavour``: refused, changing nothing, when the disk would
    shrink, the quota would be exceeded or no host of its pool has room; otherwise the
    instance is ``resizing`` and the worker carries it out."""
    from zhengyun.infrastructure.tasks import resize_instance_task

    require(actor, "change", instance)
    instance = (
        Instance.objects.select_for_update(of=("self",))
        .select_related("host__pool", "flavour")
        .get(pk=instance.pk)
    )
    _refuse_unless_resizable(instance, flavour)
    old, new = Size.of(instance), Size.of(flavour)
    # Quota before host: the order every job and service locks them in.
    quotas.take(instance.department, new.beyond(old).quota_amounts())
    target = _claim_room(instance, old, new)
    resize = InstanceResize.objects.create(
        instance=instance,
        old_flavour=instance.flavour,
        new_flavour=flavour,
        old_vcpus=old.vcpus,
        old_memory_mb=old.memory_mb,
        old_disk_gb=old.disk_gb,
        new_vcpus=new.vcpus,
        new_memory_mb=new.memory_mb,
        new_disk_gb=new.disk_gb,
        source=instance.host,
        target=target,
        resume=instance.status,
        created_by=actor,
    )
    before = snapshot(instance)
    instance.status, instance.status_detail = InstanceStatus.RESIZING, ""
    instance.save(update_fields=["status", "status_detail"])
    record(
        actor=actor,
        action="infrastructure.resize_instance",
        obj=instance,
        changes=diff(before, snapshot(instance)),
        detail=f"{resize.old_flavour} -> {flavour} on {target.name}",
    )
    transaction.on_commit(lambda: resize_instance_task(resize.pk))
    return instance


def _refuse_unless_resizable(instance, flavour):
    if instance.status not in RESIZABLE:
        raise Conflict(
            _("It is %(status)s; only a running or stopped instance can be resized.")
            % {"status": instance.get_status_display()}
        )
    if flavour.pk == instance.flavour_id:
        raise ValidationError({"flavour": _("The instance already has this flavour.")})
    if flavour.disk_gb < instance.disk_gb:
        raise ValidationError(
            {
                "flavour": _(
                    "A disk cannot shrink: the instance has %(have)d GB, %(flavour)s only "
                    "%(want)d GB. Choose a flavour with at least as much disk."
                )
                % {"have": instance.disk_gb, "flavour": flavour, "want": flavour.disk_gb}
            }
        )
    if instance.migrations.filter(status__in=OPEN).exists():
        raise Conflict(_("The instance is being moved to another host; resize it afterwards."))


def _claim_room(instance, old, new):
    """The host the new size is claimed on: the instance's own for the growth alone when
    it has the room, else another of its pool for the whole new size."""
    host = instance.host
    growth = new.beyond(old)
    if not growth or placement._claim(host, growth):
        return host
    if reason := maintenance.volumes_keep_it(instance):
        raise Conflict(
            _("Host %(host)s has no room for the new size, and the instance cannot move: %(why)s")
            % {"host": host, "why": reason}
        )
    target, reason = maintenance.choose_target(instance, host, size=new)
    if target is None:
        raise Conflict(
            _("No host of the instance's pool has room for the new size. %(reasons)s")
            % {"reasons": reason}
        )
    return target
