"""Envelope encryption of personal data at rest with SM4-GCM (GB/T 39786 密评; GB/T 22239
level 3 数据保密性; R-X2, R-X3).

Each value is encrypted under a data key; data keys are stored only wrapped (encrypted) by
the master key, which never enters the database. The master key comes from a key provider:
``LocalMasterKey`` reads ``ZHENGYUN_MASTER_KEY_FILE`` (or generates ``master.key`` in the
data directory once); an HSM or KMS is another class with the same two methods, named by
``ZHENGYUN_MASTER_KEY_PROVIDER``.

Rotating the master key re-wraps the data keys and leaves every value as it is, so it needs
no downtime: processes keep the data keys they already unwrapped, and the retired master
key stays readable (``ZHENGYUN_PREVIOUS_MASTER_KEY_FILES``) until ``zhengyun crypto rewrap``
has moved every data key to the new one.

A stored value reads ``zy1:<data key id>:<base64 of nonce, ciphertext and tag>``; the model
and field name are bound in as associated data, so a value copied into another column or
table does not decrypt.
"""

import base64
import binascii
import contextlib
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from zhengyun.crypto import gm

PREFIX = "zy1"


class KeyUnavailable(Exception):
    """A value or data key was wrapped by a master key this process does not have."""


class LocalMasterKey:
    """A 128-bit SM4 master key in a file readable by the platform's account only."""

    def __init__(self, path=None):
        configured = path or os.environ.get("ZHENGYUN_MASTER_KEY_FILE")
        self.path = Path(configured or _default_path())
        if not self.path.exists():
            if configured:  # a wrong path must not quietly start a new, empty key
                raise KeyUnavailable(f"master key file {self.path} does not exist")
            _write_once(self.path, gm.sm4_key().hex())
        self.key = bytes.fromhex(self.path.read_text().strip())
        self.key_id = gm.sm3(b"zhengyun-master-key:" + self.key).hex()[:16]

    def wrap(self, data_key):
        return gm.sm4_gcm_encrypt(self.key, data_key, self._context())

    def unwrap(self, wrapped):
        try:
            return gm.sm4_gcm_decrypt(self.key, wrapped, self._context())
        except gm.DecryptionError as exc:
            raise KeyUnavailable(f"data key not wrapped by master key {self.key_id}") from exc

    def _context(self):
        return f"zhengyun-data-key:{self.key_id}".encode()


def _default_path():
    return settings.DATA_DIR / "master.key"


def _write_once(path, text):
    """Publish a new key file atomically, owner-only, even if two processes race."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".master.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    with contextlib.suppress(FileExistsError):
        os.link(temporary, path)
    os.unlink(temporary)


@lru_cache(maxsize=1)
def master_keys():
    """The current master key provider and the retired ones still readable, by key id."""
    provider = import_string(
        os.environ.get("ZHENGYUN_MASTER_KEY_PROVIDER", "zhengyun.crypto.envelope.LocalMasterKey")
    )
    current = provider()
    previous = [
        LocalMasterKey(path)
        for path in os.environ.get("ZHENGYUN_PREVIOUS_MASTER_KEY_FILES", "").split(",")
        if path.strip()
    ]
    return current, {key.key_id: key for key in [current, *previous]}


_data_keys = {}  # data key id -> plaintext key, for this process
_lock = threading.Lock()


def _current_data_key():
    """The active data key (created on first use), as (id, key)."""
    from zhengyun.crypto.models import DataKey

    active = DataKey.objects.filter(active=True).order_by("-pk").first()
    if active is None:
        return create_data_key()
    return active.pk, _unwrapped(active)


def _unwrapped(data_key):
    with _lock:
        if data_key.pk not in _data_keys:
            _, readable = master_keys()
            master = readable.get(data_key.master_key_id)
            if master is None:
                raise KeyUnavailable(f"master key {data_key.master_key_id} is not configured")
            _data_keys[data_key.pk] = master.unwrap(bytes(data_key.wrapped))
        return _data_keys[data_key.pk]


def create_data_key(actor=None):
    """A fresh data key for new values from now on; earlier ones stay readable. Audited,
    whether asked for (by ``actor``) or made on first use (by the platform)."""
    # Imported here: the audit trail's own module encrypts fields through this one.
    from zhengyun.audit.services import record
    from zhengyun.crypto.models import DataKey

    current, _ = master_keys()
    key = gm.sm4_key()
    with transaction.atomic():
        DataKey.objects.filter(active=True).update(active=False)
        row = DataKey.objects.create(
            wrapped=current.wrap(key), master_key_id=current.key_id, active=True
        )
        record(
            actor=actor,
            action="crypto.new_data_key",
            detail=f"data_key={row.pk} master_key={current.key_id}",
        )
    with _lock:
        _data_keys[row.pk] = key
    return row.pk, key


def rewrap():
    """Wrap every data key with the current master key; returns how many moved."""
    from zhengyun.crypto.models import DataKey

    current, _ = master_keys()
    moved = 0
    for row in DataKey.objects.exclude(master_key_id=current.key_id):
        key = _unwrapped(row)
        DataKey.objects.filter(pk=row.pk).update(
            wrapped=current.wrap(key), master_key_id=current.key_id
        )
        moved += 1
    return moved


def encrypt(plaintext, context):
    """The stored form of ``plaintext`` (a str) for the column named by ``context``."""
    return encrypt_bytes(plaintext.encode(), context)


def decrypt(stored, context):
    """The plaintext of a stored value; raises ``gm.DecryptionError`` if it was altered or
    belongs to another column."""
    return decrypt_bytes(stored, context).decode()


def encrypt_bytes(plaintext, context):
    """As ``encrypt``, for bytes (a secret key: shorter stored than its hex would be)."""
    key_id, key = _current_data_key()
    sealed = gm.sm4_gcm_encrypt(key, plaintext, context.encode())
    return f"{PREFIX}:{key_id}:{base64.b64encode(sealed).decode()}"


def decrypt_bytes(stored, context):
    """As ``decrypt``, for what ``encrypt_bytes`` stored."""
    from zhengyun.crypto.models import DataKey

    try:
        prefix, key_id, body = stored.split(":", 2)
        sealed = base64.b64decode(body, validate=True)
        key_id = int(key_id)
    except (ValueError, binascii.Error) as exc:
        raise gm.DecryptionError("not an encrypted value") from exc
    if prefix != PREFIX:
        raise gm.DecryptionError("not an encrypted value")
    key = _data_keys.get(key_id)
    if key is None:
        row = DataKey.objects.filter(pk=key_id).first()
        if row is None:
            raise KeyUnavailable(f"data key {key_id} does not exist")
        key = _unwrapped(row)
    return gm.sm4_gcm_decrypt(key, sealed, context.encode())


def is_encrypted(value):
    return isinstance(value, str) and value.startswith(PREFIX + ":")


def forget_keys():
    """Drop unwrapped data keys and master keys held by this process (tests, rotation)."""
    with _lock:
        _data_keys.clear()
    master_keys.cache_clear()
