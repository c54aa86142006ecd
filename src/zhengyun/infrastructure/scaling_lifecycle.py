"""The scaling job (R-I3, R-G2), run every minute for every enabled group, and at once after
a person changes one. Idempotent and resumable (design rule 5).

For each group it first decides, in one transaction under the group's row lock:

1. scheduled actions due today (Beijing time, by the Chinese working calendar) set the
   sizes, once a day each;
2. target tracking: with ``n`` serving (active) members whose mean CPU over the last five
   minute-buckets is ``m``, the group wants ``ceil(n × m / target)`` instances, within its
   minimum and maximum — at most one change per cooldown. Scaling in is gentler: the load
   must have asked for fewer for a whole cooldown, and one step removes at most one
   instance or 10 % of them;
3. members beyond ``desired`` (newest first, broken ones before them) are marked leaving.

Then it converges, each step its own commit: leaving members are taken out of the pool and
then deleted; missing members are ordered through ``create_instance`` with the group's
spec, the instance and its ``ScalingMember`` row in one commit under the group's lock, so a
worker killed at any line never orders two instances for one slot; members once active join
the pool on its listener's port. An order the quota or the scheduler refuses is logged as a
failed activity and not tried again before a cooldown has passed.

The job acts for the person who created the group: quota, server groups, security groups
and their permissions apply to its orders as to theirs.
"""

import datetime
import logging
import math

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.audit.services import record
from zhengyun.core.exceptions import Conflict, PermissionDenied
from zhengyun.core.workdays import is_workday
from zhengyun.infrastructure import balancers, services
from zhengyun.infrastructure.choices import (
    ActivityCause,
    ActivityResult,
    InstanceStatus,
    Resolution,
    ScheduleDays,
)
from zhengyun.infrastructure.models import (
    InstanceSample,
    Member,
    ScalingGroup,
    ScalingMember,
)
from zhengyun.infrastructure.scaling import log_activity
from zhengyun.jobs.crash_points import crash_point

logger = logging.getLogger(__name__)

# Instances that no longer serve and will not again: the group replaces them.
GONE = (InstanceStatus.DELETING, InstanceStatus.DELETED, InstanceStatus.ERROR)
SAMPLE_WINDOW = datetime.timedelta(minutes=5)
SCALE_IN_FRACTION = 0.10


def groups_to_scale():
    """Every group: a disabled one follows no load or schedule (``_decide``) but still
    reaches the size set by hand — members joined once built, refusals retried."""
    return list(ScalingGroup.objects.values_list("pk", flat=True))


def tick(now=None):
    """One minute's work for every group; ``now`` is when schedules and samples are judged."""
    now = now or timezone.now()
    return {group_id: scale(group_id, now) for group_id in groups_to_scale()}


def scale(group_id, now=None):
    """Decide and converge one group; how many instances it should have afterwards (None
    once a deleted group is gone)."""
    now = now or timezone.now()
    if not _decide(group_id, now):
        return None
    crash_point("scaling.decided")
    _leave(group_id)
    crash_point("scaling.left")
    _order(group_id, now)
    crash_point("scaling.ordered")
    _join(group_id)
    return _finish(group_id)


def _living(group):
    return group.members.filter(leaving=False).exclude(instance__status__in=GONE)


def _decide(group_id, now):
    with transaction.atomic():
        group = ScalingGroup.objects.select_for_update(of=("self",)).filter(pk=group_id).first()
        if group is None:
            return False
        if group.enabled and not group.deleting:
            _run_schedules(group, now)
            _track_target(group, now)
        _mark_leaving(group)
    return True


def _is_due(action, local_now):
    if action.last_run_on == local_now.date() or local_now.time() < action.time_of_day:
        return False
    if action.days == ScheduleDays.EVERY_DAY:
        return True
    return is_workday(local_now.date()) == (action.days == ScheduleDays.WORKDAYS)


def _run_schedules(group, now):
    local_now = timezone.localtime(now)
    for action in group.scheduled_actions.order_by("time_of_day", "pk"):
        if not _is_due(action, local_now):
            continue
        old = group.desired
        low = action.min_size if action.min_size is not None else group.min_size
        high = action.max_size if action.max_size is not None else group.max_size
        if low > high:  # the action's own size wins over the group's other bound
            low, high = (high, high) if action.max_size is not None else (low, low)
        wanted = action.desired if action.desired is not None else group.desired
        group.min_size, group.max_size = low, high
        group.desired = min(max(wanted, low), high)
        if group.desired != old:
            group.last_scaled_at, group.low_since = now, None
        group.save(update_fields=["min_size", "desired", "max_size", "last_scaled_at", "low_since"])
        action.last_run_on = local_now.date()
        action.save(update_fields=["last_run_on"])
        _audit(group, "infrastructure.run_scheduled_action", old, f"action={action.pk}")
        log_activity(
            group,
            ActivityCause.SCHEDULE,
            before=old,
            after=group.desired,
            detail=_("%(action)s: minimum %(min)d, maximum %(max)d")
            % {"action": action, "min": low, "max": high},
        )


def mean_cpu(group, now):
    """``(serving members, their mean CPU % over the last five minute-buckets)``; the mean
    is None without samples. Only active instances serve: one starting, stopping or
    rebooting says nothing of the load."""
    serving = list(
        _living(group)
        .filter(instance__status=InstanceStatus.ACTIVE)
        .values_list("instance_id", flat=True)
    )
    if not serving:
        return 0, None
    mean = InstanceSample.objects.filter(
        instance_id__in=serving,
        resolution=Resolution.MINUTE,
        bucket__gt=now - SAMPLE_WINDOW,
        bucket__lte=now,
        cpu_percent__isnull=False,
    ).aggregate(mean=Avg("cpu_percent"))["mean"]
    return len(serving), mean


def _cooling(group, now):
    return group.last_scaled_at and now - group.last_scaled_at < _cooldown(group)


def _cooldown(group):
    return datetime.timedelta(seconds=group.cooldown_s)


def _track_target(group, now):
    if _cooling(group, now):
        return
    serving, mean = mean_cpu(group, now)
    if mean is None:
        return
    wanted = math.ceil(round(serving * mean / group.target_cpu, 6))
    wanted = min(max(wanted, group.min_size), group.max_size)
    old = group.desired
    if wanted > old:
        group.desired, group.low_since = wanted, None
    elif wanted < old:
        if group.low_since is None:
            group.low_since = now
        elif now - group.low_since >= _cooldown(group):
            step = max(1, int(old * SCALE_IN_FRACTION))
            group.desired, group.low_since = max(wanted, old - step), None
    else:
        group.low_since = None
    if group.desired != old:
        group.last_scaled_at = now
    group.save(update_fields=["desired", "low_since", "last_scaled_at"])
    if group.desired != old:
        _audit(group, "infrastructure.track_target", old, f"mean_cpu={mean:.1f}")
        log_activity(
            group,
            ActivityCause.TARGET,
            before=old,
            after=group.desired,
            mean_cpu=round(mean, 1),
            detail=_("mean CPU %(mean).1f %% of %(serving)d serving, target %(target)d %%")
            % {"mean": mean, "serving": serving, "target": group.target_cpu},
        )


def _audit(group, action, old_desired, detail):
    """The job's change of the group's sizes, in the audit trail (design rule 3)."""
    record(
        actor=None,
        action=action,
        obj=group,
        changes={"desired": [old_desired, group.desired]},
        detail=detail,
    )


def _mark_leaving(group):
    """Mark broken members and those beyond ``desired`` as leaving: first those serving
    nobody (stopped, or on their way), then the newest."""
    group.members.filter(leaving=False, instance__status=InstanceStatus.ERROR).update(leaving=True)
    living = sorted(
        _living(group).values_list("pk", "slot", "instance__status"),
        key=lambda m: (m[2] in (InstanceStatus.ACTIVE, InstanceStatus.BUILDING), -m[1]),
    )
    excess = [pk for pk, _slot, _status in living[: max(0, len(living) - group.desired)]]
    if excess:
        ScalingMember.objects.filter(pk__in=excess).update(leaving=True)


def _leave(group_id):
    """Take each leaving member out of the pool, then delete its instance."""
    group = ScalingGroup.objects.get(pk=group_id)
    for member in group.members.filter(leaving=True).select_related("instance"):
        for membership in Member.objects.filter(pool_id=group.pool_id, instance=member.instance):
            _as_owner(group, balancers.remove_member, membership)
        crash_point("scaling.left_pool")
        if member.instance.status not in (InstanceStatus.DELETING, InstanceStatus.DELETED):
            _as_owner(group, services.delete_instance, member.instance)


def _as_owner(group, operation, *args, **kwargs):
    """``operation`` done for the group's owner; the reason it was refused, if it was."""
    try:
        operation(*args, actor=group.created_by, **kwargs)
    except (ValidationError, Conflict, PermissionDenied) as exc:
        logger.warning("scaling group %s: %s refused: %s", group.pk, operation.__name__, exc)
        return _reason(exc)
    return None


def _reason(exc):
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(getattr(exc, "message", exc))


def _order(group_id, now):
    """Order the missing members, one commit each, under the group's lock."""
    while True:
        with transaction.atomic():
            group = ScalingGroup.objects.select_for_update(of=("self",)).get(pk=group_id)
            missing = group.desired - _living(group).count()
            if missing <= 0:
                return
            if group.last_refused_at and now - group.last_refused_at < _cooldown(group):
                return  # a refused order is not retried before a cooldown has passed
            if not _order_one(group, now):
                return


def _order_one(group, now):
    slot = group.next_slot
    name = f"{group.name}-{slot}"
    group.next_slot = slot + 1
    group.save(update_fields=["next_slot"])
    try:
        instance = services.create_instance(
            actor=group.created_by,
            department=group.department,
            name=name,
            flavour=group.flavour,
            image=group.image,
            subnet=group.subnet,
            server_group=group.server_group,
            security_groups=list(group.security_groups.all()),
            key_pair=group.key_pair,
        )
    except (ValidationError, Conflict, PermissionDenied) as exc:
        group.last_refused_at = now
        group.save(update_fields=["last_refused_at"])
        log_activity(
            group,
            ActivityCause.CONVERGE,
            before=group.desired,
            result=ActivityResult.FAILED,
            detail=(_("%(name)s was refused: %(reason)s") % {"name": name, "reason": _reason(exc)})[
                :500
            ],
        )
        return False
    crash_point("scaling.ordering")
    ScalingMember.objects.create(
        group=group, department_id=group.department_id, instance=instance, slot=slot
    )
    group.last_refused_at = None
    group.save(update_fields=["last_refused_at"])
    log_activity(
        group,
        ActivityCause.CONVERGE,
        before=group.desired,
        detail=_("%(name)s ordered") % {"name": name},
    )
    return True


def _join(group_id):
    """Put active members not yet in the pool into it, on its listener's port."""
    group = ScalingGroup.objects.select_related("pool__listener").get(pk=group_id)
    in_pool = Member.objects.filter(pool_id=group.pool_id).values_list("instance_id", flat=True)
    joining = (
        _living(group)
        .filter(instance__status=InstanceStatus.ACTIVE)
        .exclude(instance_id__in=in_pool)
        .select_related("instance")
    )
    for member in joining:
        _as_owner(
            group,
            balancers.add_member,
            group.pool,
            instance=member.instance,
            port=group.pool.listener.port,
        )


def _finish(group_id):
    """Forget members whose instance is deleted; remove a deleted group once it is empty."""
    with transaction.atomic():
        group = ScalingGroup.objects.select_for_update(of=("self",)).get(pk=group_id)
        group.members.filter(instance__status=InstanceStatus.DELETED).delete()
        if group.deleting and not group.members.exists():
            pk = group.pk
            group.delete()
            record(
                actor=None,
                action="infrastructure.scaling_group_removed",
                obj=group,
                object_id=str(pk),
                changes={"deleting": [True, None]},
            )
            return None
        return group.desired
