"""Helping someone who cannot sign in — lift a lock, issue a password, remove a lost second
factor, sign out a lost laptop — is the account managers' work, through the console and the
API alike; the audit and system administrators cannot do it (三员分立)."""

import pytest
from django.test import Client

from zhengyun.accounts import lockout, mfa
from zhengyun.accounts.models import User, UserSession
from zhengyun.audit.models import AuditEvent, AuditResult
from zhengyun.testing.world import PASSWORD

pytestmark = pytest.mark.django_db


def lock_out(username):
    for _ in range(5):
        Client().post("/sign-in/", {"username": username, "password": "Wrong-pass-1"})


def signed_in_browser(username):
    client = Client()
    client.post("/sign-in/", {"username": username, "password": PASSWORD})
    return client


def test_the_security_administrator_sees_and_lifts_a_lock_through_the_api(world, api_as):
    lock_out("staff_a")
    api = api_as(world.secadmin)
    url = f"/api/v1/accounts/users/{world.staff_a.pk}/"
    state = api.get(url + "sign-in-security/").json()
    assert state["locked_until"] and not state["second_factor"]
    assert api.post(url + "unlock/").status_code == 200
    assert api.get(url + "sign-in-security/").json()["locked_until"] is None
    assert lockout.locked_until("staff_a") is None


def test_an_issued_password_must_meet_the_rules_and_then_be_changed(world, api_as):
    api = api_as(world.secadmin)
    url = f"/api/v1/accounts/users/{world.staff_a.pk}/reset-password/"
    weak = api.post(url, {"new_password": "short"}, format="json")
    assert weak.status_code == 400 and weak.json()["errors"][0]["field"] == "new_password"
    assert User.objects.get(pk=world.staff_a.pk).check_password(PASSWORD)
    assert api.post(url, {"new_password": "Issued-pass-88"}, format="json").status_code == 204
    person = User.objects.get(pk=world.staff_a.pk)
    assert person.must_change_password and person.check_password("Issued-pass-88")


def test_a_lost_laptop_is_signed_out_through_the_api(world, api_as):
    laptop = signed_in_browser("staff_a")
    ended = api_as(world.admin_a).post(f"/api/v1/accounts/users/{world.staff_a.pk}/end-sessions/")
    assert ended.json() == {"ended": 1}
    assert laptop.get("/").status_code == 302


@pytest.mark.parametrize("who", ["auditor", "sysadmin", "operator", "staff_a"])
@pytest.mark.parametrize(
    "what", ["unlock/", "end-sessions/", "remove-second-factor/", "sign-in-security/"]
)
def test_only_account_managers_help_and_every_refusal_is_audited(world, api_as, who, what):
    lock_out("admin_a")
    url = f"/api/v1/accounts/users/{world.admin_a.pk}/{what}"
    client = api_as(getattr(world, who))
    response = client.get(url) if what == "sign-in-security/" else client.post(url)
    assert response.status_code == 403
    assert lockout.locked_until("admin_a") is not None
    assert AuditEvent.objects.filter(actor=getattr(world, who), result=AuditResult.DENIED).exists()


def test_people_list_and_end_their_own_sessions_through_the_api(world, api_as):
    laptop = signed_in_browser("staff_a")
    signed_in_browser("admin_a")
    api = api_as(world.staff_a)
    listed = api.get("/api/v1/accounts/sessions/").json()["results"]
    assert len(listed) == 1
    assert api.delete(f"/api/v1/accounts/sessions/{listed[0]['id']}/").status_code == 204
    assert laptop.get("/").status_code == 302
    assert UserSession.objects.filter(user=world.admin_a).exists()


def test_changing_ones_password_through_the_api(world, api_as):
    api = api_as(world.staff_a)
    wrong = api.post(
        "/api/v1/accounts/me/password/",
        {"current_password": "Not-mine-1", "new_password": "Brand-new-2026"},
        format="json",
    )
    assert wrong.status_code == 400
    ok = api.post(
        "/api/v1/accounts/me/password/",
        {"current_password": PASSWORD, "new_password": "Brand-new-2026"},
        format="json",
    )
    assert ok.status_code == 204
    assert User.objects.get(pk=world.staff_a.pk).check_password("Brand-new-2026")


def test_the_user_page_offers_the_help_to_account_managers_only(world, client):
    lock_out("staff_a")
    page = f"/accounts/users/{world.staff_a.pk}/"
    client.force_login(world.auditor)
    assert b"sign-in-help" not in client.get(page).content
    client.force_login(world.admin_a)
    assert b"sign-in-help" in client.get(page).content
    client.post(f"{page}sign-in/unlock/")
    assert lockout.locked_until("staff_a") is None
    client.post(f"{page}sign-in/reset-password/", {"new_password": "Issued-pass-99"})
    assert User.objects.get(pk=world.staff_a.pk).must_change_password
    client.force_login(world.auditor)
    assert client.post(f"{page}sign-in/unlock/").status_code == 403
    assert client.post(f"{page}sign-in/no-such-thing/").status_code == 404


def test_removing_a_lost_factor_from_the_console(world, client):
    from django_otp.oath import TOTP

    device = mfa.pending_totp_device(world.operator)
    mfa.confirm_totp(world.operator, f"{TOTP(device.bin_key).token():06d}")
    client.force_login(world.secadmin)
    client.post(f"/accounts/users/{world.operator.pk}/sign-in/remove-second-factor/")
    assert not mfa.totp_enrolled(world.operator)
