"""Running the privileged commands as a person, as an administrator would at a terminal:
signed in with ``--as`` and ``--password-stdin`` (``accounts.cli``)."""

import io
from unittest import mock

from django.core.management import call_command
from django_otp.oath import TOTP, hotp

from zhengyun.accounts import mfa, services
from zhengyun.accounts.models import AuthenticatorApp
from zhengyun.testing.world import PASSWORD


def next_code(user):
    """A code the person's authenticator app shows that has not been used yet (a used one is
    refused): the earliest step the platform still accepts, so several sign-ins may follow
    one another within a test."""
    device = AuthenticatorApp.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = totp.t()
    step = max(now - device.tolerance, device.last_t + 1)
    assert step <= now + device.tolerance, "no unused code left in this time window"
    return f"{hotp(device.bin_key, step, device.digits):0{device.digits}d}"


def enrol_authenticator(user):
    """Add an authenticator app for ``user`` as they would on their security page."""
    device = mfa.pending_totp_device(user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    assert services.enrol_totp(actor=user, code=f"{totp.token():0{device.digits}d}")


def run(*args, lines):
    """``zhengyun <args>`` with ``lines`` on standard input; what it wrote."""
    out = io.StringIO()
    with mock.patch("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines))):
        call_command(*args, "--password-stdin", stdout=out)
    return out.getvalue()


def run_as(person, *args, password=PASSWORD):
    """``zhengyun <args> --as <person>``, signed in with their password and, if their roles
    need one, a valid code from an authenticator app (added first if they have none)."""
    if mfa.mfa_required(person) and not mfa.totp_enrolled(person):
        enrol_authenticator(person)
    code = next_code(person) if mfa.totp_enrolled(person) else ""
    return run(*args, "--as", person.get_username(), lines=[password, code])
