"""Second factors (GB/T 22239 level 3: 两种或两种以上组合的鉴别技术, R-X4).

A time-based one-time password (TOTP, RFC 6238, via django-otp) from an authenticator app,
enrolled with a QR code, its secret stored encrypted; one-time recovery codes for a lost
phone; and SM2 keys that sign a challenge (``sm2_factor``). The three separated
administrators and the platform operator must have a second factor; for everyone else it is
optional. Only an SM3 digest of each recovery code is stored.
"""

import base64
import secrets
import unicodedata

import segno
from django.db import transaction
from django.utils import timezone

from zhengyun.accounts.models import AuthenticatorApp, RecoveryCode, RoleAssignment, SM2Credential
from zhengyun.accounts.roles import SEPARATED_ADMINS, Role
from zhengyun.crypto import gm

MFA_REQUIRED_ROLES = SEPARATED_ADMINS | {Role.PLATFORM_OPERATOR}
RECOVERY_CODE_COUNT = 10
# Crockford's base 32 without I, L, O, U: nothing to misread when typing a code from paper.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 16  # 80 bits


def mfa_required(user):
    """Whether the user's roles make a second factor mandatory."""
    return RoleAssignment.objects.filter(user=user, role__in=MFA_REQUIRED_ROLES).exists()


def totp_enrolled(user):
    return AuthenticatorApp.objects.filter(user=user, confirmed=True).exists()


def has_second_factor(user):
    return totp_enrolled(user) or SM2Credential.objects.filter(user=user).exists()


def pending_totp_device(user):
    """The unconfirmed authenticator being enrolled, created with a fresh secret if none."""
    device = AuthenticatorApp.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = AuthenticatorApp.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def secret_text(device):
    """The secret as an authenticator app asks for it when typed in by hand."""
    return base64.b32encode(device.bin_key).decode()


def qr_svg(device):
    """An inline SVG QR code of the device's ``otpauth://`` address."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)


def normalise_code(code):
    """Digits and letters only, upper case; full-width forms folded (typed on a Chinese IME)."""
    code = unicodedata.normalize("NFKC", str(code))[:64]
    return "".join(c for c in code if c.isascii() and c.isalnum()).upper()


@transaction.atomic
def confirm_totp(user, code):
    """Confirm the authenticator being enrolled if ``code`` is its current one."""
    device = AuthenticatorApp.objects.select_for_update().filter(user=user, confirmed=False).first()
    code = normalise_code(code)
    if device is None or not (code.isdigit() and device.verify_token(code)):
        return False
    AuthenticatorApp.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


def verify(user, code):
    """Check a second-factor code: ``"totp"`` or ``"recovery"`` for what matched, else None.

    Six digits are tried as a TOTP (django-otp refuses a code already used and slows down
    repeated failures); anything else as an unused recovery code, which is then spent.
    """
    code = normalise_code(code)
    if code.isdigit() and len(code) == 6:
        for device in AuthenticatorApp.objects.filter(user=user, confirmed=True):
            if device.verify_token(code):
                return "totp"
        return None
    if len(code) == _CODE_LENGTH:
        spent = RecoveryCode.objects.filter(
            user=user, digest=_digest(user, code), used_at__isnull=True
        ).update(used_at=timezone.now())
        if spent:
            return "recovery"
    return None


def new_recovery_codes(user):
    """Replace the user's recovery codes with fresh ones; returns them for showing once."""
    codes = [
        "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, digest=_digest(user, code)) for code in codes
        )
    return ["-".join(code[i : i + 4] for i in range(0, _CODE_LENGTH, 4)) for code in codes]


def recovery_codes_left(user):
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def remove_second_factor(user):
    AuthenticatorApp.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    SM2Credential.objects.filter(user=user).delete()


def _digest(user, code):
    return gm.sm3(f"zhengyun-recovery:{user.pk}:{code}".encode()).hex()
