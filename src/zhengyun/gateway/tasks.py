"""The gateway's periodic work: sealing the calls logged since the last batch (R-D3), and
posting subscriptions' deliveries that are due (R-A4)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from zhengyun.gateway import calllog, subscriptions
from zhengyun.jobs.runner import tracked


@db_periodic_task(crontab(minute="*"))
@tracked
def seal_gateway_calls_task():
    """Every minute: chain and sign the calls logged since."""
    return f"sealed={calllog.seal_all()}"


@db_periodic_task(crontab(minute="*"))
@tracked
def deliver_changes_task():
    """Every minute, and at once after a change: post the deliveries that are due."""
    return f"posted={subscriptions.deliver_due()}"
