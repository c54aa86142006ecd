"""The platform's SM2 key for signing audit checkpoints.

Read from ``ZHENGYUN_AUDIT_SIGNING_KEY_FILE`` (PEM, PKCS#8) or, when unset, from
``<data dir>/audit_signing_key.pem``, generated once with owner-only permissions. The public
half is what auditors need: ``zhengyun audit public-key`` prints it for OpenSSL.
"""

import contextlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from zhengyun.crypto import gm


def key_path():
    configured = os.environ.get("ZHENGYUN_AUDIT_SIGNING_KEY_FILE")
    return Path(configured) if configured else settings.DATA_DIR / "audit_signing_key.pem"


@lru_cache(maxsize=1)
def signing_key():
    """The private key, created on first use when it lives in the data directory."""
    path = key_path()
    if not path.exists():
        # Publish a complete key atomically even if two processes start at once.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".audit_key.")
        with os.fdopen(fd, "wb") as f:
            f.write(gm.private_key_to_pem(gm.sm2_generate_key()))
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
        os.unlink(temporary)
    return gm.load_private_key(path.read_bytes())


def public_key_pem():
    return gm.public_key_to_pem(signing_key().public_key())


def fingerprint(public_key):
    """A short name for a public key: the first 16 hex digits of SM3 over its PEM."""
    return gm.sm3(gm.public_key_to_pem(public_key)).hex()[:16]


def checkpoint_message(seq, hash_hex):
    """What a checkpoint signs."""
    return f"zhengyun-audit-checkpoint:{seq}:{hash_hex}".encode()
