"""A host put in maintenance and drained by live migration, then returned to service (R-I4).

The services mark the host; the moves are durable jobs (design rule 5). Each instance's
move is an ``InstanceMigration`` taken in two commits:

1. choose a target in the host's pool with the scheduler and claim the instance's size
   there (placement's conditional UPDATE), recording the target in the same commit;
2. with the instance's row locked, live-migrate unless the hypervisor already has the
   guest on the target, then move the instance's host and give back the source claim.

A worker killed anywhere leaves either a pending migration (nothing claimed) or a migrating
one whose target claim is recorded; running the step again asks the hypervisor where the
guest is, so the instance ends on exactly one host and each claim is counted once.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require
from zhengyun.audit.models import AuditResult
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import service
from zhengyun.infrastructure import placement
from zhengyun.infrastructure.choices import InstanceStatus, MigrationStatus, VolumeStatus
from zhengyun.infrastructure.connections import driver_for
from zhengyun.infrastructure.drivers.base import DriverError
from zhengyun.infrastructure.models import Host, Instance, InstanceMigration, Pool
from zhengyun.infrastructure.models.maintenance import OPEN
from zhengyun.infrastructure.placement_sql import HOST_FIELDS
from zhengyun.infrastructure.scheduler import Scheduler

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
    """Move one instance off its host in maintenance; the migration's status says how it
    ended. Safe to run again at any point, by the queue's retry or the reconciler."""
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
        elif instance.volumes.exclude(status__in=UNATTACHED).exists():
            # Volumes live on the host's local disk: moving the guest alone would leave its
            # disks behind, and the platform does not copy volumes between hosts yet.
            _finish(
                migration,
                MigrationStatus.FAILED,
                _("Its volumes are on this host's local storage; detach them to move it."),
            )
        else:
            target, reason = _choose_target(instance, source)
            if target is None:
                _finish(migration, MigrationStatus.FAILED, reason)
            else:
                migration.target, migration.status = target, MigrationStatus.MIGRATING
                migration.save(update_fields=["target", "status"])


def _choose_target(instance, source):
    """``(host, "")`` with the instance's size claimed on a host of ``source``'s pool that
    meets its constraints, or ``(None, why not)``."""
    request = placement.request_for(instance)
    pool = Pool.objects.select_related("zone").get(pk=source.pool_id)
    for _attempt in range(placement.ATTEMPTS):
        rows = {
            placement.scheduled_name(row): row
            for row in Host.objects.filter(pool=pool).exclude(pk=source.pk).values(*HOST_FIELDS)
        }
        decision = Scheduler().select(
            request, [placement.host_state(row, pool) for row in rows.values()]
        )
        if decision.host is None:
            reasons = "; ".join(decision.messages(translate=_))
            return None, reasons or _("The pool has no other host.")
        target = Host.objects.select_related("pool").get(pk=rows[decision.host.name]["id"])
        if placement._claim(target, instance):
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
        source, target, name = migration.source, migration.target, str(instance.uuid)
        if instance.status == InstanceStatus.DELETED or instance.host_id != source.pk:
            placement.release(target, instance)
            return _finish(migration, MigrationStatus.CANCELLED, _("The instance is gone."))
        try:
            # The hypervisor is the truth: a step killed after the move is not moved twice.
            moved = _guest_host(target, name) == target.name
            if not moved and instance.status in MOVABLE:
                _driver(source).live_migrate(name, target.name)
                moved = True
        except DriverError as exc:
            placement.release(target, instance)
            return _finish(migration, MigrationStatus.FAILED, str(exc))
        if not moved:  # being deleted before it moved: it stays for the deletion
            placement.release(target, instance)
            return _finish(migration, MigrationStatus.CANCELLED, _("The instance is gone."))
        instance.host = target
        instance.save(update_fields=["host"])
        placement.release(source, instance)
        record(
            actor=None,
            action="infrastructure.migrate_instance",
            obj=instance,
            changes={"host": [source.pk, target.pk]},
            detail=f"{source.name} -> {target.name}",
        )
        return _finish(migration, MigrationStatus.DONE, "")


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
