"""Idle console sessions end (GB/T 22239 level 3); automatic refreshes are not activity."""

import time

import pytest
from django.test import override_settings

from zhengyun.accounts.sessions import ACTIVITY_KEY
from zhengyun.accounts.user_sessions import SIGNED_IN_KEY
from zhengyun.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def idle_for(client, minutes):
    session = client.session
    session[ACTIVITY_KEY] = time.time() - minutes * 60
    session.save()


def test_an_active_session_continues(world, client):
    client.force_login(world.staff_a)
    idle_for(client, 14)
    assert client.get("/").status_code == 200
    assert time.time() - client.session[ACTIVITY_KEY] < 5  # the visit counted as activity


def test_an_idle_session_is_signed_out_and_sent_to_sign_in(world, client):
    client.force_login(world.staff_a)
    idle_for(client, 16)
    response = client.get("/organizations/departments/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?next=/organizations/departments/")
    assert client.get("/").status_code == 302  # no longer signed in
    assert AuditEvent.objects.filter(action="accounts.sign_out", actor=world.staff_a).exists()


def test_automatic_refreshes_do_not_keep_a_session_alive(world, client):
    client.force_login(world.staff_a)
    idle_for(client, 10)
    poll = {"HTTP_HX_REQUEST": "true", "HTTP_X_ZHENGYUN_POLL": "1"}
    assert client.get("/", **poll).status_code == 200
    idle_for(client, 16)
    response = client.get("/", **poll)
    assert response.status_code == 204 and response["HX-Redirect"] == "/sign-in/"


@override_settings(ZHENGYUN_IDLE_MINUTES=60)
def test_the_idle_period_is_configurable(world, client):
    client.force_login(world.staff_a)
    idle_for(client, 30)
    assert client.get("/").status_code == 200


def test_a_busy_session_still_ends_a_working_day_after_signing_in(world, client):
    client.force_login(world.staff_a)
    session = client.session
    session[SIGNED_IN_KEY] = time.time() - 11.9 * 3600
    session.save()
    assert client.get("/").status_code == 200
    session = client.session
    session[SIGNED_IN_KEY] = time.time() - 12.1 * 3600
    session.save()
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and client.get("/").status_code == 302
