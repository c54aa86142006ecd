"""When a pool's maintenance windows are open (R-I4): disruptive work such as a consolidation
plan runs only inside one. Days are judged by the Chinese working calendar in Beijing time,
whatever the server's clock zone, so "non-working days 00:00–06:00" follows holidays and the
weekend days worked in lieu."""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from zhengyun.core.workdays import is_workday
from zhengyun.infrastructure.choices import WindowDays
from zhengyun.infrastructure.models import MaintenanceWindow
from zhengyun.infrastructure.models.consolidation import SHANGHAI

BEIJING = ZoneInfo(SHANGHAI)
# How far ahead to look for the next window: a year and a little.
HORIZON_DAYS = 370


@dataclass(frozen=True)
class Opening:
    """One occurrence of a window: from ``start`` to ``end`` (aware datetimes)."""

    window: MaintenanceWindow
    start: datetime.datetime
    end: datetime.datetime


def open_window(pool, now):
    """The occurrence of one of ``pool``'s windows that ``now`` falls in, the one that stays
    open longest when several do; ``None`` outside every window."""
    today = now.astimezone(BEIJING).date()
    openings = [
        opening
        for day in (today - datetime.timedelta(days=1), today)
        for opening in _openings(_windows(pool), day)
        if opening.start <= now < opening.end
    ]
    return max(openings, key=lambda o: o.end, default=None)


def next_window_start(pool, now):
    """When the next of ``pool``'s windows opens at or after ``now``; ``None`` when the pool
    has no window that opens within a year."""
    windows = _windows(pool)
    if not windows:
        return None
    today = now.astimezone(BEIJING).date()
    for offset in range(HORIZON_DAYS):
        starts = [
            o.start
            for o in _openings(windows, today + datetime.timedelta(days=offset))
            if o.start >= now
        ]
        if starts:
            return min(starts)
    return None


def _windows(pool):
    return list(MaintenanceWindow.objects.filter(pool=pool))


def _openings(windows, day):
    """The windows that open on ``day`` (a date in Beijing), as occurrences."""
    kinds = {WindowDays.ANY}
    if windows:
        kinds.add(WindowDays.WORKDAYS if is_workday(day) else WindowDays.NON_WORKDAYS)
    for window in windows:
        if window.days in kinds:
            start = datetime.datetime.combine(day, window.starts, tzinfo=BEIJING)
            yield Opening(window, start, start + window.length)
