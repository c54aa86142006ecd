"""Password rules of GB/T 22239 level 3 (身份鉴别): at least eight characters drawn from at
least three of the four classes — capital letters, small letters, digits, other symbols — and
none of the last five passwords again."""

import string

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CLASSES = (
    lambda c: c in string.ascii_uppercase,
    lambda c: c in string.ascii_lowercase,
    lambda c: c in string.digits,
    lambda c: not c.isalnum(),
)


class CharacterClassValidator:
    """Requires characters from ``min_classes`` of the four classes."""

    def __init__(self, min_classes=3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        used = sum(any(test(c) for c in password) for test in CLASSES)
        if used < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self):
        return _(
            "Your password must mix at least %(count)d of: capital letters, small letters, "
            "digits and other symbols."
        ) % {"count": self.min_classes}


class PasswordHistoryValidator:
    """Refuses the last ``keep`` passwords (the current one included); remembers each new one."""

    def __init__(self, keep=5):
        self.keep = keep

    def validate(self, password, user=None):
        if user is None or user.pk is None or self.keep <= 0:
            return
        from zhengyun.accounts.models import PasswordHistory

        previous = PasswordHistory.objects.filter(user=user).values_list("password", flat=True)
        for encoded in previous[: self.keep]:
            if check_password(password, encoded):
                raise ValidationError(self.get_help_text(), code="password_reused")

    def password_changed(self, password, user=None):
        """Called by Django once the new password is saved."""
        from zhengyun.accounts.models import PasswordHistory

        if user is None or not user.has_usable_password():
            return
        PasswordHistory.objects.create(user=user, password=user.password)
        stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[self.keep :]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()

    def get_help_text(self):
        return _("Your password must differ from your last %(count)d passwords.") % {
            "count": self.keep
        }
