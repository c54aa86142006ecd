"""The 共享监督 page (R-G3, R-G5): the supervision figures of each department and region
the user may view, as charts and tables, and the same figures as CSV."""

import csv

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from zhengyun.data_resources import supervision
from zhengyun.data_resources.choices import ShareType
from zhengyun.infrastructure.monitoring.charts import bars

CSV_COLUMNS = [
    "level",
    "region_code",
    "name",
    "code",
    "registered",
    "published",
    *(f"share_{kind}" for kind in ShareType.values),
    "answered",
    "on_time",
    "on_time_percent",
    "average_answer_workdays",
    "overdue",
    "calls",
    "lagging",
]


@login_required
def supervision_page(request):
    days = _days(request.GET.get("days"))
    departments = supervision.department_figures(request.user, days)
    regions = supervision.region_figures(departments)
    if request.GET.get("export") == "csv":
        return _csv(departments, regions, days)
    answering = [d for d in departments if d.answered]
    return render(
        request,
        "data_resources/supervision.html",
        {
            "days": days,
            "periods": supervision.PERIODS,
            "departments": departments,
            "regions": regions,
            "share_types": ShareType.choices,
            "on_time_bars": bars([(d.name, d.on_time_percent) for d in answering]),
            "call_bars": bars([(d.name, d.calls) for d in departments if d.calls]),
        },
    )


def _days(asked):
    """The period asked for, if it is one offered; else the longest."""
    return int(asked) if asked in {str(p) for p in supervision.PERIODS} else supervision.PERIODS[-1]


def _csv(departments, regions, days):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="data-supervision-{days}d.csv"'
    response.write("\ufeff")  # so spreadsheet programs read the Chinese names as UTF-8
    out = csv.writer(response)
    out.writerow(CSV_COLUMNS)
    for level, rows in (("region", regions), ("department", departments)):
        for f in rows:
            region_code = f.code if level == "region" else f.region.code
            out.writerow(
                [
                    level,
                    region_code,
                    f.name,
                    f.code,
                    f.registered,
                    f.published,
                    *(f.share_types[kind] for kind in ShareType.values),
                    f.answered,
                    f.on_time,
                    _decimal(f.on_time_percent),
                    _decimal(f.average_answer_workdays),
                    f.overdue,
                    f.calls,
                    f.lagging,
                ]
            )
    return response


def _decimal(value):
    return "" if value is None else f"{value:.1f}"
