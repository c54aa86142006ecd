"""A department's SSH keys (R-I3): registered here, chosen when an instance is ordered
(``services.create_instance``) and written into the guest's config drive, so the people who
hold the private half sign in to the guest without a password.

Only OpenSSH public keys are taken — Ed25519, ECDSA on P-256, P-384 or P-521, or RSA of
2,048 bits or more — checked by parsing them, one key per record. A private key pasted by
mistake is refused and never stored.
"""

import base64
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from zhengyun.core import crud
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import service
from zhengyun.infrastructure.choices import InstanceStatus
from zhengyun.infrastructure.models import Instance, KeyPair

MIN_RSA_BITS = 2048
MAX_KEY_CHARS = 16384
CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
KEY_TYPES = ("ssh-", "ecdsa-sha2-", "sk-")
_FORMAT = gettext_noop(
    "Paste one OpenSSH public key (ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa), "
    'as in the .pub file: "ssh-ed25519 AAAA… name@host".'
)


@service("infrastructure.create_key_pair")
def create_key_pair(*, actor, department, name, public_key):
    """Register ``public_key`` (an OpenSSH public key line) for ``department``."""
    text, fingerprint = checked(public_key)
    return crud.create(
        actor,
        KeyPair,
        "infrastructure.create_key_pair",
        department=department,
        name=name,
        public_key=text,
        fingerprint=fingerprint,
        created_by=actor,
    )


@service("infrastructure.delete_key_pair")
def delete_key_pair(key_pair, *, actor):
    """Forget a key. Guests given it keep it: it is in their own files. While a guest
    ordered with it is still being built the key is refused, as the build has yet to write
    it; the lock waits for a build under way to finish."""
    building = list(
        Instance.objects.select_for_update(of=("self",))
        .filter(key_pair=key_pair, status=InstanceStatus.BUILDING)
        .values_list("name", flat=True)
    )
    if building:
        raise Conflict(
            _("Instances are being built with this key (%(names)s); remove it once they are built.")
            % {"names": ", ".join(building)},
            dependents=building,
        )
    crud.delete(actor, key_pair, "infrastructure.delete_key_pair")


def checked(public_key):
    """``(the key as one line, its SHA256 fingerprint)``, or a ``ValidationError`` on
    ``public_key`` saying what is wrong."""
    text = " ".join((public_key or "").split())
    if "PRIVATE KEY" in text:
        raise ValidationError(
            {
                "public_key": _(
                    "This is a private key: keep it to yourself and paste the public key "
                    "(the .pub file)."
                )
            }
        )
    # A second key would pass as the first one's comment.
    others = [word for word in text.split(" ")[2:] if word.startswith(KEY_TYPES)]
    if not text or len(text) > MAX_KEY_CHARS or others:
        raise ValidationError({"public_key": _(_FORMAT)})
    try:
        key = serialization.load_ssh_public_key(text.encode())
    except (ValueError, UnsupportedAlgorithm):
        raise ValidationError({"public_key": _(_FORMAT)}) from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValidationError(
                {
                    "public_key": _("An RSA key needs at least %(bits)d bits.")
                    % {"bits": MIN_RSA_BITS}
                }
            )
    elif not isinstance(key, ed25519.Ed25519PublicKey) and not (
        isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, CURVES)
    ):
        raise ValidationError({"public_key": _(_FORMAT)})
    blob = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    kind, body = blob.decode().split(" ")[:2]
    if text.split(" ")[0] != kind:
        # A security key (sk-…) or a certificate (…-cert-v01@openssh.com) read as the bare
        # key underneath: stored so, it would lose the hardware or the CA's limits.
        raise ValidationError({"public_key": _(_FORMAT)})
    comment = text.split(" ", 2)[2] if text.count(" ") >= 2 else ""
    digest = hashlib.sha256(base64.b64decode(body)).digest()
    fingerprint = "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
    return " ".join(filter(None, (kind, body, comment))), fingerprint


def check_for_order(key_pair, department):
    """Refuse a key of another department than the order's."""
    if key_pair.department_id != department.pk:
        raise ValidationError({"key_pair": _("Choose an SSH key of the instance's department.")})
