"""Password rules of GB/T 22239 level 3 (身份鉴别): at least eight characters drawn from at
least three of the four classes — capital letters, small letters, digits, other symbols."""

import string

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
