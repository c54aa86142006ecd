"""The "Analytics" page (R-G3): utilisation and energy of the pools, energy and use per
department, stranded capacity, when each pool will be full, and the idle instances proposed
for reclamation with the department's answer. Every read goes through the restriction
helper: operators see the pools, departments their own figures and proposals."""

import csv
import datetime
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import can, may_any
from zhengyun.core.exceptions import ZhengyunError
from zhengyun.core.shortcuts import access_or_404, call_service
from zhengyun.infrastructure import reclamation
from zhengyun.infrastructure.choices import ReclamationStatus
from zhengyun.infrastructure.models import (
    DepartmentDay,
    Flavour,
    Host,
    PoolDay,
    ReclamationProposal,
)
from zhengyun.infrastructure.monitoring import capacity
from zhengyun.infrastructure.monitoring.charts import bars
from zhengyun.infrastructure.monitoring.series import sparkline

DAYS = 30


@login_required
def analytics(request):
    if not may_any(request.user, DepartmentDay, "view"):
        raise PermissionDenied
    today = timezone.localdate()
    since = today - datetime.timedelta(days=DAYS - 1)
    department_days = DepartmentDay.objects.restrict(request.user, "view").filter(day__gte=since)
    if request.GET.get("export") == "csv":
        return _csv(department_days.select_related("department").order_by("day", "department"))
    proposals = (
        ReclamationProposal.objects.restrict(request.user, "view")
        .select_related("instance", "department")
        .order_by("status", "answer_due")[:200]
    )
    for proposal in proposals:
        proposal.overdue = proposal.status == ReclamationStatus.OPEN and proposal.answer_due < today
        proposal.answerable = proposal.status == ReclamationStatus.OPEN and can(
            request.user, "change", proposal
        )
    departments = _departments(department_days)
    return render(
        request,
        "infrastructure/analytics.html",
        {
            "days": DAYS,
            "pools": _pools(request.user, since, today),
            "departments": departments,
            "department_bars": bars([(d["name"], d["energy_kwh"]) for d in departments]),
            "energy_bars": bars(_energy_by_day(request.user, department_days, since, today)),
            "proposals": proposals,
        },
    )


def _departments(department_days):
    rows = list(
        department_days.values("department__name")
        .annotate(held=Sum("vcpu_hours"), busy=Sum("busy_vcpu_hours"), energy=Sum("energy_kwh"))
        .order_by("-energy")
    )
    total = sum(row["energy"] for row in rows) or 1.0
    return [
        {
            "name": row["department__name"],
            "vcpu_hours": row["held"],
            "busy_percent": 100 * row["busy"] / row["held"] if row["held"] else 0.0,
            "energy_kwh": row["energy"],
            "share": 100 * row["energy"] / total,
        }
        for row in rows
    ]


def _energy_by_day(user, department_days, since, today):
    """The pools' energy per day for operators; a department's own otherwise."""
    source = PoolDay.objects.restrict(user, "view") if may_any(user, PoolDay, "view") else None
    rows = (source if source is not None else department_days).filter(day__gte=since)
    by_day = dict(rows.values_list("day").annotate(kwh=Sum("energy_kwh")))
    return [
        (day.strftime("%m-%d"), by_day.get(day, 0.0))
        for day in (since + datetime.timedelta(days=n) for n in range((today - since).days + 1))
    ]


def _pools(user, since, today):
    if not may_any(user, PoolDay, "view"):
        return []
    days = list(
        PoolDay.objects.restrict(user, "view").filter(day__gte=since).select_related("pool__zone")
    )
    hosts = Host.objects.restrict(user, "view").select_related("pool")
    flavours = Flavour.objects.restrict(user, "view")
    stranded = {row.pool.pk: row for row in capacity.stranded(hosts, flavours)}
    forecasts = capacity.forecast(days)
    by_pool = defaultdict(list)
    for row in days:
        by_pool[row.pool].append(row)
    start = datetime.datetime.combine(since, datetime.time())
    end = datetime.datetime.combine(today, datetime.time())
    found = []
    for pool, rows in sorted(by_pool.items(), key=lambda item: str(item[0])):
        rows.sort(key=lambda r: r.day)
        last = rows[-1]
        found.append(
            {
                "pool": pool,
                "last": last,
                "vcpu_percent": _percent(last.vcpus_claimed, last.vcpus_usable),
                "memory_percent": _percent(last.memory_mb_claimed, last.memory_mb_usable),
                "energy_kwh": sum(r.energy_kwh for r in rows),
                "line": sparkline(
                    [
                        (
                            datetime.datetime.combine(r.day, datetime.time()),
                            _percent(r.vcpus_claimed, r.vcpus_usable),
                        )
                        for r in rows
                    ],
                    start,
                    end,
                ),
                "stranded": stranded.get(pool.pk),
                "forecast": forecasts.get(pool),
            }
        )
    return found


def _percent(part, whole):
    return 100 * part / whole if whole else 0.0


def _csv(rows):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="department-days.csv"'
    response.write("\ufeff")  # so spreadsheet programs read the Chinese names as UTF-8
    out = csv.writer(response)
    out.writerow(["day", "department", "uscc", "vcpu_hours", "busy_vcpu_hours", "energy_kwh"])
    for row in rows:
        out.writerow(
            [
                row.day.isoformat(),
                row.department.name,
                row.department.uscc,
                f"{row.vcpu_hours:.2f}",
                f"{row.busy_vcpu_hours:.2f}",
                f"{row.energy_kwh:.4f}",
            ]
        )
    return response


# answer in the URL: (service, what the department is told when it is done)
ANSWERS = {
    "keep": (reclamation.keep, _("The instance is kept.")),
    "stop": (reclamation.stop, _("The instance is being stopped.")),
    "release": (reclamation.release, _("The instance is being deleted.")),
}


@login_required
@require_POST
def answer(request, pk, answer):
    """Keep, stop or release an instance proposed for reclamation."""
    proposal = access_or_404(request.user, ReclamationProposal.objects, pk=pk)
    service, done = ANSWERS[answer]
    try:
        call_service(service, proposal, actor=request.user, reason=request.POST.get("reason", ""))
    except ZhengyunError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("infrastructure:analytics")
