"""The working calendar: the published State Council calendar where it reaches, the
operator's declared days over it, and weekends for years past it (R-O3)."""

import datetime

import pytest

from zhengyun.core import calendar_days
from zhengyun.core.exceptions import PermissionDenied
from zhengyun.core.models import CalendarDay
from zhengyun.core.workdays import add_workdays, is_workday, workdays_between

pytestmark = pytest.mark.django_db

D = datetime.date


def test_national_day_is_a_holiday_and_a_saturday_worked_in_lieu_is_a_workday():
    assert not is_workday(D(2026, 10, 1))  # Thursday, National Day
    assert is_workday(D(2026, 10, 10))  # Saturday worked in lieu of the holiday
    assert is_workday(D(2026, 9, 20))  # Sunday worked in lieu
    assert not is_workday(D(2026, 9, 26))  # an ordinary Saturday
    assert is_workday(D(2026, 9, 30))


def test_a_year_past_the_published_calendar_falls_back_to_weekends():
    assert is_workday(D(2027, 1, 4))  # Monday
    assert not is_workday(D(2027, 1, 2))  # Saturday
    assert workdays_between(D(2027, 1, 4), D(2027, 1, 11)) == 5


def test_declared_days_override_the_published_calendar_and_extend_it(world):
    calendar_days.declare_calendar_day(
        actor=world.operator, date=D(2027, 2, 8), workday=False, name="春节"
    )
    calendar_days.declare_calendar_day(
        actor=world.operator, date=D(2027, 2, 7), workday=True, name="春节调休"
    )
    calendar_days.declare_calendar_day(
        actor=world.operator, date=D(2026, 10, 8), workday=False, name="国庆延长"
    )
    assert not is_workday(D(2027, 2, 8))  # a Monday declared a holiday
    assert is_workday(D(2027, 2, 7))  # a Sunday declared worked
    assert not is_workday(D(2026, 10, 8))  # the operator's word over the package's
    assert workdays_between(D(2027, 2, 7), D(2027, 2, 10)) == 2

    day = CalendarDay.objects.get(date=D(2026, 10, 8))
    calendar_days.delete_calendar_day(day, actor=world.operator)
    assert is_workday(D(2026, 10, 8))


def test_adding_working_days_skips_the_golden_week():
    assert add_workdays(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert add_workdays(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert add_workdays(D(2026, 10, 8), -1) == D(2026, 9, 30)
    assert add_workdays(D(2026, 10, 1), 0) == D(2026, 10, 1)
    assert workdays_between(D(2026, 9, 28), D(2026, 10, 12)) == 6
    assert workdays_between(D(2026, 10, 12), D(2026, 9, 28)) == -6


def test_a_holiday_past_the_published_calendar_counts_once_declared(world):
    # New Year's Day 2027 is a Friday the package does not know yet: weekends alone decide.
    assert add_workdays(D(2026, 12, 31), 2) == D(2027, 1, 4)
    calendar_days.declare_calendar_day(
        actor=world.operator, date=D(2027, 1, 1), workday=False, name="元旦"
    )
    assert add_workdays(D(2026, 12, 31), 2) == D(2027, 1, 5)


def test_only_an_operator_declares_days(world):
    with pytest.raises(PermissionDenied):
        calendar_days.declare_calendar_day(
            actor=world.staff_a, date=D(2027, 5, 3), workday=False, name="劳动节"
        )
    assert not CalendarDay.objects.exists()


def test_the_calendar_api_lists_and_declares(world, api_as):
    client = api_as(world.operator)
    response = client.post(
        "/api/v1/core/calendar-days/",
        {"date": "2027-10-01", "workday": False, "name": "国庆节"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert not is_workday(D(2027, 10, 1))
    again = client.post(
        "/api/v1/core/calendar-days/", {"date": "2027-10-01", "workday": True}, format="json"
    )
    assert again.status_code == 400
    listed = api_as(world.staff_a).get("/api/v1/core/calendar-days/").json()
    assert [row["date"] for row in listed["results"]] == ["2027-10-01"]
    url = f"/api/v1/core/calendar-days/{response.json()['id']}/"
    assert api_as(world.staff_a).delete(url).status_code == 403
    assert client.delete(url).status_code == 204
