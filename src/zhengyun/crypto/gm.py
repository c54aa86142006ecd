"""SM2, SM3 and SM4 for the rest of the platform (GB/T 32918, GB/T 32905, GB/T 32907).

SM3 comes from the OpenSSL behind hashlib (or ``cryptography`` where it has none), SM4 from
``cryptography``, SM2 from ``tongsuopy`` (Tongsuo, an OpenSSL fork), whose nonces come from
the library's cryptographic generator. Pure-Python SM2 is not used.
Signatures are DER-encoded and use the standard signer ID ``1234567812345678``
(GB/T 35276), so they verify with OpenSSL 3:
``openssl dgst -sm3 -verify pub.pem -sigopt distid:1234567812345678 -signature sig msg``.
SM2 ciphertexts (GB/T 32918.4) are in the ASN.1 form of GM/T 0009 that OpenSSL 3 reads and
writes: ``openssl pkeyutl -decrypt -inkey key.pem -in ciphertext``.
"""

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes as std_hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from tongsuopy.backends.tongsuo.backend import backend as tongsuo
from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InternalError, InvalidSignature, UnsupportedAlgorithm

SM4_KEY_BYTES = 16
GCM_NONCE_BYTES = 12
GCM_TAG_BYTES = 16
DEFAULT_SIGNER_ID = b"1234567812345678"


class DecryptionError(Exception):
    """Ciphertext that is not authentic under this key and associated data."""


def _sm3_hashlib(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def _sm3_cryptography(data: bytes) -> bytes:
    digest = std_hashes.Hash(std_hashes.SM3())
    digest.update(data)
    return digest.finalize()


# sm3(data): the 32-byte SM3 digest of ``data``. Through hashlib when its OpenSSL has SM3:
# the same digest without ``cryptography``'s wrapper, a fifth faster, which the hash chains
# feel when they verify a million entries.
sm3 = _sm3_hashlib if "sm3" in hashlib.algorithms_available else _sm3_cryptography


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


def sm2_encrypt(public_key, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` to the holder of ``public_key`` (C1, C3, C2 in DER).

    ``tongsuopy`` offers no SM2 encryption of its own, so Tongsuo's EVP interface is called
    directly through the library's binding; the ephemeral key comes from Tongsuo's generator.
    """
    if not plaintext:
        raise ValueError("nothing to encrypt")
    lib = tongsuo._lib
    return _evp_pkey_crypt(public_key, lib.EVP_PKEY_encrypt_init, lib.EVP_PKEY_encrypt, plaintext)


def sm2_decrypt(private_key, ciphertext: bytes) -> bytes:
    """Reverse ``sm2_encrypt``; raises ``DecryptionError`` for a wrong key or altered bytes."""
    lib = tongsuo._lib
    try:
        return _evp_pkey_crypt(
            private_key, lib.EVP_PKEY_decrypt_init, lib.EVP_PKEY_decrypt, ciphertext
        )
    except ValueError:
        raise DecryptionError("ciphertext is not for this key or was altered") from None


def _evp_pkey_crypt(key, init, operation, data):
    lib, ffi = tongsuo._lib, tongsuo._ffi
    if not isinstance(getattr(key, "curve", None), ec.SM2):
        raise TypeError("an SM2 key is needed")
    ctx = ffi.gc(lib.EVP_PKEY_CTX_new(key._evp_pkey, ffi.NULL), lib.EVP_PKEY_CTX_free)
    tongsuo.openssl_assert(ctx != ffi.NULL and init(ctx) == 1)
    size = ffi.new("size_t *")
    if operation(ctx, ffi.NULL, size, data, len(data)) != 1:
        tongsuo._consume_errors()
        raise ValueError("the operation was refused")
    out = ffi.new("unsigned char[]", size[0])
    if operation(ctx, out, size, data, len(data)) != 1:
        tongsuo._consume_errors()
        raise ValueError("the operation was refused")
    return ffi.buffer(out)[: size[0]]


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
