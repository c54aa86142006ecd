"""Two factors for the separated administrators and the operator, optional for others
(GB/T 22239 level 3: 两种或两种以上组合的鉴别技术, R-X4)."""

import time

import pytest
from django.db import connection
from django.test import override_settings
from django_otp.oath import TOTP

from zhengyun.accounts import mfa, services
from zhengyun.accounts.models import AuthenticatorApp, RecoveryCode
from zhengyun.audit.models import AuditEvent, AuditResult
from zhengyun.crypto import envelope
from zhengyun.testing.world import PASSWORD

pytestmark = pytest.mark.django_db


def password_step(client, username, address="10.0.0.1"):
    return client.post(
        "/sign-in/",
        {"username": username, "password": PASSWORD},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def code_for(device, steps_ahead=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enrolled(user):
    device = mfa.pending_totp_device(user)
    assert services.enrol_totp(actor=user, code=code_for(device))
    return AuthenticatorApp.objects.get(pk=device.pk)


def signed_in(client):
    return "_auth_user_id" in client.session


def test_the_operator_must_enrol_before_being_signed_in(world, client):
    assert password_step(client, "operator")["Location"] == "/sign-in/enrol/"
    assert not signed_in(client)
    assert client.get("/")["Location"].startswith("/sign-in/")  # nothing reachable yet
    page = client.get("/sign-in/enrol/", HTTP_ACCEPT_LANGUAGE="en")
    assert b"<svg" in page.content and b"Your roles require a second factor" in page.content
    device = AuthenticatorApp.objects.get(user=world.operator, confirmed=False)
    assert mfa.secret_text(device).encode() in page.content

    wrong = client.post("/sign-in/enrol/", {"code": "000000"}, HTTP_ACCEPT_LANGUAGE="en")
    assert b"not valid" in wrong.content and not signed_in(client)
    with override_settings(OTP_TOTP_THROTTLE_FACTOR=0):
        done = client.post("/sign-in/enrol/", {"code": code_for(device)})
    assert done["Location"] == "/accounts/me/recovery-codes/" and signed_in(client)

    codes = client.get("/accounts/me/recovery-codes/").context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/accounts/me/recovery-codes/").status_code == 302  # shown only once
    assert not any(c in str(RecoveryCode.objects.values_list("digest")) for c in codes)
    assert AuditEvent.objects.filter(action="accounts.enrol_totp", actor=world.operator)
    sign_in = AuditEvent.objects.filter(action="accounts.sign_in", actor=world.operator).latest(
        "id"
    )
    assert sign_in.detail == "second_factor=totp"


@pytest.mark.parametrize("who", ["secadmin", "sysadmin", "auditor", "operator"])
def test_every_separated_administrator_and_the_operator_needs_a_second_factor(world, who):
    assert mfa.mfa_required(getattr(world, who))


def test_the_authenticator_secret_is_stored_only_encrypted(world):
    device = enrolled(world.staff_a)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM otp_totp_totpdevice WHERE id = %s", [device.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("zy1:") and device.bin_key.hex() not in stored
    assert len(device.bin_key) == 20
    # A secret copied into another column does not open: it is bound to this one.
    with pytest.raises(Exception, match="not authentic"):
        envelope.decrypt_bytes(stored, "accounts.user.phone")


def test_others_sign_in_with_the_password_alone_until_they_add_a_factor(world, client):
    assert not mfa.mfa_required(world.staff_a)
    assert password_step(client, "staff_a")["Location"] == "/"
    assert signed_in(client)


def test_an_enrolled_person_is_asked_for_a_code_and_a_replayed_code_is_refused(world, client):
    device = enrolled(world.staff_a)
    assert password_step(client, "staff_a")["Location"] == "/sign-in/verify/"
    assert not signed_in(client)
    code = code_for(device, steps_ahead=1)  # the enrolment used the current step's code
    assert client.post("/sign-in/verify/", {"code": code})["Location"] == "/"
    client.post("/sign-out/")
    password_step(client, "staff_a")
    replay = client.post("/sign-in/verify/", {"code": code}, HTTP_ACCEPT_LANGUAGE="en")
    assert b"not valid" in replay.content and not signed_in(client)


def test_wrong_codes_count_towards_the_lock(world, client):
    enrolled(world.staff_a)
    password_step(client, "staff_a")
    for _ in range(5):
        client.post("/sign-in/verify/", {"code": "123456"})
    refused = client.post("/sign-in/verify/", {"code": "123456"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused["Location"] == "/sign-in/"
    again = password_step(client, "staff_a")
    assert b"Too many failed" in again.content and not signed_in(client)
    failures = AuditEvent.objects.filter(action="accounts.sign_in", result=AuditResult.FAILED)
    assert failures.filter(detail="username=staff_a").count() == 5


def test_a_recovery_code_signs_in_once(world, client):
    enrolled(world.staff_a)
    codes = services.new_recovery_codes(actor=world.staff_a)
    password_step(client, "staff_a")
    typed = codes[0].lower().replace("-", " ")  # as someone might type it from paper
    assert client.post("/sign-in/verify/", {"code": typed})["Location"] == "/"
    assert mfa.recovery_codes_left(world.staff_a) == 9
    client.post("/sign-out/")
    password_step(client, "staff_a")
    client.post("/sign-in/verify/", {"code": codes[0]})
    assert not signed_in(client)


def test_the_pending_step_expires(world, client):
    enrolled(world.staff_a)
    password_step(client, "staff_a")
    session = client.session
    session["zhengyun_pending_sign_in"]["at"] -= 301
    session.save()
    response = client.post("/sign-in/verify/", {"code": "123456"})
    assert response["Location"] == "/sign-in/" and not signed_in(client)


def test_a_required_factor_cannot_be_removed_by_its_owner_but_an_optional_one_can(world):
    from django.core.exceptions import ValidationError

    enrolled(world.operator)
    with pytest.raises(ValidationError):
        services.remove_second_factor(world.operator, actor=world.operator)
    assert mfa.totp_enrolled(world.operator)
    enrolled(world.staff_a)
    services.remove_second_factor(world.staff_a, actor=world.staff_a)
    assert not mfa.totp_enrolled(world.staff_a)


def test_the_security_administrator_removes_a_lost_factor_and_others_cannot(world, client):
    from zhengyun.core.exceptions import PermissionDenied

    enrolled(world.operator)
    with pytest.raises(PermissionDenied):
        services.remove_second_factor(world.operator, actor=world.admin_a)
    services.remove_second_factor(world.operator, actor=world.secadmin)
    assert AuditEvent.objects.filter(action="accounts.remove_second_factor", actor=world.secadmin)
    # At the next sign-in the operator enrols a new authenticator.
    assert password_step(client, "operator")["Location"] == "/sign-in/enrol/"


def test_anyone_adds_an_authenticator_from_their_security_page(world, client):
    client.force_login(world.staff_a)
    page = client.get("/accounts/me/security/", HTTP_ACCEPT_LANGUAGE="en")
    assert b"No second factor yet" in page.content
    client.get("/accounts/me/authenticator/")
    device = AuthenticatorApp.objects.get(user=world.staff_a, confirmed=False)
    response = client.post("/accounts/me/authenticator/", {"code": code_for(device)})
    assert response["Location"] == "/accounts/me/recovery-codes/"
    assert mfa.totp_enrolled(world.staff_a) and mfa.recovery_codes_left(world.staff_a) == 10


@pytest.mark.parametrize(
    "code", ["", "１２３４５６", "12345", "1" * 65, "\x00\x00", "<script>", "١٢٣٤٥٦"]
)
def test_odd_codes_are_refused_cleanly(world, client, code):
    enrolled(world.staff_a)
    password_step(client, "staff_a")
    response = client.post("/sign-in/verify/", {"code": code}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and not signed_in(client)
