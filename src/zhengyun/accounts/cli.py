"""Signing a person in on the command line, so that the privileged commands are done by
someone and the 三员 separation holds there as in the console and the API (GB/T 22239
level 3 8.1.4.2 d, R-X4).

``--as USERNAME`` (default: ``ZHENGYUN_CLI_USER``) names the person. The password is asked
for without echo, or read from the first line of standard input with ``--password-stdin``;
the second line then holds the second-factor code, when one is needed. The steps and their
accounting are the console's (``signin``): a locked name is refused before the password is
checked, a wrong password or code counts towards the lock and is audited as a failed
``accounts.sign_in``, and a person who has or needs a second factor must give one. What the
command line cannot do is refused with a message saying where to do it: enrolling a first
factor, changing a password, signing an SM2 challenge (which needs the console's
one-time challenge). A sign-in, and a refusal after the password, is audited as
``accounts.cli_sign_in``.
"""

import getpass
import os
import sys

from django.contrib.auth import authenticate
from django.contrib.auth import signals as auth_signals
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zhengyun.accounts import access, lockout, mfa, password_policy, signin
from zhengyun.accounts.models import User
from zhengyun.audit.models import AuditResult
from zhengyun.audit.services import record
from zhengyun.core import context
from zhengyun.core.exceptions import PermissionDenied

USER_VARIABLE = "ZHENGYUN_CLI_USER"
CODE_PROMPT = "Code from the authenticator app or a recovery code: "
# sysexits.h EX_NOPERM: a script can tell a refusal from a failure such as a broken audit
# trail (exit status 1).
REFUSED = 77


class Refused(CommandError):
    """The person was not signed in, or may not do what the command does."""

    def __init__(self, message):
        super().__init__(message, returncode=REFUSED)


def sign_in(username, read_password, read_code, command):
    """The active person ``username`` once the password from ``read_password()`` and, if
    they have a second factor, the code from ``read_code()`` have passed; raises
    ``Refused`` otherwise. ``command`` is noted in the audit trail."""
    if not username:
        raise Refused(f"say who is acting: --as USERNAME (or set {USER_VARIABLE})")
    _refuse_if_locked(username)
    password = read_password()
    user = authenticate(None, username=username, password=password)
    if user is None:  # Django's failed sign-in signal has audited it
        lockout.register_failure(username)
        if _disabled(username, password):
            raise Refused(f"the account {username} is deactivated")
        _refuse_if_locked(username, audit=False)
        raise Refused("the name or the password is not correct")
    reason = _cannot_sign_in_here(user)
    if reason:
        record(
            actor=None,
            action="accounts.cli_sign_in",
            obj=user,
            result=AuditResult.DENIED,
            detail=f"command={command} refused: {reason}",
        )
        raise Refused(reason)
    factor = ""
    if mfa.has_second_factor(user):
        factor = _second_factor(user, read_code)
    lockout.clear(username)
    detail = f"command={command}" + (f" second_factor={factor}" if factor else "")
    record(actor=user, action="accounts.cli_sign_in", obj=user, detail=detail)
    # Settle the roles in effect now, outside any service: if 三员 roles meet in this person
    # the event saying so is kept, where a service's refusal would roll it back.
    access.all_assignments(user)
    return user


def _refuse_if_locked(username, audit=True):
    until = lockout.locked_until(username)
    if until:
        if audit:
            signin.refuse_locked(username)
        when = timezone.localtime(until).strftime("%H:%M")
        raise Refused(f"too many failed sign-in attempts: {username} is locked until {when}")


def _disabled(username, password):
    """Whether ``username`` is a deactivated account and ``password`` its password — said
    only to someone who knows the password, as Django's own sign-in form does."""
    user = User.objects.filter(username=username, is_active=False).first()
    return user is not None and user.check_password(password)


def _cannot_sign_in_here(user):
    """Why ``user``, whose password has passed, cannot complete signing in on the command
    line; "" if they can. Checked before asking for a code, so none is spent in vain."""
    if mfa.mfa_required(user) and not mfa.has_second_factor(user):
        return (
            "your roles require a second factor and you have none yet: sign in to the "
            "console once to enrol an authenticator app, then try again"
        )
    if mfa.has_second_factor(user) and not mfa.totp_enrolled(user):
        return (
            "your second factor is an SM2 key, which only the console can check: add an "
            "authenticator app on your Sign-in security page to act on the command line"
        )
    if password_policy.change_reason(user):
        return "your password must be changed first: sign in to the console and change it"
    return ""


def _second_factor(user, read_code):
    """``"totp"`` or ``"recovery"``, for the code the person gave; raises ``Refused``."""
    name = user.get_username()
    code = read_code()
    if not code:
        raise Refused("a code from the authenticator app or a recovery code is needed")
    _refuse_if_locked(name)
    factor = mfa.verify(user, code)
    if not factor:
        lockout.register_failure(name)
        auth_signals.user_login_failed.send(
            sender=__name__, credentials={"username": name}, request=None
        )
        _refuse_if_locked(name, audit=False)
        raise Refused("that code is not valid: check the time on your phone")
    return factor


class OperatorCommand(BaseCommand):
    """A management command done by a signed-in person rather than by the platform.

    Subclasses call ``add_operator_arguments(parser)`` and then ``self.operator(options)``
    for the person, whom they pass to services as the actor. A refusal by a service
    (``PermissionDenied``, audited there) ends the command with exit status 77.
    """

    def add_operator_arguments(self, parser):
        parser.add_argument(
            "--as",
            dest="operator",
            metavar="USERNAME",
            default=os.environ.get(USER_VARIABLE, ""),
            help=f"the person acting (default: ${USER_VARIABLE}); asked for their password",
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input and the "
            "second-factor code, when one is needed, from the second",
        )

    def execute(self, *args, **options):
        # One request id for the whole command: its sign-in and every event it records
        # share it in the audit trail.
        ctx = context.RequestContext(request_id=context.new_request_id(), channel="cli")
        name = type(self).__module__.rpartition(".")[2]  # the command's name, as typed
        self.command = " ".join(part for part in (name, options.get("action")) if part)
        with context.bound(ctx):
            try:
                return super().execute(*args, **options)
            except PermissionDenied as exc:
                if not exc.action:
                    raise Refused(str(exc.message)) from None
                label, _, action = exc.action.rpartition(".")
                raise Refused(f"none of your roles allows '{action}' on {label}") from None

    def operator(self, options):
        """The person named by ``--as``, signed in with their password and second factor."""
        if options["password_stdin"]:
            lines = iter(sys.stdin.readline, "")
            return sign_in(
                options["operator"],
                lambda: next(lines, "").rstrip("\n"),
                lambda: next(lines, "").strip(),
                self.command,
            )
        username = options["operator"]
        return sign_in(
            username,
            lambda: getpass.getpass(f"Password for {username}: "),
            lambda: getpass.getpass(CODE_PROMPT).strip(),
            self.command,
        )
