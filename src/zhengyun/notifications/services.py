"""Leaving notifications for the people concerned, and reading them (design rule 1)."""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from zhengyun.accounts.access import can, model_label, require
from zhengyun.accounts.roles import GRANTS, ScopeKind
from zhengyun.audit.services import record
from zhengyun.core.services import service
from zhengyun.notifications.models import Notification


def people_who_may(action, obj, but=None):
    """The active people (but ``but``) who may perform ``action`` on ``obj`` now, through a
    role they hold or one lent to them by a delegation in force."""
    label = model_label(type(obj))
    roles = [role for role, grants in GRANTS.items() if action in grants.get(label, ())]
    now = timezone.now()
    held = Q(role_assignments__role__in=roles)
    lent = Q(
        delegations__assignment__role__in=roles,
        delegations__revoked_at__isnull=True,
        delegations__starts_at__lte=now,
        delegations__ends_at__gt=now,
    )
    scoping = type(obj).scoping
    if not scoping.region_above_department:
        # A department's roles reach that department's rows only: the many people of
        # other departments are not asked one by one. (Delegations lend department roles.)
        departments = _departments_of(obj, scoping, action)
        held &= Q(role_assignments__scope__in=(ScopeKind.PLATFORM, ScopeKind.REGION)) | Q(
            role_assignments__department_id__in=departments
        )
        lent &= Q(delegations__assignment__department_id__in=departments)
    candidates = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(held | lent)
        .exclude(pk=getattr(but, "pk", None))
        .distinct()
    )
    return {person for person in candidates if can(person, action, obj)}


def _departments_of(obj, scoping, action):
    lookups = scoping.department_lookups(action)
    if not lookups:
        return []
    return list(type(obj)._base_manager.filter(pk=obj.pk).values_list(*lookups).get())


def notify(kind, *, to, params, link=""):
    """Leave a notification of ``kind`` for each of the people ``to``; how many were left.
    Called inside the transaction that made the news, so a rolled-back change notifies
    nobody."""
    notices = [
        Notification(recipient=person, kind=kind, params=params, link=link)
        for person in sorted(to, key=lambda person: person.pk)
    ]
    Notification.objects.bulk_create(notices)
    return len(notices)


def unread_count(user):
    return Notification.objects.restrict(user, "view").filter(read_at__isnull=True).count()


@service("notifications.mark_read")
def mark_read(notification, *, actor):
    """Mark one of ``actor``'s notifications read (again is harmless)."""
    require(actor, "change", notification)
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        record(
            actor=actor,
            action="notifications.mark_read",
            obj=notification,
            changes={"read_at": [None, notification.read_at.isoformat()]},
        )
    return notification


@service("notifications.mark_all_read")
def mark_all_read(*, actor):
    """Mark every unread notification of ``actor`` read; how many there were."""
    unread = Notification.objects.restrict(actor, "change").filter(read_at__isnull=True)
    marked = sorted(unread.select_for_update().values_list("pk", flat=True))
    if marked:
        now = timezone.now()
        Notification.objects.filter(pk__in=marked).update(read_at=now)
        record(
            actor=actor,
            action="notifications.mark_all_read",
            changes={"read_at": [None, now.isoformat()], "notifications": [None, marked]},
            detail=f"{len(marked)} read",
        )
    return len(marked)
