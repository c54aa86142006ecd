"""Reclaiming idle instances with the department's consent (R-G3, R-I4).

Once a day the platform looks for active instances whose every hourly CPU average stayed
below ``ZHENGYUN_RECLAIM_CPU_PERCENT`` for the last ``ZHENGYUN_RECLAIM_IDLE_DAYS`` days (with
hourly figures for at least nine tenths of the hours — an instance the collector could not
see is not called idle) and proposes each to its department. Nothing is stopped or deleted
by the platform: the department keeps the instance, giving a reason; stops it, through the
ordinary stop (a stopped instance is not idle, so it is not proposed again while stopped);
or releases it, which deletes it through the ordinary deletion — both with the answering
person as the actor. A proposal
whose instance is busy again or gone is withdrawn; an instance kept is not proposed again
for ``ZHENGYUN_RECLAIM_KEEP_DAYS`` days. Everyone who may answer a proposal finds it in
their notifications. The answer is due within
``ZHENGYUN_RECLAIM_ANSWER_DAYS`` working days of the Chinese calendar; proposals not answered
by then are shown to the operators as overdue.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require
from zhengyun.audit.services import record
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import service
from zhengyun.core.workdays import add_workdays
from zhengyun.infrastructure import instance_power, services
from zhengyun.infrastructure.choices import InstanceStatus, ReclamationStatus, Resolution
from zhengyun.infrastructure.models import Instance, InstanceSample, ReclamationProposal
from zhengyun.notifications.services import notify, people_who_may

COVERAGE = 0.9


def idle_instances(now=None):
    """``{instance id: (mean CPU, busiest hour's CPU)}`` of active instances idle over the
    whole period."""
    now = now or timezone.now()
    days = settings.ZHENGYUN_RECLAIM_IDLE_DAYS
    since = now - datetime.timedelta(days=days)
    rows = (
        InstanceSample.objects.filter(
            resolution=Resolution.HOUR,
            bucket__gte=since,
            cpu_percent__isnull=False,
            instance__status=InstanceStatus.ACTIVE,
            instance__created_at__lte=since,
        )
        .values("instance_id")
        .annotate(hours=Count("id"), mean=Avg("cpu_percent"), peak=Max("cpu_percent"))
        .filter(
            hours__gte=int(days * 24 * COVERAGE),
            peak__lt=settings.ZHENGYUN_RECLAIM_CPU_PERCENT,
        )
    )
    return {row["instance_id"]: (row["mean"], row["peak"]) for row in rows}


@transaction.atomic
def propose(now=None):
    """Propose the newly idle instances and withdraw proposals that no longer hold.
    Returns (proposed, withdrawn)."""
    now = now or timezone.now()
    idle = idle_instances(now)
    withdrawn = 0
    for proposal in ReclamationProposal.objects.select_for_update().filter(
        status=ReclamationStatus.OPEN
    ):
        if proposal.instance_id not in idle:
            proposal.status = ReclamationStatus.WITHDRAWN
            proposal.save(update_fields=["status"])
            record(actor=None, action="infrastructure.withdraw_reclamation", obj=proposal)
            withdrawn += 1
    recently = now - datetime.timedelta(days=settings.ZHENGYUN_RECLAIM_KEEP_DAYS)
    spared = set(
        ReclamationProposal.objects.filter(
            status=ReclamationStatus.KEPT, answered_at__gte=recently
        ).values_list("instance_id", flat=True)
    )
    already = set(
        ReclamationProposal.objects.filter(status=ReclamationStatus.OPEN).values_list(
            "instance_id", flat=True
        )
    )
    due = add_workdays(timezone.localdate(now), settings.ZHENGYUN_RECLAIM_ANSWER_DAYS)
    proposed = 0
    for instance in Instance.objects.filter(pk__in=set(idle) - spared - already):
        mean, peak = idle[instance.pk]
        proposal = ReclamationProposal.objects.create(
            instance=instance,
            department_id=instance.department_id,
            cpu_mean=round(mean, 2),
            cpu_peak=round(peak, 2),
            idle_days=settings.ZHENGYUN_RECLAIM_IDLE_DAYS,
            answer_due=due,
        )
        record(
            actor=None,
            action="infrastructure.propose_reclamation",
            obj=proposal,
            detail=f"instance={instance.pk} cpu_mean={mean:.2f} cpu_peak={peak:.2f}",
        )
        notify(
            "reclamation.proposed",
            to=people_who_may("change", proposal),
            params={"instance": instance.name, "days": proposal.idle_days, "due": str(due)},
            link=reverse("infrastructure:analytics"),
        )
        proposed += 1
    return proposed, withdrawn


def _open(proposal):
    locked = ReclamationProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != ReclamationStatus.OPEN:
        raise Conflict(
            _("This proposal was already answered or withdrawn (%(status)s).")
            % {"status": locked.get_status_display()}
        )
    return locked


@service("infrastructure.keep_instance")
def keep(proposal, *, actor, reason):
    """The department keeps the instance; the reason is recorded."""
    require(actor, "change", proposal)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the department keeps this instance.")})
    locked = _open(proposal)
    locked.status, locked.reason = ReclamationStatus.KEPT, reason[:500]
    locked.answered_by, locked.answered_at = actor, timezone.now()
    locked.save()
    record(
        actor=actor,
        action="infrastructure.keep_instance",
        obj=locked,
        changes={"status": [ReclamationStatus.OPEN, ReclamationStatus.KEPT]},
        detail=locked.reason,
    )
    return locked


@service("infrastructure.release_instance")
def release(proposal, *, actor, reason=""):
    """The department releases the instance: it is deleted as if they had deleted it."""
    require(actor, "change", proposal)
    locked = _open(proposal)
    services.delete_instance(locked.instance, actor=actor)
    locked.status, locked.reason = ReclamationStatus.RELEASED, (reason or "").strip()[:500]
    locked.answered_by, locked.answered_at = actor, timezone.now()
    locked.save()
    record(
        actor=actor,
        action="infrastructure.release_instance",
        obj=locked,
        changes={"status": [ReclamationStatus.OPEN, ReclamationStatus.RELEASED]},
    )
    return locked


@service("infrastructure.stop_idle_instance")
def stop(proposal, *, actor, reason=""):
    """The department stops the instance; it can start it again whenever it needs it."""
    require(actor, "change", proposal)
    locked = _open(proposal)
    instance_power.stop_instance(locked.instance, actor=actor)
    locked.status, locked.reason = ReclamationStatus.STOPPED, (reason or "").strip()[:500]
    locked.answered_by, locked.answered_at = actor, timezone.now()
    locked.save()
    record(
        actor=actor,
        action="infrastructure.stop_idle_instance",
        obj=locked,
        changes={"status": [ReclamationStatus.OPEN, ReclamationStatus.STOPPED]},
    )
    return locked
