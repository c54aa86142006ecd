"""Periodic jobs of the audit app."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from zhengyun.audit import alerts
from zhengyun.audit.services import sign_checkpoint
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
