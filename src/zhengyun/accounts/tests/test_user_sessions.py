"""A person's sessions are limited in number, listed, and can be ended everywhere
(GB/T 22239 level 3: 限制单个用户的多重并发会话)."""

import pytest
from django.test import Client, override_settings

from zhengyun.accounts import services
from zhengyun.accounts.models import UserSession
from zhengyun.audit.models import AuditEvent
from zhengyun.testing.world import PASSWORD

pytestmark = pytest.mark.django_db


def browser(username, address):
    client = Client(REMOTE_ADDR=address, HTTP_USER_AGENT=f"Browser at {address}")
    client.post("/sign-in/", {"username": username, "password": PASSWORD})
    assert "_auth_user_id" in client.session
    return client


def still_in(client):
    return client.get("/").status_code == 200


@override_settings(ZHENGYUN_MAX_SESSIONS=2)
def test_signing_in_beyond_the_limit_ends_the_oldest_session(world):
    first, second, third = (browser("staff_a", f"10.0.0.{n}") for n in (1, 2, 3))
    assert not still_in(first)
    assert still_in(second) and still_in(third)
    assert UserSession.objects.filter(user=world.staff_a).count() == 2
    assert AuditEvent.objects.filter(
        action="accounts.end_sessions", detail__contains="session_limit"
    ).exists()
    # Another person's sessions are not touched.
    other = browser("admin_a", "10.0.0.9")
    assert still_in(other) and still_in(second)


def test_the_security_page_lists_ones_own_sessions_only(world):
    mine = browser("staff_a", "10.1.1.1")
    browser("staff_a", "10.1.1.2")
    browser("admin_a", "10.9.9.9")
    page = mine.get("/accounts/me/security/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "10.1.1.1" in page and "10.1.1.2" in page and "10.9.9.9" not in page
    assert "Browser at 10.1.1.2" in page and "this session" in page


def test_sign_out_everywhere_else_keeps_this_session(world):
    here, there = browser("staff_a", "10.1.1.1"), browser("staff_a", "10.1.1.2")
    here.post("/accounts/me/sessions/end/")
    assert still_in(here) and not still_in(there)


def test_sign_out_everywhere_ends_this_session_too(world):
    here, there = browser("staff_a", "10.1.1.1"), browser("staff_a", "10.1.1.2")
    response = here.post("/accounts/me/sessions/end/", {"everywhere": "1"})
    assert response["Location"] == "/sign-in/"
    assert not still_in(here) and not still_in(there)
    assert not UserSession.objects.filter(user=world.staff_a).exists()


def test_an_administrator_ends_a_persons_sessions_and_outsiders_cannot(world):
    from zhengyun.core.exceptions import PermissionDenied

    lost_laptop = browser("staff_a", "10.1.1.1")
    with pytest.raises(PermissionDenied):
        services.end_user_sessions(world.staff_a, actor=world.admin_b)
    assert still_in(lost_laptop)
    services.end_user_sessions(world.staff_a, actor=world.admin_a)
    assert not still_in(lost_laptop)


def test_signing_out_forgets_the_session(world):
    client = browser("staff_a", "10.1.1.1")
    client.post("/sign-out/")
    assert not UserSession.objects.filter(user=world.staff_a).exists()


def test_a_session_whose_record_is_gone_is_signed_out(world):
    client = browser("staff_a", "10.1.1.1")
    UserSession.objects.filter(user=world.staff_a).delete()
    assert not still_in(client)
