"""Reading the buckets back for people: the latest figures and short time series, always
from querysets the caller has already restricted, and SVG sparklines of them."""

import datetime
from collections import defaultdict

from django.utils import timezone

from zhengyun.infrastructure.choices import Resolution

# A host whose last minute sample is older than this is shown without current figures.
FRESH = datetime.timedelta(minutes=3)


def latest(samples, owner, now=None):
    """``{owner id: newest minute sample}`` among ``samples`` no older than ``FRESH``."""
    now = now or timezone.now()
    newest = {}
    recent = samples.filter(resolution=Resolution.MINUTE, bucket__gte=now - FRESH).order_by(
        "bucket"
    )
    for sample in recent:
        newest[getattr(sample, f"{owner}_id")] = sample
    return newest


def series(samples, owner, figure, resolution, since):
    """``{owner id: [(bucket, value), …]}`` of ``figure`` at ``resolution`` from ``since``,
    oldest first."""
    found = defaultdict(list)
    rows = (
        samples.filter(resolution=resolution, bucket__gte=since)
        .order_by("bucket")
        .values_list(f"{owner}_id", "bucket", figure)
    )
    for owner_id, bucket, value in rows:
        found[owner_id].append((bucket, value))
    return found


def sparkline(points, since, until, top=100.0, width=120, height=24):
    """The ``points`` attribute of an SVG polyline drawing ``[(moment, value), …]`` between
    ``since`` and ``until``, values from 0 to ``top`` (or the largest, if higher); gaps
    (None) are skipped. Empty when there is nothing to draw."""
    known = [(moment, value) for moment, value in points if value is not None]
    if not known:
        return ""
    span = max((until - since).total_seconds(), 1.0)
    top = max([top, *(value for _, value in known)]) or 1.0
    return " ".join(
        f"{width * (moment - since).total_seconds() / span:.1f},{height - height * value / top:.1f}"
        for moment, value in known
    )
