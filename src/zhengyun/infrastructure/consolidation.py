"""Consolidating a pool's instances onto fewer hosts (R-I4, R-G3): an operator proposes a
plan, someone else approves or rejects it, and the job in ``consolidation_runs`` carries it
out inside the pool's maintenance windows. Also the windows themselves.

The plan is the scheduler's ``plan_consolidation`` over the pool's hosts and instances as
they stand, with the power it saves estimated by each host's power model (``power``). A
host's load is taken as its claimed vCPUs over its physical CPUs (at most 100 %): the
busiest it may be, so a plan never promises more saving than it can make.

Approving is a separate duty (R-X4): the system administrator who answers for the
platform's operation approves, and never a plan they proposed themselves.
"""

import dataclasses
import datetime

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require, require_some
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core import crud
from zhengyun.core.exceptions import Conflict, NotFound, PermissionDenied
from zhengyun.core.services import service
from zhengyun.infrastructure import placement
from zhengyun.infrastructure.choices import (
    InstanceStatus,
    MoveStatus,
    PlacementPolicy,
    PlanStatus,
    VolumeStatus,
)
from zhengyun.infrastructure.maintenance import MOVABLE, UNATTACHED
from zhengyun.infrastructure.models import (
    ConsolidationMove,
    ConsolidationPlan,
    Host,
    Instance,
    MaintenanceWindow,
    Pool,
)
from zhengyun.infrastructure.models.consolidation import OPEN_PLANS
from zhengyun.infrastructure.placement_sql import HOST_FIELDS
from zhengyun.infrastructure.power import host_power
from zhengyun.infrastructure.scheduler.consolidation import plan_consolidation
from zhengyun.notifications.services import notify, people_who_may

# An approved plan no window finished within this many days is out of date: the pool's
# instances have moved on since the planner looked.
PLAN_VALID_DAYS = 7
DECISION_FIELDS = ("status", "decided_by", "decided_at", "reason", "expires_at")


@service("infrastructure.create_maintenance_window")
def create_maintenance_window(*, actor, pool, days, starts, ends):
    """Open ``pool`` to disruptive work from ``starts`` to ``ends`` (Beijing time) on
    ``days``."""
    return crud.create(
        actor,
        MaintenanceWindow,
        "infrastructure.create_maintenance_window",
        pool=pool,
        days=days,
        starts=starts,
        ends=ends,
    )


@service("infrastructure.delete_maintenance_window")
def delete_maintenance_window(window, *, actor):
    """Remove a window; plans waiting for one wait for the pool's others."""
    return crud.delete(actor, window, "infrastructure.delete_maintenance_window")


@service("infrastructure.set_host_power_curve")
def set_host_power_curve(host, *, actor, power_curve):
    """Give ``host`` a measured 11-point power curve, or none to go back to the linear
    model of its idle and peak watts."""
    return crud.update(
        actor,
        Host.objects.select_for_update().get(pk=host.pk),
        "infrastructure.set_host_power_curve",
        {"power_curve": list(power_curve)},
        allowed={"power_curve"},
    )


@service("infrastructure.propose_consolidation")
def propose_consolidation(*, actor, pool):
    """Plan moves that empty as many of ``pool``'s hosts as they can, and wait for an
    approval. Refused when no host can be emptied or another plan of the pool is open."""
    require_some(actor, "add", ConsolidationPlan)
    pool = Pool.objects.restrict(actor, "view").filter(pk=pool.pk).first()
    if pool is None:
        raise NotFound()
    Pool.objects.select_for_update().get(pk=pool.pk)  # one open plan per pool at a time
    if pool.policy != PlacementPolicy.PACK:
        raise ValidationError(
            {"pool": _("Only a pool that packs its instances is consolidated; this one spreads.")}
        )
    if ConsolidationPlan.objects.filter(pool=pool, status__in=OPEN_PLANS).exists():
        raise Conflict(_("This pool already has a plan waiting or running; decide that first."))
    hosts = {h.pk: h for h in Host.objects.filter(pool=pool, in_maintenance=False)}
    rows = {
        placement.scheduled_name(row): row
        for row in Host.objects.filter(pk__in=hosts).values(*HOST_FIELDS)
    }
    instances = _movable_by_host(hosts)
    guests = {
        name: [(i.pk, _with_volumes(i)) for i in instances[row["id"]]]
        for name, row in rows.items()
        if instances.get(row["id"])
    }
    proposal = plan_consolidation([placement.host_state(r, pool) for r in rows.values()], guests)
    if not proposal.migrations:
        raise Conflict(_("No host of this pool can be emptied now: nothing to consolidate."))
    released = [hosts[rows[name]["id"]] for name in proposal.released_hosts]
    by_id = {i.pk: i for found in instances.values() for i in found}
    moves = [
        (by_id[m.guest], hosts[rows[m.source]["id"]], hosts[rows[m.target]["id"]])
        for m in proposal.migrations
    ]
    before, after = estimate_power(hosts.values(), moves, released)
    plan = crud.create(
        actor,
        ConsolidationPlan,
        "infrastructure.propose_consolidation",
        pool=pool,
        proposed_by=actor,
        memory_moved_mb=proposal.memory_moved_mb,
        hosts_before=sum(not h.standby for h in hosts.values()),
        hosts_after=sum(not h.standby for h in hosts.values()) - len(released),
        watts_before=round(before, 1),
        watts_after=round(after, 1),
    )
    plan.released_hosts.set(released)
    ConsolidationMove.objects.bulk_create(
        ConsolidationMove(
            plan=plan,
            position=position,
            instance=instance,
            source=source,
            target=target,
            memory_mb=instance.memory_mb,
        )
        for position, (instance, source, target) in enumerate(moves, 1)
    )
    notify(
        "consolidation.proposed",
        # Whoever proposed it never decides it.
        to=people_who_may("approve", plan, but=actor),
        params={"pool": pool.name, "moves": len(moves), "released": len(released)},
        link=reverse("infrastructure:consolidation"),
    )
    return plan


def _with_volumes(instance):
    """What moving ``instance`` takes on its target: its size, its attached volumes' on the
    disk (they move with it)."""
    request = placement.request_for(instance)
    return dataclasses.replace(request, disk_gb=request.disk_gb + instance.volumes_gb)


def _movable_by_host(hosts):
    """The instances of each host (each with ``volumes_gb``, its attached volumes' size), or
    no entry for a host with one that cannot move (it is not settled, a volume of it is
    being made, attached, detached or copied, or it belongs to a server group, whose members
    the planner cannot keep together or apart while it moves several at once): such a host
    is not emptied."""
    by_host, blocked = {}, set()
    for instance in (
        Instance.objects.filter(host__in=hosts)
        .exclude(status=InstanceStatus.DELETED)
        .prefetch_related("volumes")
    ):
        attached = [v for v in instance.volumes.all() if v.status not in UNATTACHED]
        settled = all(v.status == VolumeStatus.IN_USE for v in attached)
        instance.volumes_gb = sum(v.size_gb for v in attached)
        if instance.status not in MOVABLE or not settled or instance.server_group_id:
            blocked.add(instance.host_id)
        by_host.setdefault(instance.host_id, []).append(instance)
    return {pk: found for pk, found in by_host.items() if pk not in blocked}


def estimate_power(hosts, moves, released):
    """Watts the hosts draw now and after ``moves`` (instance, source, target) with the
    ``released`` hosts in standby, each host by its own power model."""
    claimed = {h.pk: h.used_vcpus for h in hosts}
    for instance, source, target in moves:
        claimed[source.pk] -= instance.vcpus
        claimed[target.pk] += instance.vcpus
    gone = {h.pk for h in released}
    before = sum(host_power(h, _load(h, h.used_vcpus)) for h in hosts)
    after = sum(host_power(h, _load(h, claimed[h.pk])) for h in hosts if h.pk not in gone)
    return before, after


def _load(host, vcpus):
    return min(vcpus / host.vcpus, 1.0) if host.vcpus else 0.0


def _locked(plan):
    return ConsolidationPlan.objects.select_for_update().get(pk=plan.pk)


def _decide(actor, plan, action, status, reason=""):
    require(actor, "approve", plan)
    plan = _locked(plan)
    if plan.proposed_by_id == actor.pk:
        raise PermissionDenied(
            _("You proposed this plan; someone else must approve or reject it."),
            action=f"infrastructure.consolidationplan.{action}",
            obj=plan,
        )
    if plan.status != PlanStatus.PROPOSED:
        raise Conflict(_("This plan has already been decided."))
    before = snapshot(plan, DECISION_FIELDS)
    now = timezone.now()
    plan.status, plan.decided_by, plan.decided_at, plan.reason = status, actor, now, reason
    if status == PlanStatus.APPROVED:
        plan.expires_at = now + datetime.timedelta(days=PLAN_VALID_DAYS)
    plan.save(update_fields=DECISION_FIELDS)
    record(
        actor=actor,
        action=f"infrastructure.{action}_consolidation",
        obj=plan,
        changes=diff(before, snapshot(plan, DECISION_FIELDS)),
        detail=reason,
    )
    return plan


@service("infrastructure.approve_consolidation")
def approve_consolidation(plan, *, actor):
    """Approve a proposed plan: it runs in the pool's next maintenance window, within
    ``PLAN_VALID_DAYS``. Not by the person who proposed it."""
    return _decide(actor, plan, "approve", PlanStatus.APPROVED)


@service("infrastructure.reject_consolidation")
def reject_consolidation(plan, *, actor, reason):
    """Reject a proposed plan, saying why. Not by the person who proposed it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the plan is rejected.")})
    return _decide(actor, plan, "reject", PlanStatus.REJECTED, reason[:300])


@service("infrastructure.cancel_consolidation")
def cancel_consolidation(plan, *, actor):
    """Stop a plan that is waiting or running: moves not begun are skipped, a move under
    way is finished by its job, and no host is put in standby."""
    require(actor, "change", plan)
    plan = _locked(plan)
    if plan.status not in OPEN_PLANS:
        raise Conflict(_("Only a plan waiting or running can be cancelled."))
    before = snapshot(plan, ("status", "finished_at"))
    plan.status, plan.finished_at = PlanStatus.CANCELLED, timezone.now()
    plan.save(update_fields=["status", "finished_at"])
    plan.moves.filter(status=MoveStatus.PENDING).update(
        status=MoveStatus.SKIPPED, detail=_("The plan was cancelled.")
    )
    record(
        actor=actor,
        action="infrastructure.cancel_consolidation",
        obj=plan,
        changes=diff(before, snapshot(plan, ("status", "finished_at"))),
    )
    return plan
