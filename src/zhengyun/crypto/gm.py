"""SM2, SM3 and SM4 for the rest of the platform (GB/T 32918, GB/T 32905, GB/T 32907).

SM3 and SM4 come from ``cryptography``; SM2 from ``tongsuopy`` (Tongsuo, an OpenSSL fork),
whose nonces come from the library's cryptographic generator. Pure-Python SM2 is not used.
Signatures are DER-encoded and use the standard signer ID ``1234567812345678``
(GB/T 35276), so they verify with OpenSSL 3:
``openssl dgst -sm3 -verify pub.pem -sigopt distid:1234567812345678 -signature sig msg``.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes as std_hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InternalError, InvalidSignature, UnsupportedAlgorithm

SM4_KEY_BYTES = 16
GCM_NONCE_BYTES = 12
GCM_TAG_BYTES = 16
DEFAULT_SIGNER_ID = b"1234567812345678"


class DecryptionError(Exception):
    """Ciphertext that is not authentic under this key and associated data."""


def sm3(data: bytes) -> bytes:
    """The 32-byte SM3 digest of ``data``."""
    digest = std_hashes.Hash(std_hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm4_key() -> bytes:
    """A fresh random 128-bit SM4 key."""
    return os.urandom(SM4_KEY_BYTES)


def sm4_gcm_encrypt(key: bytes, plaintext: bytes, associated_data: bytes = b"") -> bytes:
    """Encrypt and authenticate: ``nonce || ciphertext || tag``. A new nonce every call."""
    nonce = os.urandom(GCM_NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(associated_data)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return nonce + ciphertext + encryptor.tag


def sm4_gcm_decrypt(key: bytes, sealed: bytes, associated_data: bytes = b"") -> bytes:
    """Reverse ``sm4_gcm_encrypt``; raises ``DecryptionError`` if anything was altered."""
    if len(sealed) < GCM_NONCE_BYTES + GCM_TAG_BYTES:
        raise DecryptionError("ciphertext too short")
    nonce, body, tag = (
        sealed[:GCM_NONCE_BYTES],
        sealed[GCM_NONCE_BYTES:-GCM_TAG_BYTES],
        sealed[-GCM_TAG_BYTES:],
    )
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(associated_data)
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag:
        raise DecryptionError("ciphertext is not authentic") from None


def sm2_generate_key():
    """A new SM2 private key."""
    return ec.generate_private_key(ec.SM2())


def sm2_sign(private_key, data: bytes) -> bytes:
    """A DER-encoded SM2 signature over ``data`` (SM3, standard signer ID)."""
    return private_key.sign(data, ec.ECDSA(hashes.SM3()))


def sm2_verify(public_key, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is a valid SM2 signature of ``data`` by ``public_key``."""
    try:
        public_key.verify(signature, data, ec.ECDSA(hashes.SM3()))
    except (InvalidSignature, ValueError, InternalError):
        # Tongsuo reports a malformed DER signature as an internal error; it is just invalid.
        return False
    return True


def private_key_to_pem(private_key) -> bytes:
    """PKCS#8 PEM, unencrypted (keep it where only the platform can read it)."""
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_key_to_pem(public_key) -> bytes:
    """SubjectPublicKeyInfo PEM, as OpenSSL writes it."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(pem: bytes):
    return serialization.load_pem_private_key(pem, password=None)


def load_public_key(pem: bytes):
    return serialization.load_pem_public_key(pem)


def load_sm2_public_key(pem: bytes):
    """An SM2 public key from PEM; ValueError for anything else (RSA, NIST curves, junk)."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, InternalError, UnsupportedAlgorithm) as exc:
        raise ValueError("not a PEM public key of a supported kind") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SM2):
        raise ValueError("not an SM2 public key")
    return key


def public_key_fingerprint(public_key) -> str:
    """SM3 of the DER SubjectPublicKeyInfo, in hex: names a key without showing it."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return sm3(der).hex()
