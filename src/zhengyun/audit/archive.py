"""Archives of the stretches of the audit trail that a purge removes (R-X4; GB/T 22239
level 3 8.1.4.3 c 对审计记录进行保护，定期备份).

Before any purge the stretch is written to one file in ``ZHENGYUN_AUDIT_ARCHIVE_DIR``: a
header line with the signed checkpoint that closes it and the public key that signed it,
then one JSON line per event with every chained field and its hash. Anyone can re-verify
the file without the platform (``zhengyun audit verify-archive FILE``, or a few lines of
their own with any SM3 and SM2 implementation): the events chain from the stretch's
previous hash to the checkpoint's hash, and the checkpoint's SM2 signature holds. The
purge record keeps the file's name and SM3 digest, so a file swapped later is caught too.
"""

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from django.conf import settings

from zhengyun.audit import keys
from zhengyun.audit.chain import EXPORT_FIELDS, event_hash
from zhengyun.audit.export import plain
from zhengyun.audit.models import AuditEvent
from zhengyun.crypto import gm

FORMAT = "zhengyun-audit-archive/1"


def directory():
    return Path(settings.ZHENGYUN_AUDIT_ARCHIVE_DIR)


def file_name(first_seq, through_seq):
    return f"audit-{first_seq:012d}-{through_seq:012d}.jsonl"


def write(first_seq, prev_hash, checkpoint):
    """Write events ``first_seq`` … ``checkpoint.seq`` to a new archive file and return its
    (name, hex SM3 digest). The file appears whole or not at all (written aside, flushed
    to disk, then renamed), so a crash never leaves half an archive under the final name."""
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    name = file_name(first_seq, checkpoint.seq)
    header = {
        "format": FORMAT,
        "from_seq": first_seq,
        "through_seq": checkpoint.seq,
        "prev_hash": prev_hash,
        "checkpoint": {
            "seq": checkpoint.seq,
            "hash": checkpoint.hash,
            "signed_at": plain(checkpoint.signed_at),
            "signature": checkpoint.signature,
            "key_fingerprint": checkpoint.key_fingerprint,
        },
        "public_key": keys.public_key_pem().decode(),
    }
    events = (
        AuditEvent.objects.filter(seq__gte=first_seq, seq__lte=checkpoint.seq)
        .order_by("seq")
        .values_list(*EXPORT_FIELDS)
        .iterator(chunk_size=2000)
    )
    digest = hashes.Hash(hashes.SM3())
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            for document in _documents(header, events):
                line = json.dumps(document, ensure_ascii=False).encode() + b"\n"
                digest.update(line)
                out.write(line)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, folder / name)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(folder)
    return name, digest.finalize().hex()


def _documents(header, events):
    yield header
    for row in events:
        yield {field: plain(value) for field, value in zip(EXPORT_FIELDS, row, strict=True)}


def _sync_directory(folder):
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class ArchiveCheck:
    """What re-verifying an archive found. ``first_break`` is the sequence number of the
    first event that does not chain (or None); ``signed`` says whether the checkpoint's
    signature holds under the key used; ``digest`` is the file's SM3 in hex."""

    events: int
    first_break: int | None
    signed: bool
    digest: str

    @property
    def intact(self):
        return self.first_break is None and self.signed


def verify(path, public_key=None):
    """Re-verify an archive file on its own, with ``public_key`` (the platform's, obtained
    apart from the file) or else the key the file names."""
    digest = hashes.Hash(hashes.SM3())
    with open(path, "rb") as lines:
        first = next(lines, b"")
        digest.update(first)
        header = json.loads(first or b"{}")
        if header.get("format") != FORMAT:
            raise ValueError(f"{path} is not an audit archive ({FORMAT})")
        checkpoint = header["checkpoint"]
        expected_seq, prev_hash, count, first_break = (
            header["from_seq"],
            header["prev_hash"],
            0,
            None,
        )
        for line in lines:
            digest.update(line)
            event = json.loads(line)
            count += 1
            if first_break is None and (
                event["seq"] != expected_seq
                or event["prev_hash"] != prev_hash
                or event_hash(event) != event["hash"]
            ):
                first_break = expected_seq
            expected_seq, prev_hash = event["seq"] + 1, event["hash"]
    if first_break is None and (expected_seq - 1, prev_hash) != (
        checkpoint["seq"],
        checkpoint["hash"],
    ):
        first_break = expected_seq  # events missing at the end
    key = public_key or gm.load_public_key(header["public_key"].encode())
    signed = keys.fingerprint(key) == checkpoint["key_fingerprint"] and gm.sm2_verify(
        key,
        bytes.fromhex(checkpoint["signature"]),
        keys.checkpoint_message(checkpoint["seq"], checkpoint["hash"]),
    )
    return ArchiveCheck(
        events=count, first_break=first_break, signed=signed, digest=digest.finalize().hex()
    )
