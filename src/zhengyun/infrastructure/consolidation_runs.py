"""Carrying out approved consolidation plans (R-I4), a durable job (design rule 5).

Every minute the job looks at each approved or running plan: past its expiry it expires;
outside the pool's maintenance windows a running plan pauses until the next; inside one it
runs, move after move, until the window closes. Each move takes two commits:

1. with the instance's row locked, check the move still makes sense (the instance is where
   the planner saw it, settled, no volume of it changing; the target is in service) and
   claim its size, with its attached volumes', on the target by placement's conditional
   UPDATE, which never fills a host past its ratios; record the ``InstanceMigration`` in
   the same commit. A move that no longer makes sense is skipped with the reason;
2. carry out that migration with the maintenance machinery, which asks the hypervisor
   where the guest is first: a worker killed at any point resumes without moving an
   instance twice or counting a claim twice.

When every move is settled the hosts the plan released, if empty, go into standby, and
those with a BMC are powered down (``host_power``).
"""

import datetime
import time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.audit.models import AuditResult
from zhengyun.audit.services import record
from zhengyun.infrastructure import maintenance, placement
from zhengyun.infrastructure.choices import MigrationStatus, MoveStatus, PlanStatus
from zhengyun.infrastructure.maintenance import MOVABLE
from zhengyun.infrastructure.models import (
    ConsolidationMove,
    ConsolidationPlan,
    Host,
    Instance,
    InstanceMigration,
)
from zhengyun.infrastructure.models.maintenance import OPEN
from zhengyun.infrastructure.windows import open_window
from zhengyun.jobs.crash_points import crash_point

RUNNABLE = (PlanStatus.APPROVED, PlanStatus.RUNNING)


def tick(now=None):
    """One minute's work: finish moves a killed worker left half-way, then run, pause or
    expire every approved plan. ``now`` is the moment the windows are judged at."""
    now = now or timezone.now()
    for move_id in ConsolidationMove.objects.filter(status=MoveStatus.MOVING).values_list(
        "pk", flat=True
    ):
        finish_move(move_id)
    plans = list(ConsolidationPlan.objects.filter(status__in=RUNNABLE).values_list("pk", flat=True))
    return {plan_id: run_plan(plan_id, now) for plan_id in plans}


def run_plan(plan_id, now, clock=None):
    """Move the plan on as far as its window allows; its status afterwards. ``clock`` says
    the time while it runs (by default ``now`` plus the time taken since)."""
    if clock is None:
        began = time.monotonic()

        def clock():
            return now + datetime.timedelta(seconds=time.monotonic() - began)

    window_end = _open(plan_id, now)
    crash_point("consolidation.opened")
    if window_end is None:
        return ConsolidationPlan.objects.values_list("status", flat=True).get(pk=plan_id)
    for move_id in ConsolidationMove.objects.filter(
        plan_id=plan_id, status=MoveStatus.PENDING
    ).values_list("pk", flat=True):
        if clock() >= window_end:
            _pause(plan_id, _("The maintenance window closed; the rest waits for the next."))
            return PlanStatus.APPROVED
        if not _plan_runs(plan_id):  # cancelled meanwhile
            break
        claim_move(move_id)
        crash_point("consolidation.claimed")
        finish_move(move_id)
        crash_point("consolidation.settled")
    return _close(plan_id, clock())


def _open(plan_id, now):
    """Start, keep or pause the plan at ``now``: the end of the window it may run in, or
    ``None`` when it may not run now."""
    with transaction.atomic():
        plan = (
            ConsolidationPlan.objects.select_for_update(of=("self",))
            .select_related("pool")
            .filter(pk=plan_id, status__in=RUNNABLE)
            .first()
        )
        if plan is None:
            return None
        if plan.expires_at and now >= plan.expires_at:
            _end(plan, PlanStatus.EXPIRED, now, _("No maintenance window finished it in time."))
            return None
        opening = open_window(plan.pool, now)
        if opening is None:
            if plan.status == PlanStatus.RUNNING:
                _set(plan, PlanStatus.APPROVED, "infrastructure.pause_consolidation")
            return None
        if plan.status == PlanStatus.APPROVED:
            plan.started_at = plan.started_at or now
            _set(plan, PlanStatus.RUNNING, "infrastructure.start_consolidation", "started_at")
        return opening.end


def _plan_runs(plan_id):
    return ConsolidationPlan.objects.filter(pk=plan_id, status=PlanStatus.RUNNING).exists()


def _pause(plan_id, why):
    with transaction.atomic():
        plan = ConsolidationPlan.objects.select_for_update().get(pk=plan_id)
        if plan.status == PlanStatus.RUNNING:
            _set(plan, PlanStatus.APPROVED, "infrastructure.pause_consolidation", detail=why)


def _set(plan, status, action, *fields, detail=""):
    before = plan.status
    plan.status = status
    plan.save(update_fields=["status", *fields])
    record(
        actor=None,
        action=action,
        obj=plan,
        changes={"status": [before, status]},
        detail=detail,
    )


def claim_move(move_id):
    """Step 1: claim the move's target and record its migration, or skip it with the
    reason. Does nothing to a move no longer pending."""
    instance_id = (
        ConsolidationMove.objects.filter(pk=move_id).values_list("instance", flat=True).first()
    )
    with transaction.atomic():
        # The instance's row first, as every job that changes an instance locks it.
        instance = Instance.objects.select_for_update(of=("self",)).filter(pk=instance_id).first()
        move = (
            ConsolidationMove.objects.select_for_update(of=("self",))
            .select_related("source", "target__pool")
            .filter(pk=move_id, status=MoveStatus.PENDING)
            .first()
        )
        if move is None:
            return
        why = _stale(move, instance)
        volumes_gb = maintenance.attached_gb(instance) if not why else 0
        if not why and not placement._claim(
            move.target, maintenance.with_volumes(instance, volumes_gb)
        ):
            why = _("Host %(host)s no longer has room for it.") % {"host": move.target}
        if why:
            _settle(move, MoveStatus.SKIPPED, why)
            return
        move.migration = InstanceMigration.objects.create(
            instance=instance,
            source=move.source,
            target=move.target,
            status=MigrationStatus.MIGRATING,
            volumes_gb=volumes_gb,
        )
        move.status = MoveStatus.MOVING
        move.save(update_fields=["migration", "status"])


def _stale(move, instance):
    """Why the planned move no longer makes sense, or an empty string."""
    if instance is None or instance.host_id != move.source_id:
        return _("The instance no longer runs on %(host)s.") % {"host": move.source}
    if instance.status not in MOVABLE:
        return _("The instance is %(status)s; only running or stopped instances are moved.") % {
            "status": instance.get_status_display()
        }
    if reason := maintenance.volumes_busy(instance):
        return reason
    if InstanceMigration.objects.filter(instance=instance, status__in=OPEN).exists():
        return _("The instance is already being moved.")
    target = move.target
    if target.in_maintenance or move.source.in_maintenance:
        return _("A host of this move went into maintenance.")
    if target.standby:
        return _("Host %(host)s was put in standby.") % {"host": target}
    return ""


def finish_move(move_id):
    """Step 2: carry out the move's migration (again, after a crash) and settle the move
    as the migration ended."""
    migration_id = (
        ConsolidationMove.objects.filter(pk=move_id, status=MoveStatus.MOVING)
        .values_list("migration", flat=True)
        .first()
    )
    if migration_id is None:
        return
    ended = maintenance.complete_migration(migration_id)
    crash_point("consolidation.migrated")
    with transaction.atomic():
        move = (
            ConsolidationMove.objects.select_for_update(of=("self",))
            .select_related("migration")
            .filter(pk=move_id, status=MoveStatus.MOVING)
            .first()
        )
        if move is None:
            return
        if ended == MigrationStatus.DONE:
            _settle(move, MoveStatus.DONE, "")
        elif ended in (MigrationStatus.FAILED, MigrationStatus.CANCELLED):
            _settle(move, MoveStatus.FAILED, move.migration.detail)


def _settle(move, status, detail):
    move.status, move.detail = status, detail[:300]
    move.save(update_fields=["status", "detail"])
    if status != MoveStatus.DONE:
        record(
            actor=None,
            action="infrastructure.consolidation_move",
            obj=move.plan,
            result=AuditResult.FAILED,
            detail=f"{move}: {detail}"[:500],
        )


def _close(plan_id, now):
    """Once every move is settled: put the released hosts that are empty in standby and
    mark the plan done. The plan's status."""
    from zhengyun.infrastructure.tasks import power_down_hosts_task

    with transaction.atomic():
        plan = ConsolidationPlan.objects.select_for_update().get(pk=plan_id)
        if plan.status != PlanStatus.RUNNING:
            return plan.status
        if plan.moves.filter(status__in=(MoveStatus.PENDING, MoveStatus.MOVING)).exists():
            return plan.status
        standby, standby_ids = [], []
        for host in Host.objects.select_for_update().filter(
            pk__in=plan.released_hosts.values("pk")
        ):
            if not (host.used_vcpus or host.used_memory_mb or host.used_disk_gb):
                host.standby = True
                host.save(update_fields=["standby", "generation"])  # placement sees it now
                standby.append(host.name)
                standby_ids.append(host.pk)
                crash_point("consolidation.standby")
        _end(
            plan,
            PlanStatus.DONE,
            now,
            _("Hosts put in standby: %(hosts)s.") % {"hosts": ", ".join(standby) or "—"},
        )
        if standby_ids:
            transaction.on_commit(lambda: power_down_hosts_task(standby_ids))
        return plan.status


def _end(plan, status, now, detail):
    plan.finished_at = now
    if status == PlanStatus.EXPIRED:
        plan.moves.filter(status=MoveStatus.PENDING).update(
            status=MoveStatus.SKIPPED, detail=_("The plan expired.")
        )
    action = {
        PlanStatus.DONE: "infrastructure.finish_consolidation",
        PlanStatus.EXPIRED: "infrastructure.expire_consolidation",
    }[status]
    _set(plan, status, action, "finished_at", detail=detail)
