"""Issued passwords are replaced at first sign-in, passwords expire and recent ones are not
chosen again (GB/T 22239 level 3 身份鉴别, R-X4)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.utils import timezone

from zhengyun.accounts import services
from zhengyun.accounts.models import User
from zhengyun.audit.models import AuditEvent
from zhengyun.testing.world import PASSWORD

pytestmark = pytest.mark.django_db


def change(client, current, new, again=None):
    return client.post(
        "/accounts/me/password/",
        {"current_password": current, "new_password": new, "new_password_again": again or new},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_an_issued_password_must_be_replaced_before_anything_else(world, client, api_as):
    newcomer = services.create_user(
        actor=world.admin_a, username="newcomer", password=PASSWORD, department=world.department_a
    )
    assert newcomer.must_change_password
    client.post("/sign-in/", {"username": "newcomer", "password": PASSWORD})
    for path in ("/", "/organizations/departments/", "/accounts/tokens/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/accounts/me/password/"
    refused = client.get("/api/v1/accounts/me/")
    assert refused.status_code == 403 and refused.json()["code"] == "password_change"
    page = client.get("/accounts/me/password/", HTTP_ACCEPT_LANGUAGE="en")
    assert b"issued by someone else" in page.content

    assert change(client, PASSWORD, "Brand-new-2026").status_code == 302
    newcomer.refresh_from_db()
    assert not newcomer.must_change_password and newcomer.check_password("Brand-new-2026")
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="accounts.change_password", actor=newcomer).exists()


def test_an_expired_password_must_be_changed(world, client):
    User.objects.filter(pk=world.staff_a.pk).update(
        password_changed_at=timezone.now() - datetime.timedelta(days=91)
    )
    client.force_login(world.staff_a)
    assert client.get("/")["Location"] == "/accounts/me/password/"
    page = client.get("/accounts/me/password/", HTTP_ACCEPT_LANGUAGE="en")
    assert b"has expired" in page.content
    with override_settings(ZHENGYUN_PASSWORD_MAX_AGE_DAYS=0):  # expiry switched off
        assert client.get("/").status_code == 200
    with override_settings(ZHENGYUN_PASSWORD_MAX_AGE_DAYS=120):
        assert client.get("/").status_code == 200


def test_the_last_five_passwords_are_refused_and_the_sixth_is_allowed(world):
    user = world.staff_a
    sequence = [f"Rotation-{n}-pass" for n in range(1, 6)]
    for new in sequence:
        current = PASSWORD if new == sequence[0] else sequence[sequence.index(new) - 1]
        services.change_password(actor=user, current_password=current, new_password=new)
    # Now the last five are rotation 1 to 5; the world's password is the sixth back.
    for old in sequence[:-1]:
        with pytest.raises(ValidationError) as refused:
            services.change_password(actor=user, current_password=sequence[-1], new_password=old)
        assert "new_password" in refused.value.error_dict
    services.change_password(actor=user, current_password=sequence[-1], new_password=PASSWORD)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(world, client):
    client.force_login(world.staff_a)
    before = User.objects.get(pk=world.staff_a.pk).password
    wrong = change(client, "Not-my-pass-1", "Brand-new-2026")
    assert b"current password is not correct" in wrong.content
    weak = change(client, PASSWORD, "abcdefgh")
    assert b"at least 3 of" in weak.content
    differ = change(client, PASSWORD, "Brand-new-2026", again="Brand-new-2027")
    assert b"two new passwords differ" in differ.content
    assert User.objects.get(pk=world.staff_a.pk).password == before
    assert not AuditEvent.objects.filter(action="accounts.change_password").exists()


def test_changing_the_password_signs_out_the_other_sessions_only(world, client):
    elsewhere = Client()
    for c in (client, elsewhere):
        c.post("/sign-in/", {"username": "staff_a", "password": PASSWORD})
    assert change(client, PASSWORD, "Brand-new-2026").status_code == 302
    assert client.get("/").status_code == 200
    assert elsewhere.get("/")["Location"].startswith("/sign-in/")


def test_a_reset_password_is_issued_so_the_owner_must_change_it(world, client):
    services.reset_password(world.staff_a, actor=world.secadmin, new_password="Issued-pass-77")
    assert AuditEvent.objects.filter(action="accounts.reset_password", actor=world.secadmin)
    client.post("/sign-in/", {"username": "staff_a", "password": "Issued-pass-77"})
    assert client.get("/")["Location"] == "/accounts/me/password/"
    with pytest.raises(ValidationError):  # the same rules apply to issued passwords
        services.reset_password(world.staff_a, actor=world.secadmin, new_password="short")


def test_nobody_resets_their_own_password_or_one_outside_their_reach(world):
    from zhengyun.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.reset_password(world.secadmin, actor=world.secadmin, new_password="Issued-77-x")
    with pytest.raises(PermissionDenied):
        services.reset_password(world.staff_b, actor=world.admin_a, new_password="Issued-77-x")
    world.staff_b.refresh_from_db()
    assert world.staff_b.check_password(PASSWORD)
