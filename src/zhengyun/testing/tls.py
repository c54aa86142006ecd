"""Certificates and keys made on the spot for tests of HTTPS listeners."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Issued:
    """A certificate with its key, as PEM text and as objects to issue further ones."""

    certificate_pem: str
    key_pem: str
    certificate: x509.Certificate
    key: object


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def rsa_key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def issue(
    name="lb.example.gov.cn", *, issuer=None, key=None, days=30, starts_in_days=-1, addresses=()
):
    """A certificate for ``name`` (also as its DNS name) and IP ``addresses``, signed by
    ``issuer`` (an ``Issued``) or by itself, valid from ``starts_in_days`` for ``days`` from
    now."""
    key = key or ec_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=starts_in_days))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), *(x509.IPAddress(ip_address(a)) for a in addresses)]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    certificate = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return Issued(
        certificate.public_bytes(serialization.Encoding.PEM).decode(),
        key_pem(key),
        certificate,
        key,
    )


def key_pem(key, password=None):
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()
