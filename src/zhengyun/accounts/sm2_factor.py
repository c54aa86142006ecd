"""The SM2 challenge-response second factor (GB/T 22239 level 3: 鉴别技术中至少一种使用密码技术;
GB/T 39786; R-X2, R-X4).

The platform shows a one-time challenge; the person's SM2 private key — a key file, or a USB
key (UKey) through its browser adapter — signs it (SM3 digest, signer ID 1234567812345678,
DER, base64), and the platform checks the signature against the public keys the person
registered. Each challenge is good for one attempt and five minutes, and names the site,
the person and what it is for, so a signature cannot be replayed elsewhere. With OpenSSL 3:

    printf '%s' 'CHALLENGE' | openssl dgst -sm3 -sign key.pem \\
        -sigopt distid:1234567812345678 | base64 -w0
"""

import base64
import binascii
import secrets
import time

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.accounts.models import SM2Credential
from zhengyun.crypto import gm

SESSION_KEY = "zhengyun_sm2_challenge"
CHALLENGE_SECONDS = 300
MAX_SIGNATURE_CHARACTERS = 200  # a DER SM2 signature is at most 72 bytes
MAX_KEY_CHARACTERS = 2000


def issue_challenge(request, purpose, username):
    """A fresh challenge for ``purpose`` ("sign-in" or "register"), kept in the session."""
    text = "|".join(
        [
            "zhengyun-sm2-v1",
            purpose,
            request.get_host(),
            username,
            secrets.token_hex(16),
            str(int(time.time())),
        ]
    )
    request.session[SESSION_KEY] = {"text": text, "purpose": purpose, "at": time.time()}
    return text


def take_challenge(request, purpose):
    """The challenge issued for ``purpose``, removed so it serves one attempt; None if there
    is none or it is too old."""
    data = request.session.pop(SESSION_KEY, None)
    if not data or data["purpose"] != purpose or time.time() - data["at"] > CHALLENGE_SECONDS:
        return None
    return data["text"]


def decode_signature(text):
    """The DER bytes of a base64 signature, or None if it is not one."""
    text = "".join(str(text).split())
    if not text or len(text) > MAX_SIGNATURE_CHARACTERS:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def verify(user, challenge, signature_text):
    """The credential whose key signed ``challenge``, or None."""
    signature = decode_signature(signature_text)
    if challenge is None or signature is None:
        return None
    for credential in SM2Credential.objects.filter(user=user):
        key = gm.load_sm2_public_key(credential.public_key.encode())
        if gm.sm2_verify(key, signature, challenge.encode()):
            SM2Credential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())
            return credential
    return None


def register(user, name, public_key_pem, challenge, signature_text):
    """Add ``user``'s SM2 public key once they prove they hold its private key by signing
    ``challenge``."""
    if len(public_key_pem) > MAX_KEY_CHARACTERS:
        raise ValidationError({"public_key": _("That is not an SM2 public key in PEM form.")})
    try:
        key = gm.load_sm2_public_key(public_key_pem.strip().encode())
    except ValueError:
        raise ValidationError(
            {"public_key": _("That is not an SM2 public key in PEM form.")}
        ) from None
    if challenge is None:
        raise ValidationError(_("The challenge has expired. Sign the new one shown."))
    signature = decode_signature(signature_text)
    if signature is None or not gm.sm2_verify(key, signature, challenge.encode()):
        raise ValidationError(
            {"signature": _("The signature does not match this key and challenge.")}
        )
    fingerprint = gm.public_key_fingerprint(key)
    if SM2Credential.objects.filter(fingerprint=fingerprint).exists():
        raise ValidationError({"public_key": _("This key is already registered.")})
    return SM2Credential.objects.create(
        user=user,
        name=name,
        public_key=gm.public_key_to_pem(key).decode(),
        fingerprint=fingerprint,
    )
