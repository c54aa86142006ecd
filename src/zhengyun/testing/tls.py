"""Certificates and keys made on the spot for tests of HTTPS listeners."""

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"


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


def sm2_self_signed():
    """An SM2 key and its self-signed SM3 certificate as PEM (the Python library makes
    neither)."""
    return _openssl(
        ["genpkey", "-algorithm", "SM2", "-out", "key.pem"],
        ["req", "-x509", "-new", "-key", "key.pem", "-sm3", "-days", "2"]
        + ["-subj", "/CN=sm2.example.gov.cn", "-out", "cert.pem"],
    )


def sha1_signed(name="lb.example.gov.cn", *, issuer=None):
    """An RSA key and its certificate signed with SHA-1, by ``issuer`` (an ``Issued``) or by
    itself, as an ``Issued`` (the Python library no longer signs with SHA-1)."""
    key = rsa_key()
    files = {"key.pem": key_pem(key)}
    if issuer is None:
        sign = [["req", "-x509", "-new", "-key", "key.pem", "-subj", f"/CN={name}"]]
    else:
        files |= {"ca.pem": issuer.certificate_pem, "ca-key.pem": issuer.key_pem}
        sign = [
            ["req", "-new", "-key", "key.pem", "-subj", f"/CN={name}", "-out", "req.pem"],
            ["x509", "-req", "-in", "req.pem", "-CA", "ca.pem", "-CAkey", "ca-key.pem"],
        ]
    sign[-1] += ["-sha1", "-days", "2", "-out", "cert.pem"]
    certificate_pem, _ = _openssl(*sign, files=files)
    return Issued(
        certificate_pem, key_pem(key), x509.load_pem_x509_certificate(certificate_pem.encode()), key
    )


def _openssl(*commands, files=None):
    """Run OpenSSL's ``commands`` in a scratch directory holding ``files``; the
    ``cert.pem`` and ``key.pem`` they leave there."""
    with tempfile.TemporaryDirectory() as directory:
        for name, text in (files or {}).items():
            Path(directory, name).write_text(text)
        for command in commands:
            subprocess.run([OPENSSL, *command], cwd=directory, check=True, capture_output=True)
        return tuple(Path(directory, name).read_text() for name in ("cert.pem", "key.pem"))
