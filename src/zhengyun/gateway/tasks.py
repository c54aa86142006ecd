"""The gateway's periodic work: sealing the calls logged since the last batch (R-D3)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from zhengyun.gateway import calllog
from zhengyun.jobs.runner import tracked


@db_periodic_task(crontab(minute="*"))
@tracked
def seal_gateway_calls_task():
    """Every minute: chain and sign the calls logged since."""
    return f"sealed={calllog.seal_all()}"
