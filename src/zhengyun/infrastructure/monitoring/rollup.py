"""Minutes rolled up into hours and hours into days, and each resolution pruned past its
window: a day of minutes, ninety days of hours, five years of days (R-I4).

A rollup is recomputed from scratch for the buckets it touches and written over the old
row, so running it again, late or twice gives the same figures. Hours and days follow the
platform's time zone, so a day is a local calendar day.
"""

import datetime

from django.db import transaction
from django.db.models import F, FloatField, Max, Q, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from zhengyun.infrastructure.choices import Resolution
from zhengyun.infrastructure.models import (
    DepartmentSample,
    HostSample,
    InstanceSample,
    PoolSample,
)

BATCH = 1000
KEPT = {
    Resolution.MINUTE: datetime.timedelta(days=1),
    Resolution.HOUR: datetime.timedelta(days=90),
    Resolution.DAY: datetime.timedelta(days=5 * 366),
}
OWNERS = (
    (HostSample, "host"),
    (InstanceSample, "instance"),
    (PoolSample, "pool"),
    (DepartmentSample, "department"),
)
_HOUR = datetime.timedelta(hours=1)


def hour_of(moment):
    """The start of the local hour ``moment`` falls in."""
    return timezone.localtime(moment).replace(minute=0, second=0, microsecond=0)


def day_of(moment):
    """The start of the local day ``moment`` falls in."""
    return hour_of(moment).replace(hour=0)


def roll_up(now=None):
    """Recompute the current and the previous hour from minutes, then the current and the
    previous day from hours (the previous ones take the samples of a boundary just crossed).
    Returns how many bucket rows were written."""
    now = now or timezone.now()
    written = 0
    for model, owner in OWNERS:
        written += roll_up_into(
            model, owner, Resolution.MINUTE, Resolution.HOUR, hour_of(now) - _HOUR
        )
        written += roll_up_into(
            model, owner, Resolution.HOUR, Resolution.DAY, day_of(day_of(now) - _HOUR)
        )
    return written


def roll_up_into(model, owner, source, target, since):
    """Write the ``target`` buckets of ``model`` starting at or after ``since`` from its
    ``source`` rows: averages weighted by samples, counting only the samples that had the
    figure; maxima of maxima."""
    weighted = {}
    for figure in model.FIGURES:
        weighted[f"{figure}__sum"] = Sum(F(figure) * F("samples"), output_field=FloatField())
        weighted[f"{figure}__n"] = Sum("samples", filter=Q(**{f"{figure}__isnull": False}))
        weighted[f"{figure}__max"] = Max(f"{figure}_max")
    groups = (
        model.objects.filter(resolution=source, bucket__gte=since)
        .annotate(period=Trunc("bucket", target, tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values(f"{owner}_id", "period")
        .annotate(total=Sum("samples"), **weighted)
    )
    rows = []
    for group in groups:
        fields = {f"{owner}_id": group[f"{owner}_id"], "samples": group["total"]}
        for figure in model.FIGURES:
            counted = group[f"{figure}__n"]
            fields[figure] = round(group[f"{figure}__sum"] / counted, 3) if counted else None
            fields[f"{figure}_max"] = group[f"{figure}__max"]
        rows.append(model(resolution=target, bucket=group["period"], **fields))
    model.objects.bulk_create(
        rows,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=[owner, "resolution", "bucket"],
        update_fields=["samples", *model.FIGURES, *(f"{f}_max" for f in model.FIGURES)],
    )
    return len(rows)


def prune(now=None):
    """Delete the buckets past their resolution's window; returns how many went."""
    now = now or timezone.now()
    removed = 0
    with transaction.atomic():
        for model, _ in OWNERS:
            for resolution, kept in KEPT.items():
                # Nothing refers to a bucket row, so this is one DELETE statement.
                removed += model.objects.filter(
                    resolution=resolution, bucket__lt=now - kept
                ).delete()[0]
    return removed
