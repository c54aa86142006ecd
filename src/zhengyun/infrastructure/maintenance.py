"""Live migration of instances (R-I4): a host put in maintenance and drained, then
returned to service, and one instance moved by an operator.

The services mark the host or record the move; the moves are durable jobs (design rule 5),
one job for both. Each instance's move is an ``InstanceMigration`` taken in two commits:

1. choose a target in the host's pool with the scheduler and claim the instance's size
   there (placement's conditional UPDATE), recording the target in the same commit — a
   drain does this in the job; an operator's ``migrate_instance`` does it at once, so a
   refusal says why while the operator waits;
2. with the instance's row locked, live-migrate unless the hypervisor already has the
   guest on the target, then move the instance's host and give back the source claim.

Volumes attached to the instance live on the host's local disk and go with it, copied by
the hypervisor as a block migration: their size is claimed on the target's disk with the
instance (``volumes_gb``) and given back on the source once the guest has moved. While a
volume of it is being made, attached, detached or copied into a snapshot the instance is
not moved (the move fails with the reason; ask again once it has settled); its snapshots
stay where they were taken.

A worker killed anywhere leaves either a pending migration (nothing claimed) or a migrating
one whose target claim is recorded; running the step again asks the hypervisor where the
guest is, so the instance ends on exactly one host and each claim is counted once.
"""

import dataclasses
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require
from zhengyun.audit.models import AuditResult
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import service
from zhengyun.infrastructure import guest_networks, placement
from zhengyun.infrastructure.choices import (
    HostPower,
    InstanceStatus,
    MigrationStatus,
    VolumeStatus,
)
from zhengyun.infrastructure.connections import driver_for
from zhengyun.infrastructure.drivers.base import DriverError
from zhengyun.infrastructure.models import (
    Host,
    Instance,
    InstanceMigration,
    Pool,
    Snapshot,
    Volume,
)
from zhengyun.infrastructure.models.maintenance import OPEN
from zhengyun.infrastructure.placement_sql import HOST_FIELDS
from zhengyun.infrastructure.scheduler import Scheduler
from zhengyun.jobs.crash_points import crash_point

# Only a guest that exists and is settled can be live-migrated; building, failed and
# deleting instances are left for their own jobs and shown as not moved.
MOVABLE = (InstanceStatus.ACTIVE, InstanceStatus.STOPPED)
# A volume in any other state is, or may be, attached to its instance's guest.
UNATTACHED = (
    VolumeStatus.AVAILABLE,
    VolumeStatus.DELETING,
    VolumeStatus.DELETED,
    VolumeStatus.ERROR,
)
# With the change stamp, so every process's placement cache sees the host change at once.
MAINTENANCE_FIELDS = ("in_maintenance", "maintenance_reason", "maintenance_since", "generation")

logger = logging.getLogger(__name__)


@service("infrastructure.start_maintenance")
def start_maintenance(host, *, actor, reason):
    """Stop placing on ``host`` and drain it. On a host already in maintenance this starts
    a new drain, which tries again the instances the last one could not move."""
    from zhengyun.infrastructure.tasks import drain_host_task

    require(actor, "change", host)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the host goes into maintenance.")})
    host = Host.objects.select_for_update().get(pk=host.pk)
    before = snapshot(host, MAINTENANCE_FIELDS)
    host.in_maintenance = True
    host.maintenance_reason = reason[:300]
    host.maintenance_since = timezone.now()
    host.save(update_fields=MAINTENANCE_FIELDS)
    record(
        actor=actor,
        action="infrastructure.start_maintenance",
        obj=host,
        changes=diff(before, snapshot(host, MAINTENANCE_FIELDS)),
        detail=reason[:500],
    )
    transaction.on_commit(lambda: drain_host_task(host.pk))
    return host


@service("infrastructure.end_maintenance")
def end_maintenance(host, *, actor):
    """Return ``host`` to service: the scheduler places on it again. Moves not started yet
    are cancelled; a move already claimed on its target is finished by its job."""
    require(actor, "change", host)
    host = Host.objects.select_for_update().get(pk=host.pk)
    if not host.in_maintenance:
        raise Conflict(_("This host is not in maintenance."))
    before = snapshot(host, MAINTENANCE_FIELDS)
    host.in_maintenance, host.maintenance_reason, host.maintenance_since = False, "", None
    host.save(update_fields=MAINTENANCE_FIELDS)
    cancelled = InstanceMigration.objects.filter(
        source=host, status=MigrationStatus.PENDING
    ).update(
        status=MigrationStatus.CANCELLED,
        detail=_("The host left maintenance."),
        finished_at=timezone.now(),
    )
    record(
        actor=actor,
        action="infrastructure.end_maintenance",
        obj=host,
        changes=diff(before, snapshot(host, MAINTENANCE_FIELDS)),
        detail=f"cancelled={cancelled}",
    )
    return host


@service("infrastructure.migrate_instance")
def migrate_instance(instance, *, actor, target=None):
    """Live-migrate one running or stopped instance to another host of its pool: to
    ``target`` when the operator names one (it must pass the scheduler's filters), else to
    the host the scheduler chooses. The target is claimed now and the move run by the job
    that drains hosts; a refusal changes nothing and says why."""
    from zhengyun.infrastructure.tasks import migrate_instance_task

    instance = (
        Instance.objects.select_for_update(of=("self",))
        .select_related("host__pool")
        .get(pk=instance.pk)
    )
    source = instance.host
    if source is None:
        raise Conflict(_("This instance has no host yet."))
    # Moving guests between hosts is the operators' work on the hosts, not the department's.
    require(actor, "change", source)
    if target is not None:
        require(actor, "change", target)
        if target.pk == source.pk:
            raise ValidationError({"target": _("The instance already runs on this host.")})
        if target.pool_id != source.pool_id:
            raise ValidationError({"target": _("Choose a host of the instance's own pool.")})
    if instance.status not in MOVABLE:
        raise Conflict(
            _("It is %(status)s; only running or stopped instances are moved.")
            % {"status": instance.get_status_display()}
        )
    if instance.migrations.filter(status__in=OPEN).exists():
        raise Conflict(_("This instance is already being moved."))
    if reason := volumes_busy(instance):
        raise Conflict(reason)
    volumes_gb = attached_gb(instance)
    chosen, reason = choose_target(
        instance, source, size=with_volumes(instance, volumes_gb), only=target
    )
    if chosen is None:
        raise Conflict(_("The instance cannot move now. %(reasons)s") % {"reasons": reason})
    migration = InstanceMigration.objects.create(
        instance=instance,
        source=source,
        target=chosen,
        status=MigrationStatus.MIGRATING,
        volumes_gb=volumes_gb,
    )
    record(
        actor=actor,
        action="infrastructure.migrate_instance",
        obj=instance,
        detail=f"requested {source.name} -> {chosen.name}",
    )
    transaction.on_commit(lambda: migrate_instance_task(migration.pk))
    return migration


def drain(host_id):
    """Open a migration for every running or stopped instance on a host in maintenance that
    has none in the current drain; the ids of the host's open migrations, to be run."""
    with transaction.atomic():
        host = Host.objects.select_for_update().filter(pk=host_id, in_maintenance=True).first()
        if host is None:
            return []
        tried = InstanceMigration.objects.filter(
            source=host, created_at__gte=host.maintenance_since
        ).values("instance")
        waiting = (
            host.instances.filter(status__in=MOVABLE)
            .exclude(pk__in=tried)
            .exclude(migrations__status__in=OPEN)
        )
        InstanceMigration.objects.bulk_create(
            InstanceMigration(instance=instance, source=host) for instance in waiting
        )
        return list(
            InstanceMigration.objects.filter(source=host, status__in=OPEN).values_list(
                "pk", flat=True
            )
        )


def migrate(migration_id):
    """Move one instance off its host — in maintenance, or as an operator asked; the
    migration's status says how it ended. Safe to run again at any point, by the queue's
    retry or the reconciler."""
    _claim_target(migration_id)
    return _move(migration_id)


def complete_migration(migration_id):
    """Carry out a migration whose target is already claimed and recorded (``migrating``),
    such as one of a consolidation plan's moves; how it ended. Safe to run again."""
    return _move(migration_id)


def _claim_target(migration_id):
    with transaction.atomic():
        migration = (
            InstanceMigration.objects.select_for_update(of=("self",))
            .select_related("instance", "source__pool")
            .filter(pk=migration_id, status=MigrationStatus.PENDING)
            .first()
        )
        if migration is None:
            return
        instance, source = migration.instance, migration.source
        if not source.in_maintenance:
            _finish(migration, MigrationStatus.CANCELLED, _("The host left maintenance."))
        elif instance.host_id != source.pk or instance.status not in MOVABLE:
            _finish(migration, MigrationStatus.CANCELLED, _("The instance no longer runs here."))
        elif reason := volumes_busy(instance):
            _finish(migration, MigrationStatus.FAILED, reason)
        else:
            volumes_gb = attached_gb(instance)
            target, reason = choose_target(
                instance, source, size=with_volumes(instance, volumes_gb)
            )
            if target is None:
                _finish(migration, MigrationStatus.FAILED, reason)
            else:
                migration.target, migration.status = target, MigrationStatus.MIGRATING
                migration.volumes_gb = volumes_gb
                migration.save(update_fields=["target", "status", "volumes_gb"])
                crash_point("migrate.claimed")


def volumes_keep_it(instance):
    """Why a resize cannot take ``instance`` to another host because of its volumes; empty
    when it can. (A resize's cold move does not carry volumes; a live migration does.)"""
    if instance.volumes.exclude(status__in=UNATTACHED).exists():
        return _("Its volumes are on this host's local storage; detach them to move it.")
    return ""


def volumes_busy(instance):
    """Why ``instance`` cannot be live-migrated now because of its volumes; empty when it
    can (its attached volumes then go with it)."""
    changing = instance.volumes.filter(
        status__in=(VolumeStatus.CREATING, VolumeStatus.ATTACHING, VolumeStatus.DETACHING)
    )
    copying = Snapshot.objects.filter(
        volume__instance=instance, volume__status=VolumeStatus.IN_USE, status=VolumeStatus.CREATING
    )
    if changing.exists() or copying.exists():
        return _(
            "One of its volumes is being made, attached, detached or copied into a snapshot; "
            "move it once that is done."
        )
    return ""


def attached_gb(instance):
    """The size of the volumes attached to ``instance``, which move with it."""
    return (
        instance.volumes.filter(status=VolumeStatus.IN_USE).aggregate(total=Sum("size_gb"))["total"]
        or 0
    )


def with_volumes(instance, volumes_gb):
    """The instance's size with its attached volumes' on the disk: what a move claims."""
    return placement.Size(instance.vcpus, instance.memory_mb, instance.disk_gb + volumes_gb)


def choose_target(instance, source, *, size=None, only=None):
    """``(host, "")`` with ``size`` (by default the instance's own) claimed on a host of
    ``source``'s pool other than ``source`` that meets the instance's constraints by the
    scheduler's filters — on ``only`` when one is named — or ``(None, why not)``."""
    size = size or instance
    request = dataclasses.replace(
        placement.request_for(instance),
        vcpus=size.vcpus,
        memory_mb=size.memory_mb,
        disk_gb=size.disk_gb,
    )
    pool = Pool.objects.select_related("zone").get(pk=source.pool_id)
    # A host powered down takes guests again once an order has powered it on.
    candidates = Host.objects.filter(pool=pool, power_state=HostPower.ON).exclude(pk=source.pk)
    if only is not None:
        candidates = candidates.filter(pk=only.pk)
    for _attempt in range(placement.ATTEMPTS):
        rows = {placement.scheduled_name(row): row for row in candidates.values(*HOST_FIELDS)}
        decision = Scheduler().select(
            request, [placement.host_state(row, pool) for row in rows.values()]
        )
        if decision.host is None:
            reasons = "; ".join(decision.messages(translate=_))
            return None, reasons or _("The pool has no other host.")
        target = Host.objects.select_related("pool").get(pk=rows[decision.host.name]["id"])
        if placement._claim(target, size):
            return target, ""
    return None, _("Other orders took the room that fitted at the same moment.")


def _move(migration_id):
    instance_id = (
        InstanceMigration.objects.filter(pk=migration_id).values_list("instance", flat=True).first()
    )
    with transaction.atomic():
        # The instance's row first, as the build and delete jobs lock it: a deletion
        # ordered meanwhile waits for the move and then deletes the guest where it is.
        instance = Instance.objects.select_for_update(of=("self",)).filter(pk=instance_id).first()
        migration = (
            InstanceMigration.objects.select_for_update(of=("self",))
            .select_related("source__provider", "target__provider")
            .filter(pk=migration_id)
            .first()
        )
        if instance is None or migration is None or migration.status != MigrationStatus.MIGRATING:
            return migration.status if migration else "missing"
        crash_point("migrate.locked")
        source, target, name = migration.source, migration.target, str(instance.uuid)
        if instance.status == InstanceStatus.DELETED or instance.host_id != source.pk:
            _release(target, instance, migration.volumes_gb)
            return _finish(migration, MigrationStatus.CANCELLED, _("The instance is gone."))
        volumes = list(
            Volume.objects.select_for_update(of=("self",))
            .filter(instance=instance)
            .exclude(status__in=UNATTACHED)
        )
        try:
            # The hypervisor is the truth: a step killed after the move is not moved twice.
            moved = found_moved = _guest_host(target, name) == target.name
            if not moved and instance.status in MOVABLE:
                if _volumes_changed(volumes, migration):
                    # Detached or being copied since the target was claimed: the claim is
                    # not what would move any more. The next drain or request claims afresh.
                    _release(target, instance, migration.volumes_gb)
                    return _finish(
                        migration,
                        MigrationStatus.FAILED,
                        _("Its volumes changed while the move waited; ask for it again."),
                    )
                guest_networks.prepare_host(instance, target)
                _driver(source).live_migrate(name, target.name)
                crash_point("migrate.moved")
                moved = True
        except DriverError as exc:
            _release(target, instance, migration.volumes_gb)
            return _finish(migration, MigrationStatus.FAILED, str(exc))
        if not moved:  # being deleted before it moved: it stays for the deletion
            _release(target, instance, migration.volumes_gb)
            return _finish(migration, MigrationStatus.CANCELLED, _("The instance is gone."))
        if found_moved:  # a migration that ran to its end here removed its copies itself
            _discard_moved_disks(source, name, volumes)
        instance.host = target
        instance.save(update_fields=["host"])
        Volume.objects.filter(pk__in=[v.pk for v in volumes]).update(host=target)
        crash_point("migrate.rehosted")
        _release(source, instance, migration.volumes_gb)
        crash_point("migrate.source_released")
        changes = {"host": [source.pk, target.pk]}
        if volumes:
            changes["volumes"] = [None, sorted(v.pk for v in volumes)]
        record(
            actor=None,
            action="infrastructure.migrate_instance",
            obj=instance,
            changes=changes,
            detail=f"{source.name} -> {target.name}",
        )
        status = _finish(migration, MigrationStatus.DONE, "")
        crash_point("migrate.marked")
        return status


def _discard_moved_disks(source, name, volumes):
    """Remove the disk copies a move cut short after the guest left may have left on the
    source. The guest runs on the target whatever happens here: a copy that will not go is
    only logged."""
    try:
        removed = _driver(source).discard_moved_disks(name, tuple(str(v.uuid) for v in volumes))
    except DriverError as exc:
        logger.warning("%s: disk copies may stay on %s: %s", name, source.name, exc)
        return
    if removed:
        logger.info("%s: removed disk copies left on %s: %s", name, source.name, removed)


def _volumes_changed(volumes, migration):
    """Whether the instance's ``volumes`` are no longer the settled ones the migration
    claimed room for."""
    settled = [v for v in volumes if v.status == VolumeStatus.IN_USE]
    copying = Snapshot.objects.filter(volume__in=volumes, status=VolumeStatus.CREATING)
    return (
        len(settled) != len(volumes)
        or sum(v.size_gb for v in settled) != migration.volumes_gb
        or copying.exists()
    )


def _release(host, instance, volumes_gb):
    """Give back on ``host`` what a move claims: the instance's size and its volumes'."""
    placement.release(host, instance)
    if volumes_gb:
        placement.release_disk(host, volumes_gb)


def _driver(host):
    return driver_for(host.provider.driver, host.provider.uri)


def _guest_host(target, name):
    """Where the target's connection says the guest is (empty when it has no such guest)."""
    return _driver(target).guest(name).host


def _finish(migration, status, detail):
    migration.status, migration.detail = status, detail[:300]
    migration.finished_at = timezone.now()
    migration.save(update_fields=["status", "detail", "finished_at"])
    if status == MigrationStatus.FAILED:
        record(
            actor=None,
            action="infrastructure.migrate_instance",
            obj=migration.instance,
            result=AuditResult.FAILED,
            detail=detail[:500],
        )
    return status


def open_migrations():
    """Ids of the migrations a job still has to move on."""
    return list(InstanceMigration.objects.filter(status__in=OPEN).values_list("pk", flat=True))


def hosts_in_maintenance():
    """Ids of the hosts being drained or drained."""
    return list(Host.objects.filter(in_maintenance=True).values_list("pk", flat=True))


@dataclass(frozen=True)
class Stuck:
    """An instance left on a host in maintenance, and why."""

    instance: Instance
    reason: str


@dataclass(frozen=True)
class DrainStatus:
    """How far a host's drain has gone: instances still on it, how many are on their way,
    and those that could not move with the reason."""

    remaining: int = 0
    moving: int = 0
    stuck: list = field(default_factory=list)

    @property
    def drained(self):
        return self.remaining == 0


def drain_status(host):
    """The drain of ``host`` as it stands; ``None`` when the host is in service."""
    if not host.in_maintenance:
        return None
    on_host = list(host.instances.exclude(status=InstanceStatus.DELETED).order_by("name"))
    latest = {
        m.instance_id: m
        for m in InstanceMigration.objects.filter(
            source=host, created_at__gte=host.maintenance_since, instance__in=on_host
        ).order_by("created_at", "pk")
    }
    moving, stuck = 0, []
    for instance in on_host:
        migration = latest.get(instance.pk)
        if migration is not None and migration.status == MigrationStatus.FAILED:
            stuck.append(Stuck(instance, migration.detail))
        elif instance.status not in MOVABLE:
            reason = _("It is %(status)s; only running or stopped instances are moved.")
            stuck.append(Stuck(instance, reason % {"status": instance.get_status_display()}))
        else:
            moving += 1
    return DrainStatus(remaining=len(on_host), moving=moving, stuck=stuck)
