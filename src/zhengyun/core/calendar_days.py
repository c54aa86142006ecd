"""Keeping the working calendar's own days (R-O3): the operator declares a working day or a
holiday, for a change the published calendar does not know yet or for a year past it."""

from zhengyun.core import crud
from zhengyun.core.models import CalendarDay
from zhengyun.core.services import service


@service("core.declare_calendar_day")
def declare_calendar_day(*, actor, date, workday, name=""):
    """Declare ``date`` a working day or a holiday; it overrides the published calendar."""
    return crud.create(
        actor, CalendarDay, "core.declare_calendar_day", date=date, workday=workday, name=name
    )


@service("core.delete_calendar_day")
def delete_calendar_day(day, *, actor):
    """Forget a declared day: the published calendar, or weekends, decide it again."""
    return crud.delete(actor, day, "core.delete_calendar_day")
