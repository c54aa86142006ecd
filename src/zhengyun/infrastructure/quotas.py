"""Department quotas, taken and given back under the quota row's lock (R-I3).

Each order locks its department's row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one
writer at a time anyway), checks every limit against what is in use, and moves the figures
in use in the same transaction as the order: of many concurrent orders for the last free
slot exactly one gets it, and an order that fails later gives back exactly what it took.

An order is a mapping of resource names (``instances``, ``vcpus``, ``memory_mb``,
``disk_gb``, ``addresses``, ``volumes``, ``load_balancers``) to amounts — volumes' and
snapshots' sizes count as disk, a load balancer's virtual address as an address; each
resource has ``max_<name>`` and ``used_<name>`` on the quota.

A region may also limit what all the departments of its subtree hold together
(``RegionQuota``). An order then locks, after its department's row, the quota rows of its
department's region and of every region above it, top down, and checks each limit against
the sum of the departments' figures — read under those locks, so two departments of one
region racing for its last slot cannot both get it.
"""

from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure.models import Quota, RegionQuota

LABELS = {
    "instances": gettext_lazy("instances"),
    "vcpus": gettext_lazy("vCPUs"),
    "memory_mb": gettext_lazy("memory (MB)"),
    "disk_gb": gettext_lazy("disk (GB)"),
    "addresses": gettext_lazy("addresses"),
    "volumes": gettext_lazy("volumes"),
    "load_balancers": gettext_lazy("load balancers"),
}
LIMIT_FIELDS = frozenset(f"max_{name}" for name in LABELS)


class QuotaExceeded(Conflict):
    """The order would take the department past one of its limits."""

    code = "quota_exceeded"

    def __init__(self, message, *, exceeded):
        super().__init__(message)
        self.exceeded = exceeded

    def extra(self):
        return {"exceeded": self.exceeded}


def of_instance(size):
    """What an instance of ``size`` (anything with ``vcpus``, ``memory_mb``, ``disk_gb``)
    counts against its department's quota."""
    return {
        "instances": 1,
        "vcpus": size.vcpus,
        "memory_mb": size.memory_mb,
        "disk_gb": size.disk_gb,
    }


def locked_quota(department):
    """The department's quota row, locked until the transaction ends (made on first use)."""
    Quota.objects.get_or_create(department=department)
    return Quota.objects.select_for_update().get(department=department)


def take(department, amounts):
    """Count ``amounts`` as in use, or raise ``QuotaExceeded`` naming every limit it would
    pass, changing nothing."""
    quota = locked_quota(department)
    exceeded = [
        {
            "resource": name,
            "limit": getattr(quota, f"max_{name}"),
            "in_use": getattr(quota, f"used_{name}"),
            "requested": wanted,
        }
        for name, wanted in amounts.items()
        if getattr(quota, f"used_{name}") + wanted > getattr(quota, f"max_{name}")
    ]
    if exceeded:
        raise QuotaExceeded(
            _("This would exceed your department's quota of %(names)s.")
            % {"names": ", ".join(str(LABELS[item["resource"]]) for item in exceeded)},
            exceeded=exceeded,
        )
    _check_regions(department, amounts)
    return _move(quota, amounts, +1)


def _check_regions(department, amounts):
    codes = department.region.ancestor_codes()
    for regional in (
        RegionQuota.objects.select_for_update()
        .filter(region__code__in=codes)
        .select_related("region")
        .order_by("region__code")
    ):
        limited = {
            name: wanted
            for name, wanted in amounts.items()
            if wanted > 0 and getattr(regional, f"max_{name}") is not None
        }
        if not limited:
            continue
        in_use = region_in_use(regional.region, limited)
        exceeded = [
            {
                "resource": name,
                "region": regional.region.code,
                "limit": getattr(regional, f"max_{name}"),
                "in_use": in_use[name],
                "requested": wanted,
            }
            for name, wanted in limited.items()
            if in_use[name] + wanted > getattr(regional, f"max_{name}")
        ]
        if exceeded:
            raise QuotaExceeded(
                _("This would exceed the quota of %(region)s for its departments: %(names)s.")
                % {
                    "region": regional.region.name,
                    "names": ", ".join(str(LABELS[item["resource"]]) for item in exceeded),
                },
                exceeded=exceeded,
            )


def region_in_use(region, names=LABELS):
    """What the departments of ``region``'s subtree hold together, per resource."""
    sums = Quota.objects.filter(department__region__code__startswith=region.prefix).aggregate(
        **{name: Sum(f"used_{name}") for name in names}
    )
    return {name: sums[name] or 0 for name in names}


def give_back(department, amounts):
    """Return ``amounts`` to the department's quota (never below zero)."""
    return _move(locked_quota(department), amounts, -1)


def _move(quota, amounts, sign):
    for name, amount in amounts.items():
        used = f"used_{name}"
        setattr(quota, used, max(0, getattr(quota, used) + sign * amount))
    quota.save(update_fields=[f"used_{name}" for name in amounts])
    return quota
