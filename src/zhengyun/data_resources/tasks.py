"""The information resource services' periodic work: sharing requests left unanswered past
their due date go to the operator (R-D2); providers' tables are copied again as their
resources' update cycles say (R-D3)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from zhengyun.data_resources import department_databases, sharing
from zhengyun.jobs.runner import tracked


@db_periodic_task(crontab(minute="5"))
@tracked
def escalate_overdue_sharing_task():
    """Every hour: escalate the requests that became overdue."""
    return f"escalated={sharing.escalate_overdue(actor=None)}"


@db_periodic_task(crontab(minute="*/10"))
@tracked
def copy_department_databases_task():
    """Every ten minutes: copy the tables whose copies are older than their update cycle."""
    return f"copied={department_databases.copy_due()}"
