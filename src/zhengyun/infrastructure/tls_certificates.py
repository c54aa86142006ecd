"""The certificate and private key an HTTPS listener presents (R-I3, R-S2): checked before
anything is kept, so a load balancer never fails to start over a key that does not match,
a chain in the wrong order or a certificate past its date.

The certificate field holds the server's certificate first, then any intermediates; the
key is a PEM private key without a passphrase (RSA of 2,048 bits or more, or an elliptic
curve key). The key is stored encrypted and never shown again.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MIN_RSA_BITS = 2048
MAX_PEM_CHARS = 65536
PUBLIC = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class Checked:
    """What a listener shows of its certificate."""

    subject: str
    expires: datetime


def check(certificate, private_key, now=None):
    """``Checked`` for a certificate chain and its key, or a ``ValidationError`` keyed by
    ``certificate`` or ``private_key`` saying what is wrong."""
    now = now or datetime.now(UTC)
    if not certificate or not private_key:
        raise ValidationError(
            {
                name: _("An HTTPS listener needs its certificate and private key.")
                for name, value in (("certificate", certificate), ("private_key", private_key))
                if not value
            }
        )
    chain = _chain(certificate)
    key = _key(private_key)
    for issued, issuer in zip(chain, chain[1:], strict=False):
        if issued.issuer != issuer.subject:
            raise ValidationError(
                {
                    "certificate": _(
                        "Put the server's certificate first, then each certificate that "
                        "issued the one before it."
                    )
                }
            )
    leaf = chain[0]
    if leaf.public_key().public_bytes(*PUBLIC) != key.public_key().public_bytes(*PUBLIC):
        raise ValidationError(
            {"private_key": _("This private key does not belong to the first certificate.")}
        )
    if leaf.not_valid_after_utc <= now:
        raise ValidationError(
            {
                "certificate": _("The certificate expired on %(date)s.")
                % {"date": leaf.not_valid_after_utc.date().isoformat()}
            }
        )
    if leaf.not_valid_before_utc > now:
        raise ValidationError(
            {
                "certificate": _("The certificate is valid only from %(date)s.")
                % {"date": leaf.not_valid_before_utc.date().isoformat()}
            }
        )
    return Checked(subject=leaf.subject.rfc4514_string()[:300], expires=leaf.not_valid_after_utc)


def _chain(text):
    if len(text) > MAX_PEM_CHARS:
        raise ValidationError({"certificate": _("The certificate chain is too long.")})
    try:
        chain = x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        chain = []
    if not chain:
        raise ValidationError(
            {"certificate": _('Paste PEM certificates ("-----BEGIN CERTIFICATE-----").')}
        )
    return chain


def _key(text):
    if len(text) > MAX_PEM_CHARS:
        raise ValidationError({"private_key": _("The private key is too long.")})
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except TypeError:  # encrypted
        raise ValidationError(
            {"private_key": _("Give the private key without a passphrase.")}
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise ValidationError(
            {"private_key": _('Paste a PEM private key ("-----BEGIN PRIVATE KEY-----").')}
        ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValidationError(
                {
                    "private_key": _("An RSA key needs at least %(bits)d bits.")
                    % {"bits": MIN_RSA_BITS}
                }
            )
    elif not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValidationError({"private_key": _("Use an RSA or elliptic-curve key.")})
    return key
