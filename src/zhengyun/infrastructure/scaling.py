"""Business operations on a department's scaling groups (R-I3, R-G2 elastic scale):
creating one behind a pool of its own load balancers, changing its sizes, target and
cooldown, setting how many instances it should have, its scheduled actions, and deleting
it.

Each takes the acting user as ``actor``, checks permission through the restriction helper,
runs in one transaction with its audit event, and leaves the instances to the scaling job
(``scaling_lifecycle``), which orders and removes them after the commit. A group is changed
under its row lock, which the job holds while it decides.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require, require_some
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core import crud
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import full_clean, service
from zhengyun.infrastructure import key_pairs, server_groups
from zhengyun.infrastructure.choices import ActivityCause, ActivityResult, BalancerStatus
from zhengyun.infrastructure.models import (
    LoadBalancer,
    ScalingActivity,
    ScalingGroup,
    ScheduledAction,
)

SETTINGS = frozenset({"min_size", "desired", "max_size", "target_cpu", "cooldown_s", "enabled"})


def _scale_after_commit(group):
    from zhengyun.infrastructure.tasks import scale_group_task

    transaction.on_commit(lambda: scale_group_task(group.pk))


def locked(group):
    """``group``'s row, locked; refused once it is being deleted."""
    group = ScalingGroup.objects.select_for_update(of=("self",)).get(pk=group.pk)
    if group.deleting:
        raise Conflict(_("This scaling group is being deleted."))
    return group


def log_activity(group, cause, *, before, after=None, result=ActivityResult.SUCCEEDED, **extra):
    """Add a line to the group's activity log (inside the transaction that made the change)."""
    return ScalingActivity.objects.create(
        group=group,
        department_id=group.department_id,
        cause=cause,
        result=result,
        desired_before=before,
        desired_after=before if after is None else after,
        **extra,
    )


def _locked_balancer(pool):
    """The pool's load balancer, locked as its deletion locks it: a group is never made on a
    load balancer whose deletion has already looked for groups using it."""
    return LoadBalancer.objects.select_for_update(of=("self",)).get(pk=pool.load_balancer_id)


def _check_parts(department, *, subnet, pool, server_group, security_groups, key_pair=None):
    """Refuse parts of another department, and a pool its members could not be reached from."""
    errors = {}
    if subnet.department_id != department.pk:
        errors["subnet"] = _("Choose a subnet of the department.")
    if pool.department_id != department.pk:
        errors["pool"] = _("Choose a pool of one of the department's load balancers.")
    elif _locked_balancer(pool).status == BalancerStatus.DELETING:
        errors["pool"] = _("This load balancer is being deleted.")
    elif not hasattr(pool, "listener"):
        errors["pool"] = _("This pool has no listener.")
    elif pool.load_balancer.subnet.network_id != subnet.network_id:
        errors["subnet"] = _("Choose a subnet in the load balancer's network %(network)s.") % {
            "network": pool.load_balancer.subnet.network
        }
    if any(group.department_id != department.pk for group in security_groups):
        errors["security_groups"] = _("Choose security groups of the department.")
    if errors:
        raise ValidationError(errors)
    if server_group is not None:
        server_groups.check_for_order(server_group, department)
    if key_pair is not None:
        key_pairs.check_for_order(key_pair, department)


@service("infrastructure.create_scaling_group")
def create_scaling_group(
    *,
    actor,
    department,
    name,
    flavour,
    image,
    subnet,
    pool,
    min_size=1,
    desired=None,
    max_size=4,
    target_cpu=60,
    cooldown_s=300,
    enabled=True,
    server_group=None,
    security_groups=(),
    key_pair=None,
):
    """A scaling group of ``department`` sending ``pool``'s traffic to its members on the
    pool's listener port; the job orders its first ``desired`` (by default ``min_size``)
    instances after the commit."""
    group = ScalingGroup(
        department=department,
        name=name,
        flavour=flavour,
        image=image,
        subnet=subnet,
        pool=pool,
        server_group=server_group,
        key_pair=key_pair,
        min_size=min_size,
        desired=min_size if desired is None else desired,
        max_size=max_size,
        target_cpu=target_cpu,
        cooldown_s=cooldown_s,
        enabled=enabled,
        created_by=actor,
    )
    require_some(actor, "add", group)
    security_groups = list(security_groups)
    _check_parts(
        department,
        subnet=subnet,
        pool=pool,
        server_group=server_group,
        security_groups=security_groups,
        key_pair=key_pair,
    )
    full_clean(group)
    group.save()
    require(actor, "add", group)  # after the insert: a refusal rolls everything back
    group.security_groups.set(security_groups)
    record(
        actor=actor,
        action="infrastructure.create_scaling_group",
        obj=group,
        changes=diff({}, snapshot(group)),
    )
    _scale_after_commit(group)
    return group


@service("infrastructure.update_scaling_group")
def update_scaling_group(group, *, actor, changes):
    """Change the group's sizes, target CPU, cooldown or whether it scales by itself; a
    change of ``desired`` is logged as set by hand."""
    require(actor, "change", group)
    group = locked(group)
    before_desired = group.desired
    group = crud.update(actor, group, "infrastructure.update_scaling_group", changes, SETTINGS)
    if group.desired != before_desired:
        group.last_scaled_at = timezone.now()
        group.save(update_fields=["last_scaled_at"])
        log_activity(group, ActivityCause.MANUAL, before=before_desired, after=group.desired)
    _scale_after_commit(group)
    return group


@service("infrastructure.set_desired_capacity")
def set_desired(group, *, actor, desired):
    """Have ``desired`` instances in the group, between its minimum and maximum; target
    tracking leaves it so for one cooldown."""
    require(actor, "change", group)
    group = locked(group)
    if not group.min_size <= desired <= group.max_size:
        raise ValidationError(
            {
                "desired": _("Choose a number from %(min)d to %(max)d.")
                % {"min": group.min_size, "max": group.max_size}
            }
        )
    before = snapshot(group)
    old = group.desired
    group.desired, group.last_scaled_at, group.low_since = desired, timezone.now(), None
    group.save(update_fields=["desired", "last_scaled_at", "low_since"])
    record(
        actor=actor,
        action="infrastructure.set_desired_capacity",
        obj=group,
        changes=diff(before, snapshot(group)),
    )
    log_activity(group, ActivityCause.MANUAL, before=old, after=desired)
    _scale_after_commit(group)
    return group


@service("infrastructure.delete_scaling_group")
def delete_scaling_group(group, *, actor):
    """Delete the group: the job takes its members out of the pool and deletes them, then
    removes the group."""
    require(actor, "delete", group)
    group = locked(group)
    before = snapshot(group)
    old = group.desired
    group.deleting, group.min_size, group.desired = True, 0, 0
    group.save(update_fields=["deleting", "min_size", "desired"])
    record(
        actor=actor,
        action="infrastructure.delete_scaling_group",
        obj=group,
        changes=diff(before, snapshot(group)),
    )
    log_activity(group, ActivityCause.MANUAL, before=old, after=0, detail=_("Group deleted."))
    _scale_after_commit(group)
    return group


@service("infrastructure.add_scheduled_action")
def add_scheduled_action(
    *, actor, group, days, time_of_day, min_size=None, desired=None, max_size=None
):
    """At ``time_of_day`` (Beijing time) on ``days``, set the sizes given."""
    require(actor, "change", group)
    group = locked(group)
    return crud.create(
        actor,
        ScheduledAction,
        "infrastructure.add_scheduled_action",
        group=group,
        department=group.department,
        days=days,
        time_of_day=time_of_day,
        min_size=min_size,
        desired=desired,
        max_size=max_size,
    )


@service("infrastructure.delete_scheduled_action")
def delete_scheduled_action(action, *, actor):
    """Stop running the scheduled action."""
    crud.delete(actor, action, "infrastructure.delete_scheduled_action")
