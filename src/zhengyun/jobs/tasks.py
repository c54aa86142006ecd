"""The jobs app's own periodic work."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from zhengyun.jobs.runner import tracked
from zhengyun.jobs.services import sweep_interrupted


@db_periodic_task(crontab(minute="*/5"))
@tracked
def sweep_interrupted_runs_task():
    """Every five minutes: runs whose worker process on this host is gone are interrupted
    (a worker of several processes restarts one without the others noticing at start)."""
    return f"interrupted={sweep_interrupted()}"
