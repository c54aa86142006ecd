"""Sign-in, sign-out and failed sign-in attempts go to the audit trail; each sign-in is
recorded as a session (``user_sessions``); after signing in a person is told when and from
where they last signed in, and of failed attempts since (GB/T 22239 level 3 身份鉴别)."""

from django.contrib import messages
from django.contrib.auth import signals
from django.dispatch import receiver
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from oauth2_provider.signals import app_authorized

from zhengyun.accounts import user_sessions
from zhengyun.audit.models import AuditEvent, AuditResult
from zhengyun.audit.services import record


def _failed_detail(username):
    return f"username={str(username)[:150]}"


@receiver(signals.user_logged_in)
def audit_sign_in(sender, request, user, **kwargs):
    previous = (
        AuditEvent.objects.filter(actor=user, action="accounts.sign_in", result=AuditResult.SUCCESS)
        .order_by("-id")
        .first()
    )
    factor = getattr(request, "zhengyun_second_factor", "")
    record(
        actor=user,
        action="accounts.sign_in",
        obj=user,
        detail=f"second_factor={factor}" if factor else "",
    )
    if request is None:
        return
    user_sessions.start(request, user, second_factor=factor)
    if previous is None:
        return
    failed = AuditEvent.objects.filter(
        action="accounts.sign_in",
        result=AuditResult.FAILED,
        id__gt=previous.id,
        detail=_failed_detail(user.get_username()),
    ).count()
    when = formats.date_format(timezone.localtime(previous.occurred_at), "DATETIME_FORMAT")
    note = _("Last sign-in: %(when)s from %(address)s.") % {
        "when": when,
        "address": previous.source_ip or _("an unknown address"),
    }
    if failed:
        note += " " + _("%(count)d failed sign-in attempts since then.") % {"count": failed}
    messages.info(request, note, fail_silently=True)


@receiver(signals.user_logged_out)
def audit_sign_out(sender, request, user, **kwargs):
    if user is not None:
        record(actor=user, action="accounts.sign_out", obj=user)
    if request is not None and request.session.session_key:
        user_sessions.forget(request.session.session_key)


@receiver(signals.user_login_failed)
def audit_failed_sign_in(sender, credentials, request=None, **kwargs):
    # The attempted name is kept in the detail only; it may not be an existing account.
    record(
        actor=None,
        action="accounts.sign_in",
        result=AuditResult.FAILED,
        detail=_failed_detail(credentials.get("username", "")),
    )


@receiver(app_authorized)
def audit_oidc_token(sender, request, token, **kwargs):
    """A person signing into an application (a token issued for them). Tokens services
    obtain for themselves (client credentials) are machine traffic at hundreds a second and
    are not recorded one by one; registering and removing the client are."""
    if token.user is None:
        return
    application = token.application
    record(
        actor=token.user,
        action="accounts.oidc_token",
        obj=application,
        detail=f"client_id={application.client_id} grant={application.authorization_grant_type}",
    )
