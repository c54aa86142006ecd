"""Brute force against the sign-in is stopped (GB/T 22239 level 3 登录失败处理, R-X4)."""

import datetime

import pytest
from django.test import override_settings

from zhengyun.accounts import services
from zhengyun.accounts.models import SignInFailure, SignInLock
from zhengyun.audit.models import AuditEvent, AuditResult
from zhengyun.testing.world import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post(
        "/sign-in/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def signed_in(client):
    return "_auth_user_id" in client.session


def fail(client, username, times, address="10.0.0.1"):
    for _ in range(times):
        sign_in(client, username, "Wrong-pass-1", address)


def pass_time(minutes):
    """As if ``minutes`` went by: move every failure and lock that far into the past."""
    delta = datetime.timedelta(minutes=minutes)
    for failure in SignInFailure.objects.all():
        SignInFailure.objects.filter(pk=failure.pk).update(occurred_at=failure.occurred_at - delta)
    for lock in SignInLock.objects.all():
        SignInLock.objects.filter(pk=lock.pk).update(locked_until=lock.locked_until - delta)


def test_five_failures_lock_the_account_even_against_the_right_password(world, client):
    fail(client, "staff_a", 3)
    assert b"correct username and password" in sign_in(client, "staff_a", "Wrong-pass-1").content
    # The fifth failure says at once that the name is now locked.
    assert b"Too many failed" in sign_in(client, "staff_a", "Wrong-pass-1").content
    response = sign_in(client, "staff_a", PASSWORD)
    assert b"Too many failed sign-in attempts" in response.content
    assert not signed_in(client)
    assert AuditEvent.objects.filter(action="accounts.lock", detail__startswith="account=staff_a")
    assert AuditEvent.objects.filter(
        action="accounts.sign_in", result=AuditResult.DENIED, detail__contains="staff_a locked"
    ).exists()


def test_a_lock_lasts_its_period_and_then_ends(world, client):
    fail(client, "staff_a", 5)
    pass_time(29)
    sign_in(client, "staff_a", PASSWORD)
    assert not signed_in(client)
    pass_time(2)
    sign_in(client, "staff_a", PASSWORD)
    assert signed_in(client)


def test_failures_spread_beyond_the_window_do_not_lock(world, client):
    fail(client, "staff_a", 4)
    pass_time(16)
    fail(client, "staff_a", 1)
    sign_in(client, "staff_a", PASSWORD)
    assert signed_in(client)
    assert not SignInFailure.objects.filter(account="staff_a").exists()  # success clears them


def test_an_unknown_name_locks_the_same_way_so_nothing_reveals_which_accounts_exist(world, client):
    existing = sign_in(client, "staff_a", "Wrong-pass-1").content.decode()
    unknown = sign_in(client, "no_such_person", "Wrong-pass-1").content.decode()
    assert "correct username and password" in existing and "correct username" in unknown
    fail(client, "no_such_person", 4)
    assert "Too many failed" in sign_in(client, "no_such_person", "x").content.decode()


def test_case_and_full_width_variants_count_against_one_name(world, client):
    for name in ("staff_a", "STAFF_A", "ｓｔａｆｆ＿ａ", " Staff_A", "staff_A"):
        sign_in(client, name, "Wrong-pass-1")
    sign_in(client, "staff_a", PASSWORD)
    assert not signed_in(client)


def test_an_address_trying_many_names_is_throttled_but_others_are_not(world, client):
    for n in range(20):
        sign_in(client, f"guess{n}", "Wrong-pass-1", address="10.6.6.6")
    sign_in(client, "staff_a", PASSWORD, address="10.6.6.6")
    assert not signed_in(client)
    sign_in(client, "staff_a", PASSWORD, address="10.7.7.7")
    assert signed_in(client)


@override_settings(ZHENGYUN_LOCKOUT_FAILURES=3, ZHENGYUN_LOCKOUT_MINUTES=60)
def test_the_limits_are_configurable(world, client):
    fail(client, "staff_a", 3)
    pass_time(59)
    sign_in(client, "staff_a", PASSWORD)
    assert not signed_in(client)


def test_a_security_administrator_lifts_a_lock_and_is_audited(world, client):
    fail(client, "staff_a", 5)
    services.unlock_user(world.staff_a, actor=world.secadmin)
    assert AuditEvent.objects.filter(action="accounts.unlock_user", actor=world.secadmin)
    sign_in(client, "staff_a", PASSWORD)
    assert signed_in(client)


def test_department_staff_cannot_unlock_anyone(world):
    from zhengyun.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.unlock_user(world.admin_a, actor=world.staff_a)


def test_old_failures_and_ended_locks_are_pruned(world, client):
    from zhengyun.accounts import lockout

    fail(client, "staff_a", 5)
    lockout.prune()
    assert SignInLock.objects.exists()  # still in force
    pass_time(31)
    lockout.prune()
    assert not SignInLock.objects.exists() and not SignInFailure.objects.exists()
    # The trail keeps every attempt regardless.
    assert AuditEvent.objects.filter(action="accounts.sign_in", result="failed").count() == 5
