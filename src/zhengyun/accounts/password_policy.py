"""Passwords expire and issued passwords are replaced at first sign-in (GB/T 22239 level 3
身份鉴别: 口令定期更换, R-X4).

Until the password is changed, a signed-in person reaches only the password page and
sign-out (``middleware.PasswordChangeRequiredMiddleware``).
"""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _


def expires_at(user):
    """When the user's password expires; None if it never does."""
    days = settings.ZHENGYUN_PASSWORD_MAX_AGE_DAYS
    if not days or user.password_changed_at is None or not user.has_usable_password():
        return None
    return user.password_changed_at + datetime.timedelta(days=days)


def change_reason(user):
    """Why the user must change their password now, or "" if they need not."""
    if user.must_change_password:
        return _("Your password was issued by someone else. Choose your own to continue.")
    expiry = expires_at(user)
    if expiry is not None and expiry <= timezone.now():
        return _("Your password has expired. Choose a new one to continue.")
    return ""
