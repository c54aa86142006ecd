"""An HTTPS listener's certificate and key are checked before anything is kept (R-I3): each
mistake an operator makes with PEM files is named, in the field it is in."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from django.core.exceptions import ValidationError
from django.utils.translation import override

from zhengyun.infrastructure import tls_certificates
from zhengyun.testing.tls import ec_key, issue, key_pem, rsa_key, sha1_signed, sm2_self_signed


def test_a_chain_with_its_key_is_accepted_and_described():
    authority = issue("Example CA", days=365)
    server = issue("lb.example.gov.cn", issuer=authority, key=rsa_key())
    checked = tls_certificates.check(
        server.certificate_pem + authority.certificate_pem, server.key_pem
    )
    assert checked.subject == "CN=lb.example.gov.cn"
    assert checked.expires == server.certificate.not_valid_after_utc


def own(issued):
    return issued.certificate_pem, issued.key_pem


def chain_reversed():
    authority = issue("Example CA")
    server = issue(issuer=authority)
    return authority.certificate_pem + server.certificate_pem, server.key_pem


def small_rsa():
    key = rsa_key(1024)
    return issue(key=key).certificate_pem, key_pem(key)


MISTAKES = {
    "missing key": (lambda: (issue().certificate_pem, ""), "private_key", "needs its certificate"),
    "not PEM": (lambda: ("hello", issue().key_pem), "certificate", "Paste PEM certificates"),
    "key not PEM": (lambda: (issue().certificate_pem, "hello"), "private_key", "Paste a PEM"),
    "another key": (
        lambda: (issue().certificate_pem, key_pem(ec_key())),
        "private_key",
        "does not belong to the first certificate",
    ),
    "expired": (lambda: own(issue(days=-1, starts_in_days=-10)), "certificate", "expired on"),
    "not yet valid": (lambda: own(issue(starts_in_days=2)), "certificate", "valid only from"),
    "chain reversed": (chain_reversed, "certificate", "the server's certificate first"),
    "passphrase": (
        lambda: (lambda s: (s.certificate_pem, key_pem(s.key, b"secret")))(issue()),
        "private_key",
        "without a passphrase",
    ),
    "small RSA": (small_rsa, "private_key", "from 2048 to 4096 bits"),
    "ed25519": (
        lambda: (issue().certificate_pem, key_pem(ed25519.Ed25519PrivateKey.generate())),
        "private_key",
        "RSA key or an elliptic-curve key",
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_mistake_is_named_in_its_field(mistake):
    make, field, says = MISTAKES[mistake]
    certificate, private_key = make()
    with override("en"), pytest.raises(ValidationError) as refused:
        tls_certificates.check(certificate, private_key)
    assert list(refused.value.message_dict) == [field]
    assert says in refused.value.message_dict[field][0]


def big_rsa():
    key = rsa_key(4160)
    return issue(key=key).certificate_pem, key_pem(key)


def sha1_signed_server():
    authority = issue("Example CA")
    server = sha1_signed(issuer=authority)
    return server.certificate_pem + authority.certificate_pem, server.key_pem


def sm2_certificate():
    certificate, _ = sm2_self_signed()
    return certificate, issue().key_pem


MORE_MISTAKES = {
    "key pasted with the chain": (
        lambda: (lambda s: (s.certificate_pem + s.key_pem, s.key_pem))(issue()),
        "certificate",
        "Put only certificates here",
    ),
    "RSA too large": (big_rsa, "private_key", "from 2048 to 4096 bits"),
    "curve P-192": (
        lambda: (issue().certificate_pem, key_pem(ec.generate_private_key(ec.SECP192R1()))),
        "private_key",
        "P-256, P-384 or P-521",
    ),
    "signed with SHA-1": (sha1_signed_server, "certificate", "signed with MD5 or SHA-1"),
    "SM2 certificate": (sm2_certificate, "certificate", "SM2 certificates are not supported"),
    "SM2 key": (lambda: sm2_self_signed(), "private_key", "P-256, P-384 or P-521"),
}


@pytest.mark.parametrize("mistake", MORE_MISTAKES)
def test_weak_unsupported_or_misplaced_material_is_named_in_its_field(mistake):
    make, field, says = MORE_MISTAKES[mistake]
    certificate, private_key = make()
    with override("en"), pytest.raises(ValidationError) as refused:
        tls_certificates.check(certificate, private_key)
    assert list(refused.value.message_dict) == [field]
    assert says in refused.value.message_dict[field][0]


def test_a_self_signed_root_may_keep_its_old_signature():
    authority = sha1_signed("Old CA")
    server = issue(issuer=authority)
    checked = tls_certificates.check(
        server.certificate_pem + authority.certificate_pem, server.key_pem
    )
    assert checked.subject == "CN=lb.example.gov.cn"


def test_what_is_kept_is_re_encoded_without_stray_text():
    key = rsa_key()
    server = issue(key=key)
    traditional = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    pasted = "subject=CN = lb\r\n" + server.certificate_pem.replace("\n", "\r\n") + "trailing\n"
    checked = tls_certificates.check(pasted, "Bag Attributes\n" + traditional)
    assert checked.certificate == server.certificate_pem
    assert checked.private_key == key_pem(key)
    assert checked.private_key.startswith("-----BEGIN PRIVATE KEY-----")
