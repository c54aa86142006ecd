"""Supervision figures of the information resource services (R-G3, R-G5): for each
department a user may view, and for each region they sit in, how many resources it has
registered and published with their share-type mix, how it answered the sharing requests
made to it (on time, and how many working days on average), how many gateway calls its
data served, and how many of its resources are updated less often than they declare.

Departments are chosen through the restriction helper (an operator reads its region's, a
department its own); the figures about them are then counted in one query per kind.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from zhengyun.core.workdays import workday_counter
from zhengyun.data_resources.choices import (
    RequestStatus,
    ShareType,
    UpdateCycle,
)
from zhengyun.data_resources.models import (
    CatalogResource,
    ResourceDataset,
    ResourceUpstream,
    ResourceVersion,
    SharingRequest,
)
from zhengyun.gateway.models import GatewayCall
from zhengyun.organizations.models import Department

# The longest a resource may go without an update and still keep its declared cycle.
CYCLE_DAYS = {
    UpdateCycle.REAL_TIME: 1,
    UpdateCycle.DAILY: 1,
    UpdateCycle.WEEKLY: 7,
    UpdateCycle.MONTHLY: 31,
    UpdateCycle.QUARTERLY: 92,
    UpdateCycle.HALF_YEARLY: 183,
    UpdateCycle.YEARLY: 366,
}
PERIODS = (30, 90, 365)


@dataclass
class Figures:
    """One department's figures, or the sum of a region's (``name`` is its name)."""

    name: str
    code: str
    region: object = None  # a department's region; None for a region's sum
    registered: int = 0
    published: int = 0
    share_types: dict = field(default_factory=lambda: dict.fromkeys(ShareType.values, 0))
    answered: int = 0
    on_time: int = 0
    overdue: int = 0
    answer_workdays: int = 0
    calls: int = 0
    lagging: int = 0

    @property
    def on_time_percent(self):
        return 100 * self.on_time / self.answered if self.answered else None

    @property
    def average_answer_workdays(self):
        return self.answer_workdays / self.answered if self.answered else None

    def add(self, other):
        for name in ("registered", "published", "answered", "on_time", "overdue", "calls"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.answer_workdays += other.answer_workdays
        self.lagging += other.lagging
        for kind, count in other.share_types.items():
            self.share_types[kind] += count


def department_figures(user, days, today=None):
    """``[Figures]`` of the departments ``user`` may view that take part in the catalog,
    requests and calls counted over the last ``days`` days up to ``today``."""
    today = today or timezone.localdate()
    since = today - datetime.timedelta(days=days - 1)
    departments = {
        d.pk: d for d in Department.objects.restrict(user, "view").select_related("region")
    }
    figures = {
        pk: Figures(name=d.name, code=d.uscc, region=d.region) for pk, d in departments.items()
    }
    _count_resources(figures)
    _count_requests(figures, since, today)
    _count_calls(figures, since)
    _count_lagging(figures, today)
    shown = [f for f in figures.values() if f.registered or f.answered or f.overdue or f.calls]
    return sorted(shown, key=lambda f: (f.region.code, f.name))


def region_figures(rows):
    """The departments' figures summed by region, in region order."""
    regions = {}
    for row in rows:
        total = regions.setdefault(
            row.region.pk, Figures(name=row.region.name, code=row.region.code)
        )
        total.add(row)
    return sorted(regions.values(), key=lambda f: f.code)


def _count_resources(figures):
    counted = (
        CatalogResource.objects.filter(department_id__in=figures)
        .values("department_id")
        .annotate(
            registered=Count("pk"),
            # Published once: a published resource being revised is a draft again.
            published=Count("pk", filter=Q(current_version__isnull=False)),
        )
    )
    for row in counted:
        f = figures[row["department_id"]]
        f.registered, f.published = row["registered"], row["published"]
    mix = (
        ResourceVersion.objects.filter(department_id__in=figures, is_current=True)
        .values("department_id", "share_type")
        .annotate(n=Count("pk"))
    )
    for row in mix:
        figures[row["department_id"]].share_types[row["share_type"]] = row["n"]


def _count_requests(figures, since, today):
    """Requests the provider had to answer (conditional ones, with a due date): answered in
    the period, on time or late, with the working days each took; and those still open
    past their date."""
    answered = SharingRequest.objects.filter(
        provider_id__in=figures,
        due_on__isnull=False,
        answered_at__date__gte=since,
    ).values_list("provider_id", "requested_at", "answered_at", "due_on", "escalated_at")
    answered = list(answered)
    if answered:
        first = min(timezone.localdate(r[1]) for r in answered)
        count = workday_counter(first, today)
        for provider, requested_at, answered_at, due_on, escalated_at in answered:
            f = figures[provider]
            answered_on = timezone.localdate(answered_at)
            f.answered += 1
            # One escalated was late, whatever date the operator's coordination then set.
            f.on_time += escalated_at is None and answered_on <= due_on
            f.answer_workdays += count(timezone.localdate(requested_at), answered_on)
    overdue = (
        SharingRequest.objects.filter(
            provider_id__in=figures, status=RequestStatus.PENDING, due_on__lt=today
        )
        .values("provider_id")
        .annotate(n=Count("pk"))
    )
    for row in overdue:
        figures[row["provider_id"]].overdue = row["n"]


def _count_calls(figures, since):
    start = datetime.datetime.combine(
        since, datetime.time(), tzinfo=timezone.get_current_timezone()
    )
    served = (
        GatewayCall.objects.filter(
            provider_id__in=figures, result="ok", at_us__gte=int(start.timestamp() * 1_000_000)
        )
        .values("provider_id")
        .annotate(n=Count("pk"))
    )
    for row in served:
        figures[row["provider_id"]].calls = row["n"]


def _count_lagging(figures, today):
    """Published resources whose last update — a new version or new data — is older than
    their declared cycle allows; not those served from their provider's own service."""
    current = ResourceVersion.objects.filter(department_id__in=figures, is_current=True).exclude(
        update_cycle=UpdateCycle.IRREGULAR
    )
    loaded = dict(
        ResourceDataset.objects.filter(resource__in=current.values("resource_id")).values_list(
            "resource_id", "loaded_at"
        )
    )
    # Records read live from the provider's own service are as fresh as the service.
    live = set(
        ResourceUpstream.objects.filter(resource__in=current.values("resource_id")).values_list(
            "resource_id", flat=True
        )
    )
    for resource_id, department_id, cycle, published_at in current.values_list(
        "resource_id", "department_id", "update_cycle", "published_at"
    ):
        if resource_id in live:
            continue
        updated = max(published_at, loaded.get(resource_id, published_at))
        if (today - timezone.localdate(updated)).days > CYCLE_DAYS[cycle]:
            figures[department_id].lagging += 1
