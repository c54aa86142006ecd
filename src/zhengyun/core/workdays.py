"""The Chinese working calendar (R-O3: service clocks count working days; R-I4: maintenance
windows on non-working days).

Days come, in order, from the operator's own ``CalendarDay`` rows, then the published State
Council calendar of the ``chinese_calendar`` package (holidays and the weekend days worked in
lieu), then plain weekends. The package knows only the years it was released for and raises
for later ones: those years fall back to the operator's table and weekends, never an error.
"""

import datetime

import chinese_calendar


def is_workday(day):
    """Whether ``day`` (a date) is a working day."""
    return _workday(day, _declared(day, day))


def add_workdays(day, n):
    """The date ``n`` working days after ``day`` (before it when ``n`` is negative); ``day``
    itself is not counted, so ``add_workdays(d, 0)`` is ``d``."""
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    declared, read_until = {}, day
    while remaining:
        day += datetime.timedelta(days=step)
        if (day - read_until).days * step > 0:
            # The operator's days for a generous stretch ahead, in one query.
            read_until = day + step * datetime.timedelta(days=2 * remaining + 30)
            declared = _declared(min(day, read_until), max(day, read_until))
        if _workday(day, declared):
            remaining -= 1
    return day


def workdays_between(start, end):
    """How many working days fall in ``[start, end)``; negative when ``end`` is earlier."""
    return workday_counter(min(start, end), max(start, end))(start, end)


def workday_counter(first, last):
    """A function counting, like ``workdays_between``, the working days between dates
    from ``first`` to ``last``, reading the operator's days once for all its calls."""
    declared = _declared(first, last)

    def count(start, end):
        if end < start:
            return -count(end, start)
        days = (start + datetime.timedelta(days=i) for i in range((end - start).days))
        return sum(1 for day in days if _workday(day, declared))

    return count


def _workday(day, declared):
    return declared[day] if day in declared else _published(day)


def _declared(first, last):
    """The operator's days between ``first`` and ``last`` (inclusive): date -> workday."""
    from zhengyun.core.models import CalendarDay

    return dict(
        CalendarDay.objects.filter(date__range=(first, last)).values_list("date", "workday")
    )


def _published(day):
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the package does not know yet
        return day.weekday() < 5
