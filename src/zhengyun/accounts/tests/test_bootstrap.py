"""The break-glass command that creates the first security administrator (三员)."""

import io

import pytest
from django.core.management import CommandError, call_command

from zhengyun.accounts.models import RoleAssignment, User
from zhengyun.accounts.roles import Role
from zhengyun.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def bootstrap(monkeypatch, username, password):
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    out = io.StringIO()
    call_command("bootstrap_security_admin", "--username", username, "--password-stdin", stdout=out)
    return out.getvalue()


def test_creates_the_first_security_administrator_and_audits_it(monkeypatch):
    assert "created" in bootstrap(monkeypatch, "guardian", "Zy-guardian-2026!")
    user = User.objects.get(username="guardian")
    assert user.check_password("Zy-guardian-2026!")
    assert RoleAssignment.objects.get(user=user).role == Role.SECURITY_ADMIN
    event = AuditEvent.objects.get(action="accounts.bootstrap_security_admin")
    assert event.actor_label == "system" and event.channel == "cli"


def test_refused_once_a_security_administrator_exists(monkeypatch):
    bootstrap(monkeypatch, "guardian", "Zy-guardian-2026!")
    with pytest.raises(CommandError, match="already exists|已存在"):
        bootstrap(monkeypatch, "second", "Zy-second-2026!")
    assert not User.objects.filter(username="second").exists()


def test_weak_passwords_are_refused(monkeypatch):
    with pytest.raises(CommandError):
        bootstrap(monkeypatch, "guardian", "12345678")
    assert not User.objects.exists()
