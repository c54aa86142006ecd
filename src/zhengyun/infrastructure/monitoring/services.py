"""Changes to monitoring: the thresholds alerts are raised against (R-I4). Operators set
them over hosts and instances in their reach; a department's administrators over their
own department's instances. Like every service, each checks permission, runs in one
transaction and is audited."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require, require_some
from zhengyun.core import crud
from zhengyun.core.services import service
from zhengyun.infrastructure.models import MetricThreshold

THRESHOLD_FIELDS = {"name", "metric", "limit", "minutes", "pool", "host", "department"}
SCOPES = ("pool", "host", "department")


def _check_scope(actor, scope):
    """Refuse a pool, host or department the actor cannot see, in the words used for one
    that does not exist: nobody learns of another department's rows this way."""
    missing = {
        "pool": _("There is no such pool."),
        "host": _("There is no such host."),
        "department": _("There is no such department."),
    }
    errors = {}
    for field, target in scope.items():
        if target is None:
            continue
        if not type(target).objects.restrict(actor, "view").filter(pk=target.pk).exists():
            errors[field] = missing[field]
    if errors:
        raise ValidationError(errors)


@service("infrastructure.create_metric_threshold")
def create_threshold(
    *, actor, name, metric, limit, minutes=5, pool=None, host=None, department=None
):
    """A limit on ``metric`` held for ``minutes`` before an alert is raised, over every
    host or instance or only those of ``pool``, ``host`` or ``department``."""
    require_some(actor, "add", MetricThreshold)
    _check_scope(actor, {"pool": pool, "host": host, "department": department})
    return crud.create(
        actor,
        MetricThreshold,
        "infrastructure.create_metric_threshold",
        name=name,
        metric=metric,
        limit=limit,
        minutes=minutes,
        pool=pool,
        host=host,
        department=department,
    )


@service("infrastructure.update_metric_threshold")
def update_threshold(threshold, *, actor, changes):
    """Change a threshold's name, metric, limit, minutes or scope."""
    require(actor, "change", threshold)  # before saying anything about the new scope
    _check_scope(actor, {field: changes[field] for field in SCOPES if field in changes})
    return crud.update(
        actor, threshold, "infrastructure.update_metric_threshold", changes, THRESHOLD_FIELDS
    )


@service("infrastructure.delete_metric_threshold")
def delete_threshold(threshold, *, actor):
    """Remove a threshold that never raised an alert (alerts keep theirs as a record)."""
    return crud.delete(actor, threshold, "infrastructure.delete_metric_threshold")
