"""Operators' changes to monitoring: the thresholds alerts are raised against (R-I4).
Like every service, each checks permission, runs in one transaction and is audited."""

from zhengyun.core import crud
from zhengyun.core.services import service
from zhengyun.infrastructure.models import MetricThreshold

THRESHOLD_FIELDS = {"name", "metric", "limit", "minutes"}


@service("infrastructure.create_metric_threshold")
def create_threshold(*, actor, name, metric, limit, minutes=5):
    """A limit on ``metric`` held for ``minutes`` before an alert is raised."""
    return crud.create(
        actor,
        MetricThreshold,
        "infrastructure.create_metric_threshold",
        name=name,
        metric=metric,
        limit=limit,
        minutes=minutes,
    )


@service("infrastructure.update_metric_threshold")
def update_threshold(threshold, *, actor, changes):
    """Change a threshold's name, metric, limit or minutes."""
    return crud.update(
        actor, threshold, "infrastructure.update_metric_threshold", changes, THRESHOLD_FIELDS
    )


@service("infrastructure.delete_metric_threshold")
def delete_threshold(threshold, *, actor):
    """Remove a threshold that never raised an alert (alerts keep theirs as a record)."""
    return crud.delete(actor, threshold, "infrastructure.delete_metric_threshold")
