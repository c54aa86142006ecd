"""Department quotas, taken and given back under the quota row's lock (R-I3).

Each order locks its department's row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one
writer at a time anyway), checks every limit against what is in use, and moves the figures
in use in the same transaction as the order: of many concurrent orders for the last free
slot exactly one gets it, and an order that fails later gives back exactly what it took.
"""

from django.utils.translation import gettext as _

from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure.models import Quota

# (limit field, in-use field, size attribute of the order, what to call it)
_MEASURES = (
    ("max_instances", "used_instances", None, lambda: _("instances")),
    ("max_vcpus", "used_vcpus", "vcpus", lambda: _("vCPUs")),
    ("max_memory_mb", "used_memory_mb", "memory_mb", lambda: _("memory (MB)")),
    ("max_disk_gb", "used_disk_gb", "disk_gb", lambda: _("disk (GB)")),
)


class QuotaExceeded(Conflict):
    """The order would take the department past one of its limits."""

    code = "quota_exceeded"

    def __init__(self, message, *, exceeded):
        super().__init__(message)
        self.exceeded = exceeded

    def extra(self):
        return {"exceeded": self.exceeded}


def _amount(size, attribute):
    return 1 if attribute is None else getattr(size, attribute)


def locked_quota(department):
    """The department's quota row, locked until the transaction ends (made on first use)."""
    Quota.objects.get_or_create(department=department)
    return Quota.objects.select_for_update().get(department=department)


def take(department, size):
    """Count ``size`` (anything with ``vcpus``, ``memory_mb``, ``disk_gb``) as in use, or
    raise ``QuotaExceeded`` naming every limit it would pass, changing nothing."""
    quota = locked_quota(department)
    exceeded, names = [], []
    for limit, used, attribute, label in _MEASURES:
        wanted = _amount(size, attribute)
        if getattr(quota, used) + wanted > getattr(quota, limit):
            names.append(str(label()))
            exceeded.append(
                {
                    "resource": limit.removeprefix("max_"),
                    "limit": getattr(quota, limit),
                    "in_use": getattr(quota, used),
                    "requested": wanted,
                }
            )
    if exceeded:
        raise QuotaExceeded(
            _("This would exceed your department's quota of %(names)s.")
            % {"names": ", ".join(names)},
            exceeded=exceeded,
        )
    for _limit, used, attribute, _label in _MEASURES:
        setattr(quota, used, getattr(quota, used) + _amount(size, attribute))
    quota.save(update_fields=[used for _l, used, _a, _n in _MEASURES])
    return quota


def give_back(department, size):
    """Return ``size`` to the department's quota (never below zero)."""
    quota = locked_quota(department)
    for _limit, used, attribute, _label in _MEASURES:
        setattr(quota, used, max(0, getattr(quota, used) - _amount(size, attribute)))
    quota.save(update_fields=[used for _l, used, _a, _n in _MEASURES])
    return quota
