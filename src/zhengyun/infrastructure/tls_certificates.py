"""The certificate and private key an HTTPS listener presents (R-I3, R-S2): checked before
anything is kept, so a load balancer never fails to start over a key that does not match,
a chain in the wrong order, a weak key or signature, or a certificate past its date.

The certificate field holds the server's certificate first, then any intermediates, and
nothing else; the key is a PEM private key without a passphrase (RSA of 2,048 to 4,096 bits,
or an elliptic-curve key on P-256, P-384 or P-521). Both are kept as they are re-encoded
here, so stray text pasted around them never reaches the load balancer; the key is stored
encrypted and never shown again.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MIN_RSA_BITS = 2048
# Larger keys cost every handshake dearly, and checking one costs the request seconds.
MAX_RSA_BITS = 4096
CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
# Signatures a client refuses; a root's own signature is never checked, so it may keep one.
WEAK_HASHES = (hashes.MD5, hashes.SHA1)
MAX_PEM_CHARS = 65536
PEM_LABEL = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
CERTIFICATE_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----"
)
PUBLIC = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class Checked:
    """A checked chain and key, re-encoded, and what a listener shows of the certificate."""

    certificate: str
    private_key: str
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
    _check_order(chain)
    _check_signatures(chain)
    leaf = chain[0]
    if _public(leaf) != key.public_key().public_bytes(*PUBLIC):
        raise ValidationError(
            {"private_key": _("This private key does not belong to the first certificate.")}
        )
    _check_dates(leaf, now)
    return Checked(
        certificate="".join(
            issued.public_bytes(serialization.Encoding.PEM).decode() for issued in chain
        ),
        private_key=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        subject=leaf.subject.rfc4514_string()[:300],
        expires=leaf.not_valid_after_utc,
    )


def certificate_blocks(text):
    """The PEM certificates in ``text`` and nothing else: what may be shown again of what
    was pasted as certificates, whatever else came with it."""
    return "\n".join(CERTIFICATE_BLOCK.findall(text or ""))


def _chain(text):
    if len(text) > MAX_PEM_CHARS:
        raise ValidationError({"certificate": _("The certificate chain is too long.")})
    if any(label != "CERTIFICATE" for label in PEM_LABEL.findall(text)):
        raise ValidationError(
            {"certificate": _("Put only certificates here; the private key goes in its own field.")}
        )
    try:
        chain = x509.load_pem_x509_certificates(text.encode())
    except (ValueError, x509.InvalidVersion):
        chain = []
    if not chain:
        raise ValidationError(
            {"certificate": _('Paste PEM certificates ("-----BEGIN CERTIFICATE-----").')}
        )
    return chain


def _check_signatures(chain):
    for issued in chain:
        if issued.issuer != issued.subject and _signed_weakly(issued):
            raise ValidationError(
                {
                    "certificate": _(
                        "%(subject)s is signed with MD5 or SHA-1, which browsers refuse."
                    )
                    % {"subject": issued.subject.rfc4514_string()}
                }
            )


def _signed_weakly(issued):
    try:
        return isinstance(issued.signature_hash_algorithm, WEAK_HASHES)
    except UnsupportedAlgorithm:  # SM3 and other hashes this module does not know
        return False


def _public(leaf):
    try:
        return leaf.public_key().public_bytes(*PUBLIC)
    except (UnsupportedAlgorithm, ValueError):
        raise ValidationError(
            {
                "certificate": _(
                    "The certificate's key is neither RSA nor elliptic-curve; SM2 "
                    "certificates are not supported for HTTPS listeners yet."
                )
            }
        ) from None


def _check_order(chain):
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


def _check_dates(leaf, now):
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


def _key(text):
    if len(text) > MAX_PEM_CHARS:
        raise ValidationError({"private_key": _("The private key is too long.")})
    # Sized before it is checked: checking a huge RSA key takes seconds.
    key = _load_key(text, unsafe_skip_rsa_key_validation=True)
    if isinstance(key, rsa.RSAPrivateKey):
        if not MIN_RSA_BITS <= key.key_size <= MAX_RSA_BITS:
            raise ValidationError(
                {
                    "private_key": _("An RSA key needs from %(least)d to %(most)d bits.")
                    % {"least": MIN_RSA_BITS, "most": MAX_RSA_BITS}
                }
            )
        return _load_key(text, unsafe_skip_rsa_key_validation=False)
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, CURVES):
        return key
    raise ValidationError({"private_key": _key_kinds()})


def _load_key(text, **options):
    try:
        return serialization.load_pem_private_key(text.encode(), password=None, **options)
    except TypeError:  # encrypted
        raise ValidationError(
            {"private_key": _("Give the private key without a passphrase.")}
        ) from None
    except UnsupportedAlgorithm:  # SM2 among others
        raise ValidationError({"private_key": _key_kinds()}) from None
    except ValueError:
        raise ValidationError(
            {"private_key": _('Paste a PEM private key ("-----BEGIN PRIVATE KEY-----").')}
        ) from None


def _key_kinds():
    return _("Use an RSA key or an elliptic-curve key on P-256, P-384 or P-521.")
