"""Alerts on patterns in the audit trail (GB/T 22239 level 3 安全审计: 对审计记录进行分析，
发现异常及时报警; R-X4).

Every minute a periodic job counts, for each pattern in ``ZHENGYUN_AUDIT_ALERTS``, the
matching events of the last ``minutes`` grouped by one field (the actor, the source
address…). A group reaching ``threshold`` raises one alert, which grows while the pattern
goes on instead of repeating, and waits for an audit administrator to acknowledge it.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min
from django.utils import timezone

from zhengyun.audit.models import AuditAlert, AuditEvent

GROUPABLE = {"actor_label", "source_ip", "detail", "action", "object_repr"}


def check(now=None):
    """Evaluate every configured pattern; returns the alerts raised or extended."""
    now = now or timezone.now()
    touched = []
    for pattern in settings.ZHENGYUN_AUDIT_ALERTS:
        touched.extend(_check_pattern(pattern, now))
    return touched


def _check_pattern(pattern, now):
    by = pattern["by"]
    if by not in GROUPABLE:
        raise ValueError(f"audit alert {pattern['name']}: cannot group by {by}")
    since = now - datetime.timedelta(minutes=pattern["minutes"])
    events = AuditEvent.objects.filter(occurred_at__gt=since, occurred_at__lte=now)
    if "action" in pattern:
        events = events.filter(action=pattern["action"])
    if "result" in pattern:
        events = events.filter(result=pattern["result"])
    groups = (
        events.values(by)
        .annotate(
            count=Count("id"),
            first_at=Min("occurred_at"),
            last_at=Max("occurred_at"),
            region_code=Max("actor_region_code"),
            department=Max("actor_department"),
        )
        .filter(count__gte=pattern["threshold"])
    )
    touched = []
    for group in groups:
        subject = str(group[by] or "—")[:200]
        with transaction.atomic():
            # One open alert per pattern and subject: extended while the pattern goes on.
            alert = (
                AuditAlert.objects.select_for_update()
                .filter(
                    pattern=pattern["name"],
                    subject=subject,
                    acknowledged_at__isnull=True,
                    last_at__gte=since,
                )
                .first()
            )
            if alert is None:
                alert = AuditAlert(pattern=pattern["name"], subject=subject, count=0)
                alert.first_at = group["first_at"]
            if group["count"] > alert.count or group["last_at"] != alert.last_at:
                alert.count = max(alert.count, group["count"])
                alert.last_at = group["last_at"]
                alert.region_code = group["region_code"] or ""
                alert.department_id = group["department"]
                alert.save()
                touched.append(alert)
    return touched
