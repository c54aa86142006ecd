"""三员分立 on the command line: the privileged commands are done by a person signed in as in
the console — password, second factor, lock — and each administrator does only their own
work there too (R-X4; GB/T 22239 level 3 身份鉴别, 访问控制)."""

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from zhengyun.accounts.cli import REFUSED
from zhengyun.accounts.models import (
    OidcSigningKey,
    RoleAssignment,
    SignInFailure,
    SM2Credential,
)
from zhengyun.accounts.roles import Role, ScopeKind
from zhengyun.audit.models import AuditEvent, AuditPurge, AuditResult
from zhengyun.crypto import gm
from zhengyun.crypto.models import DataKey
from zhengyun.testing.cli import enrol_authenticator, next_code, run, run_as
from zhengyun.testing.world import PASSWORD

pytestmark = pytest.mark.django_db

AUDIT_WORK = [
    ("audit", "verify"),
    ("audit", "checkpoint"),
    ("audit", "purge", "--before", "2000-01-01"),
]
KEY_WORK = [("crypto", "new-data-key"), ("crypto", "rewrap"), ("crypto", "status")]


def refused(person, *args, **kwargs):
    with pytest.raises(CommandError) as refusal:
        run_as(person, *args, **kwargs)
    assert refusal.value.returncode == REFUSED
    return str(refusal.value)


def sign_in_as(name, *lines):
    with pytest.raises(CommandError) as refusal:
        run("audit", "verify", "--as", name, lines=lines)
    assert refusal.value.returncode == REFUSED
    return str(refusal.value)


def test_the_audit_administrator_verifies_and_the_trail_names_them(world):
    assert "audit trail intact" in run_as(world.auditor, "audit", "verify")
    verified = AuditEvent.objects.get(action="audit.verify_trail")
    assert (verified.actor, verified.channel) == (world.auditor, "cli")
    assert verified.detail.startswith("chain=intact")
    signed_in = AuditEvent.objects.get(action="accounts.cli_sign_in")
    assert signed_in.actor == world.auditor
    assert signed_in.detail == "command=audit verify second_factor=totp"
    assert signed_in.request_id == verified.request_id  # one command, one request id


def test_the_audit_administrator_signs_a_checkpoint(world):
    assert "signed sequence" in run_as(world.auditor, "audit", "checkpoint")
    event = AuditEvent.objects.get(action="audit.sign_checkpoint")
    assert (event.actor, event.channel) == (world.auditor, "cli")


@pytest.mark.parametrize("work", AUDIT_WORK, ids=lambda work: work[1])
@pytest.mark.parametrize("who", ["sysadmin", "secadmin"])
def test_the_system_and_security_administrators_may_not_do_the_auditors_work(world, who, work):
    person = getattr(world, who)
    assert "none of your roles allows" in refused(person, *work)
    assert not AuditEvent.objects.filter(
        action__in=["audit.verify_trail", "audit.sign_checkpoint", "audit.purge"]
    ).exists()
    assert not AuditPurge.objects.exists()
    denial = AuditEvent.objects.get(result=AuditResult.DENIED)
    assert (denial.actor, denial.channel) == (person, "cli")
    assert denial.action.startswith("audit.audit")


def test_the_security_administrator_makes_a_new_data_key_and_the_trail_names_them(world):
    assert "is now used for new values" in run_as(world.secadmin, "crypto", "new-data-key")
    # (The first data key, which sealed the authenticator's secret, was the platform's.)
    event = AuditEvent.objects.filter(action="crypto.new_data_key").latest("id")
    assert (event.actor, event.actor_label, event.channel) == (world.secadmin, "secadmin", "cli")
    assert "current master key" in run_as(world.secadmin, "crypto", "status")
    assert "data keys now wrapped" in run_as(world.secadmin, "crypto", "rewrap")
    assert AuditEvent.objects.get(action="crypto.rewrap").actor == world.secadmin


@pytest.mark.parametrize("work", KEY_WORK, ids=lambda work: work[1])
@pytest.mark.parametrize("who", ["auditor", "sysadmin"])
def test_the_audit_and_system_administrators_may_not_touch_the_keys(world, who, work):
    person = getattr(world, who)
    enrol_authenticator(person)  # its secret is sealed under a data key first
    keys = DataKey.objects.count()
    assert "none of your roles allows" in refused(person, *work)
    assert DataKey.objects.count() == keys
    assert not AuditEvent.objects.filter(action__startswith="crypto.", actor=person).exists()
    denial = AuditEvent.objects.get(result=AuditResult.DENIED)
    assert (denial.actor, denial.action[: len("gmcrypto.")]) == (person, "gmcrypto.")


def test_one_person_holding_two_separated_roles_acts_as_neither(world):
    # Granting refuses the combination; only a hand-made row can bring it about.
    RoleAssignment.objects.create(
        user=world.auditor, role=Role.SECURITY_ADMIN, scope=ScopeKind.PLATFORM
    )
    enrol_authenticator(world.auditor)
    keys = DataKey.objects.count()
    refused(world.auditor, "audit", "verify")
    refused(world.auditor, "crypto", "new-data-key")
    assert DataKey.objects.count() == keys
    assert AuditEvent.objects.filter(
        actor=world.auditor, action="accounts.separation_of_duties", channel="cli"
    ).exists()


def test_wrong_passwords_lock_the_name_even_against_the_right_password(world):
    enrol_authenticator(world.auditor)
    for _ in range(4):
        assert "not correct" in sign_in_as("auditor", "Wrong-pass-1")
    assert "locked until" in sign_in_as("auditor", "Wrong-pass-1")
    assert "locked until" in sign_in_as("auditor", PASSWORD, next_code(world.auditor))
    assert not AuditEvent.objects.filter(action="audit.verify_trail").exists()
    failed = AuditEvent.objects.filter(action="accounts.sign_in", result=AuditResult.FAILED)
    assert failed.count() == 5 and {e.channel for e in failed} == {"cli"}
    assert AuditEvent.objects.filter(
        action="accounts.sign_in", result=AuditResult.DENIED, detail="username=auditor locked"
    ).exists()


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
def test_an_enrolled_person_must_give_a_valid_code(world):
    enrol_authenticator(world.auditor)
    assert "code" in sign_in_as("auditor", PASSWORD)  # none given
    assert "not valid" in sign_in_as("auditor", PASSWORD, "000000")
    assert SignInFailure.objects.filter(account="auditor").count() == 1
    assert not AuditEvent.objects.filter(action="accounts.cli_sign_in").exists()
    run("audit", "verify", "--as", "auditor", lines=[PASSWORD, next_code(world.auditor)])
    assert not SignInFailure.objects.exists()  # a sign-in forgets the failures


def test_someone_whose_roles_need_a_second_factor_is_sent_to_the_console_to_enrol(world):
    assert "enrol an authenticator app" in sign_in_as("auditor", PASSWORD)
    refusal = AuditEvent.objects.get(action="accounts.cli_sign_in")
    assert refusal.result == AuditResult.DENIED and refusal.object_id == str(world.auditor.pk)


def test_an_sm2_key_alone_does_not_sign_in_on_the_command_line(world):
    key = gm.sm2_generate_key().public_key()
    SM2Credential.objects.create(
        user=world.auditor,
        name="UKey",
        public_key=gm.public_key_to_pem(key).decode(),
        fingerprint=gm.public_key_fingerprint(key),
    )
    assert "SM2 key" in sign_in_as("auditor", PASSWORD, "123456")
    enrol_authenticator(world.auditor)
    assert "intact" in run_as(world.auditor, "audit", "verify")


def test_deactivated_accounts_and_passwords_to_change_are_refused(world):
    enrol_authenticator(world.auditor)
    world.auditor.must_change_password = True
    world.auditor.save(update_fields=["must_change_password"])
    assert "password must be changed" in sign_in_as("auditor", PASSWORD)
    world.auditor.is_active = False
    world.auditor.save(update_fields=["is_active"])
    assert "deactivated" in sign_in_as("auditor", PASSWORD)
    assert "not correct" in sign_in_as("auditor", "Wrong-pass-1")  # says nothing more


def test_the_person_is_named_or_taken_from_the_environment(world, monkeypatch):
    assert "--as" in sign_in_as("")
    enrol_authenticator(world.auditor)
    monkeypatch.setenv("ZHENGYUN_CLI_USER", "auditor")
    assert "intact" in run("audit", "verify", lines=[PASSWORD, next_code(world.auditor)])


def test_the_public_key_needs_no_sign_in(world, capsys):
    call_command("audit", "public-key")
    assert "BEGIN PUBLIC KEY" in capsys.readouterr().out


def test_the_security_administrator_rotates_the_oidc_key_on_the_command_line(world):
    assert "signs from" in run_as(world.secadmin, "oidc", "rotate")
    listing = run_as(world.secadmin, "oidc", "keys")
    assert "signing" in listing and "published, not yet signing" in listing
    rotated = AuditEvent.objects.get(action="accounts.rotate_oidc_key")
    assert (rotated.actor, rotated.channel) == (world.secadmin, "cli")

    run_as(world.secadmin, "oidc", "rotate", "--at-once")
    listing = run_as(world.secadmin, "oidc", "keys")
    assert listing.count("withdrawn") == 2 and listing.count("signing") == 1


@pytest.mark.parametrize("who", ["auditor", "sysadmin"])
def test_the_audit_and_system_administrators_may_not_rotate_the_oidc_key(world, who):
    person = getattr(world, who)
    assert "none of your roles allows" in refused(person, "oidc", "rotate")
    assert "none of your roles allows" in refused(person, "oidc", "keys")
    assert not OidcSigningKey.objects.exists()
