"""Periodic jobs of the audit app."""

import datetime

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from zhengyun.audit import alerts
from zhengyun.audit.services import purge_trail, sign_checkpoint
from zhengyun.jobs.runner import tracked


@db_periodic_task(crontab(minute="*"))
@tracked
def sign_audit_checkpoint_task():
    """Every minute: sign the chain head when enough events or time have gone by."""
    checkpoint = sign_checkpoint()
    return checkpoint.seq if checkpoint else 0


@db_periodic_task(crontab(minute="*"))
@tracked
def check_audit_alerts_task():
    """Every minute: raise alerts on the configured patterns in the trail."""
    return len(alerts.check())


@db_periodic_task(crontab(minute="40", hour="3"))
@tracked
def purge_past_retention_task():
    """Every night, when ``ZHENGYUN_AUDIT_PURGE_AFTER_DAYS`` is set: archive and purge the
    events older than that, up to a signed checkpoint; returns how many went."""
    days = settings.ZHENGYUN_AUDIT_PURGE_AFTER_DAYS
    if not days:
        return 0
    purge = purge_trail(timezone.now() - datetime.timedelta(days=days))
    return purge.events if purge else 0
