"""Notifications reach exactly the people who may act on what they are about — by role or
by a delegation in force — and only they read them, in the console and the API, in their own
language; reading them is audited."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from zhengyun.accounts import services as accounts
from zhengyun.accounts.models import RoleAssignment
from zhengyun.accounts.roles import Role
from zhengyun.audit.models import AuditEvent
from zhengyun.notifications import services
from zhengyun.notifications.models import Notification

pytestmark = pytest.mark.django_db

PARAMS = {"pool": "外网池", "moves": 3, "released": 2}


def leave(person, link="/infrastructure/consolidation/", kind="consolidation.proposed"):
    return Notification.objects.create(recipient=person, kind=kind, params=PARAMS, link=link)


def staff_role(world):
    return RoleAssignment.objects.get(user=world.staff_a, role=Role.DEPARTMENT_STAFF)


def test_a_notice_reaches_those_who_may_act_and_a_deputy_only_while_the_delegation_holds(world):
    about = staff_role(world)  # a role assignment in department A
    assert set(services.people_who_may("view", about)) == {
        world.admin_a,
        world.leader_a,
        world.supervisor_a,  # over department A's prefecture
        world.operator,
        world.secadmin,
    }
    deputy = accounts.create_user(
        actor=world.admin_a, username="deputy_a", department=world.department_a
    )
    lent = accounts.delegate_role(
        actor=world.leader_a,
        assignment=RoleAssignment.objects.get(user=world.leader_a, role=Role.DEPARTMENT_LEADER),
        delegate=deputy,
        starts_at=timezone.now(),
        ends_at=timezone.now() + datetime.timedelta(days=3),
        reason="出差",
    )
    assert deputy in services.people_who_may("view", about)
    accounts.revoke_delegation(lent, actor=world.leader_a)
    assert deputy not in services.people_who_may("view", about)
    # Nobody of department B, whatever their role, nor the audit administrator.
    told = services.people_who_may("view", about, but=world.secadmin)
    assert world.secadmin not in told
    assert services.notify("consolidation.proposed", to=told, params=PARAMS) == len(told)
    assert not Notification.objects.filter(
        recipient__in=[world.admin_b, world.staff_b, world.auditor, world.staff_a]
    ).exists()


def test_finding_the_people_does_not_ask_about_every_other_departments_staff(world):
    about = staff_role(world)
    with CaptureQueriesContext(connection) as before:
        services.people_who_may("view", about)
    for n in range(20):
        person = accounts.create_user(
            actor=world.admin_b, username=f"b{n}", department=world.department_b
        )
        accounts.assign_role(
            actor=world.admin_b,
            user=person,
            role=Role.DEPARTMENT_ADMIN,
            scope="department",
            department=world.department_b,
        )
    with CaptureQueriesContext(connection) as after:
        services.people_who_may("view", about)
    assert len(after) == len(before)


def test_each_person_lists_and_reads_only_their_own(world, api_as):
    mine, theirs = leave(world.staff_a), leave(world.staff_b)
    api = api_as(world.staff_a)
    listed = api.get("/api/v1/notifications/inbox/").json()
    assert [n["id"] for n in listed["results"]] == [mine.pk]
    assert api.get(f"/api/v1/notifications/inbox/{theirs.pk}/").status_code == 404
    assert api.post(f"/api/v1/notifications/inbox/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None

    read = api.post(f"/api/v1/notifications/inbox/{mine.pk}/read/").json()
    assert read["read_at"] is not None
    assert api.get("/api/v1/notifications/inbox/?unread=true").json()["count"] == 0
    assert AuditEvent.objects.filter(
        action="notifications.mark_read", object_id=str(mine.pk), actor_id=world.staff_a.pk
    ).exists()


def test_marking_all_read_touches_only_the_callers_unread(world, api_as):
    leave(world.staff_a), leave(world.staff_a), leave(world.staff_b)
    api = api_as(world.staff_a)
    assert api.post("/api/v1/notifications/inbox/read-all/").json() == {"marked": 2}
    assert api.post("/api/v1/notifications/inbox/read-all/").json() == {"marked": 0}
    assert Notification.objects.get(recipient=world.staff_b).read_at is None
    assert AuditEvent.objects.filter(action="notifications.mark_all_read").count() == 1


def test_the_text_is_written_in_the_readers_language(world, api_as):
    leave(world.staff_a)
    api = api_as(world.staff_a)
    chinese = api.get("/api/v1/notifications/inbox/").json()["results"][0]["text"]
    english = api.get("/api/v1/notifications/inbox/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert "外网池" in chinese and "审批" in chinese
    assert english["results"][0]["text"] == (
        "A consolidation plan for pool 外网池 waits for approval (migrations: 3, hosts "
        "released: 2)."
    )


def test_a_notice_whose_parameters_no_longer_fit_still_says_what_it_is(world):
    odd = Notification.objects.create(recipient=world.staff_a, kind="reclamation.proposed")
    assert odd.text == "reclamation.proposed"
    one = Notification(
        kind="reclamation.proposed", params={"instance": "x", "days": 1, "due": "2026-12-01"}
    )
    with translation.override("en"):
        assert "idle for 1 day and" in one.text


def test_the_console_counts_unread_and_opening_one_goes_where_it_points(world, client):
    notice = leave(world.staff_a, link="/infrastructure/analytics/")
    elsewhere = leave(world.staff_a, link="https://example.org/")
    leave(world.staff_b)
    client.force_login(world.staff_a)
    home = client.get("/").content.decode()
    assert 'data-testid="inbox"' in home and '<span class="badge"' in home and ">2</span>" in home
    page = client.get("/notifications/").content.decode()
    assert page.count('class="unread"') == 2

    opened = client.post(f"/notifications/{notice.pk}/open/")
    assert (opened.status_code, opened.url) == (302, "/infrastructure/analytics/")
    # A link off the site is not followed.
    assert client.post(f"/notifications/{elsewhere.pk}/open/").url == "/notifications/"
    assert not Notification.objects.filter(recipient=world.staff_a, read_at__isnull=True).exists()
    assert '<span class="badge"' not in client.get("/").content.decode()
    other = Notification.objects.get(recipient=world.staff_b)
    assert client.post(f"/notifications/{other.pk}/open/").status_code == 404


def test_read_all_in_the_console(world, client):
    leave(world.staff_a), leave(world.staff_a)
    client.force_login(world.staff_a)
    assert client.post("/notifications/read-all/").status_code == 302
    assert client.get("/notifications/?unread=1").content.decode().count('class="unread"') == 0
