"""Sign-in, sign-out and failed sign-in attempts go to the audit trail."""

from django.contrib.auth import signals
from django.dispatch import receiver

from zhengyun.audit.models import AuditResult
from zhengyun.audit.services import record


@receiver(signals.user_logged_in)
def audit_sign_in(sender, request, user, **kwargs):
    record(actor=user, action="accounts.sign_in", obj=user)


@receiver(signals.user_logged_out)
def audit_sign_out(sender, request, user, **kwargs):
    if user is not None:
        record(actor=user, action="accounts.sign_out", obj=user)


@receiver(signals.user_login_failed)
def audit_failed_sign_in(sender, credentials, request=None, **kwargs):
    # The attempted name is kept in the detail only; it may not be an existing account.
    record(
        actor=None,
        action="accounts.sign_in",
        result=AuditResult.FAILED,
        detail=f"username={str(credentials.get('username', ''))[:150]}",
    )
