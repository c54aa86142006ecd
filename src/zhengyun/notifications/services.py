"""Leaving notifications for the people concerned, and reading them (design rule 1)."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from zhengyun.accounts.access import can, model_label, require
from zhengyun.accounts.roles import GRANTS
from zhengyun.audit.services import record
from zhengyun.core.services import service
from zhengyun.notifications.models import Notification


def people_who_may(action, obj):
    """The active people who may perform ``action`` on ``obj`` now, through a role they
    hold or one lent to them by a delegation in force."""
    label = model_label(type(obj))
    roles = [role for role, grants in GRANTS.items() if action in grants.get(label, ())]
    now = timezone.now()
    candidates = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(role_assignments__role__in=roles)
            | Q(
                delegations__assignment__role__in=roles,
                delegations__revoked_at__isnull=True,
                delegations__starts_at__lte=now,
                delegations__ends_at__gt=now,
            )
        )
        .distinct()
        .order_by("pk")
    )
    return [person for person in candidates if can(person, action, obj)]


def notify(kind, *, about, who_may, params, link=""):
    """Leave a notification of ``kind`` for everyone who may ``who_may`` the object
    ``about``; how many were left. Called inside the transaction that made the news, so a
    rolled-back change notifies nobody."""
    notices = [
        Notification(recipient=person, kind=kind, params=params, link=link)
        for person in people_who_may(who_may, about)
    ]
    Notification.objects.bulk_create(notices)
    return len(notices)


def unread_count(user):
    return Notification.objects.restrict(user, "view").filter(read_at__isnull=True).count()


@service("notifications.mark_read")
def mark_read(notification, *, actor):
    """Mark one of ``actor``'s notifications read (again is harmless)."""
    require(actor, "change", notification)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        record(actor=actor, action="notifications.mark_read", obj=notification)
    return notification


@service("notifications.mark_all_read")
def mark_all_read(*, actor):
    """Mark every unread notification of ``actor`` read; how many there were."""
    marked = (
        Notification.objects.restrict(actor, "change")
        .filter(read_at__isnull=True)
        .update(read_at=timezone.now())
    )
    if marked:
        record(actor=actor, action="notifications.mark_all_read", detail=f"{marked} read")
    return marked
