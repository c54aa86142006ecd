"""国密 primitives against the standards' own test vectors and against OpenSSL 3, an
implementation this project did not write (R-X2, R-X3)."""

import os
import shutil
import subprocess

import pytest

from zhengyun.crypto import gm

# GB/T 32905-2016 appendix A.
SM3_VECTORS = [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]


@pytest.mark.parametrize(("message", "digest"), SM3_VECTORS)
@pytest.mark.parametrize("implementation", ["sm3", "_sm3_hashlib", "_sm3_cryptography"])
def test_sm3_matches_gb_t_32905(message, digest, implementation):
    if implementation == "_sm3_hashlib" and gm.sm3 is not gm._sm3_hashlib:
        pytest.skip("this Python's OpenSSL has no SM3")
    assert getattr(gm, implementation)(message).hex() == digest


def test_sm4_matches_gb_t_32907():
    # GB/T 32907-2016 appendix A, example 1: one block, key = plaintext.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305 - the vector
    assert (encryptor.update(key) + encryptor.finalize()).hex() == (
        "681edf34d206965e86b3e94f536e4246"
    )


def test_sm4_gcm_round_trip_and_tamper_detection():
    key = gm.sm4_key()
    sealed = gm.sm4_gcm_encrypt(key, b"110101199003077777", b"accounts.user:7")
    assert gm.sm4_gcm_decrypt(key, sealed, b"accounts.user:7") == b"110101199003077777"
    assert gm.sm4_gcm_encrypt(key, b"same", b"") != gm.sm4_gcm_encrypt(key, b"same", b"")
    flipped = sealed[:20] + bytes([sealed[20] ^ 1]) + sealed[21:]
    for bad_key, data, aad in (
        (key, flipped, b"accounts.user:7"),
        (key, sealed, b"accounts.user:8"),
        (gm.sm4_key(), sealed, b"accounts.user:7"),
        (key, sealed[:10], b""),
    ):
        with pytest.raises(gm.DecryptionError):
            gm.sm4_gcm_decrypt(bad_key, data, aad)


def test_sm2_sign_verify_and_pem_round_trip():
    key = gm.sm2_generate_key()
    signature = gm.sm2_sign(key, b"checkpoint 1")
    public = gm.load_public_key(gm.public_key_to_pem(key.public_key()))
    assert gm.sm2_verify(public, signature, b"checkpoint 1")
    assert not gm.sm2_verify(public, signature, b"checkpoint 2")
    assert not gm.sm2_verify(gm.sm2_generate_key().public_key(), signature, b"checkpoint 1")
    assert not gm.sm2_verify(public, b"\x30\x02garbage", b"checkpoint 1")
    again = gm.load_private_key(gm.private_key_to_pem(key))
    assert gm.sm2_verify(public, gm.sm2_sign(again, b"x"), b"x")
    # Fresh nonces: the same message never gives the same signature.
    assert gm.sm2_sign(key, b"x") != gm.sm2_sign(key, b"x")


def test_sm2_encryption_round_trip_and_refusals():
    key = gm.sm2_generate_key()
    message = "居民身份证号 110101199003077777".encode()
    sealed = gm.sm2_encrypt(key.public_key(), message)
    assert message not in sealed
    assert gm.sm2_decrypt(key, sealed) == message
    # A fresh ephemeral key every time: the same message never gives the same ciphertext.
    assert gm.sm2_encrypt(key.public_key(), message) != sealed
    with pytest.raises(gm.DecryptionError):
        gm.sm2_decrypt(gm.sm2_generate_key(), sealed)
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(gm.DecryptionError):
        gm.sm2_decrypt(key, bytes(tampered))
    with pytest.raises(gm.DecryptionError):
        gm.sm2_decrypt(key, b"not a ciphertext")
    with pytest.raises(ValueError):
        gm.sm2_encrypt(key.public_key(), b"")


# Interoperability with an implementation nobody here wrote: skipped on a workstation without
# the OpenSSL 3 command line, never on CI.
openssl = pytest.mark.skipif(
    shutil.which("openssl") is None and not os.environ.get("CI"),
    reason="the OpenSSL 3 command line is not installed",
)


def run_openssl(*args):
    return subprocess.run(["openssl", *args], capture_output=True, check=False, timeout=30)


@openssl
def test_openssl_verifies_our_sm2_signatures(tmp_path):
    key = gm.sm2_generate_key()
    message = "政务云审计检查点 #42".encode()
    (tmp_path / "pub.pem").write_bytes(gm.public_key_to_pem(key.public_key()))
    (tmp_path / "msg").write_bytes(message)
    (tmp_path / "sig").write_bytes(gm.sm2_sign(key, message))
    args = [
        "dgst",
        "-sm3",
        "-verify",
        str(tmp_path / "pub.pem"),
        "-sigopt",
        "distid:1234567812345678",
        "-signature",
        str(tmp_path / "sig"),
    ]
    ok = run_openssl(*args, str(tmp_path / "msg"))
    assert ok.returncode == 0 and b"Verified OK" in ok.stdout, ok.stderr
    (tmp_path / "other").write_bytes(message + b"!")
    assert run_openssl(*args, str(tmp_path / "other")).returncode != 0


@openssl
def test_we_verify_openssl_sm2_signatures(tmp_path):
    assert (
        run_openssl("genpkey", "-algorithm", "SM2", "-out", str(tmp_path / "key.pem")).returncode
        == 0
    )
    assert (
        run_openssl(
            "pkey", "-in", str(tmp_path / "key.pem"), "-pubout", "-out", str(tmp_path / "pub.pem")
        ).returncode
        == 0
    )
    message = b"signed by openssl"
    (tmp_path / "msg").write_bytes(message)
    signed = run_openssl(
        "dgst",
        "-sm3",
        "-sign",
        str(tmp_path / "key.pem"),
        "-sigopt",
        "distid:1234567812345678",
        "-out",
        str(tmp_path / "sig"),
        str(tmp_path / "msg"),
    )
    assert signed.returncode == 0, signed.stderr
    public = gm.load_public_key((tmp_path / "pub.pem").read_bytes())
    signature = (tmp_path / "sig").read_bytes()
    assert gm.sm2_verify(public, signature, message)
    assert not gm.sm2_verify(public, signature, message + b".")
    # OpenSSL's private key loads here too, and what it signs for us OpenSSL accepts.
    ours = gm.load_private_key((tmp_path / "key.pem").read_bytes())
    assert gm.sm2_verify(public, gm.sm2_sign(ours, message), message)


@openssl
def test_sm2_ciphertexts_cross_with_openssl(tmp_path):
    key = gm.sm2_generate_key()
    (tmp_path / "key.pem").write_bytes(gm.private_key_to_pem(key))
    (tmp_path / "pub.pem").write_bytes(gm.public_key_to_pem(key.public_key()))
    ours = "加密给 OpenSSL".encode()
    (tmp_path / "ours").write_bytes(gm.sm2_encrypt(key.public_key(), ours))
    opened = run_openssl(
        "pkeyutl", "-decrypt", "-inkey", str(tmp_path / "key.pem"), "-in", str(tmp_path / "ours")
    )
    assert opened.returncode == 0 and opened.stdout == ours, opened.stderr

    theirs = b"encrypted by openssl"
    (tmp_path / "theirs").write_bytes(theirs)
    sealed = run_openssl(
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        str(tmp_path / "pub.pem"),
        "-in",
        str(tmp_path / "theirs"),
        "-out",
        str(tmp_path / "sealed"),
    )
    assert sealed.returncode == 0, sealed.stderr
    assert gm.sm2_decrypt(key, (tmp_path / "sealed").read_bytes()) == theirs
