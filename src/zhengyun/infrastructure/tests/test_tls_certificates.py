"""An HTTPS listener's certificate and key are checked before anything is kept (R-I3): each
mistake an operator makes with PEM files is named, in the field it is in."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.exceptions import ValidationError
from django.utils.translation import override

from zhengyun.infrastructure import tls_certificates
from zhengyun.testing.tls import ec_key, issue, key_pem, rsa_key


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
    "small RSA": (small_rsa, "private_key", "at least 2048 bits"),
    "ed25519": (
        lambda: (issue().certificate_pem, key_pem(ed25519.Ed25519PrivateKey.generate())),
        "private_key",
        "RSA or elliptic-curve",
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
