"""Archives of the stretches of the audit trail that a purge removes (R-X4; GB/T 22239
level 3 8.1.4.3 c 对审计记录进行保护，定期备份).

Before any purge the stretch is written to one file in ``ZHENGYUN_AUDIT_ARCHIVE_DIR``: a
header line with the signed checkpoint that closes it, then one JSON line per event with
every chained field and its hash. Anyone holding the platform's public key (``zhengyun audit
public-key``, obtained apart from the files) can re-verify the files without the platform
(``zhengyun audit verify-archive FILE…``, or a few lines of their own with any SM3 and SM2
implementation): each file's events chain from its previous hash to its checkpoint's hash,
the checkpoint's SM2 signature holds, and the files follow one another from the first
event on. The purge record keeps each file's name and SM3 digest, so a file swapped later
is caught too.
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
from zhengyun.audit.chain import EXPORT_FIELDS, GENESIS_HASH, event_hash
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
    }
    events = (
        AuditEvent.objects.filter(seq__gte=first_seq, seq__lte=checkpoint.seq)
        .order_by("seq")
        .values_list(*EXPORT_FIELDS)
        .iterator(chunk_size=2000)
    )
    hasher = hashes.Hash(hashes.SM3())
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            for document in _documents(header, events):
                line = json.dumps(document, ensure_ascii=False).encode() + b"\n"
                hasher.update(line)
                out.write(line)
            out.flush()
            os.fsync(out.fileno())
        digest = hasher.finalize().hex()
        try:  # a link, unlike a rename, never replaces a file already there
            os.link(temporary, folder / name)
        except FileExistsError:
            # Left by a purge that stopped before it committed, it holds the same events;
            # anything else there (another trail's archive) is kept, and we stop.
            if file_digest(folder / name) != digest:
                raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _sync_directory(folder)
    return name, digest


def file_digest(path):
    """The hex SM3 digest of a file."""
    digest = hashes.Hash(hashes.SM3())
    with open(path, "rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.finalize().hex()


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
    signature holds under the key used; ``digest`` is the file's SM3 in hex; the stretch
    runs from ``from_seq`` (after ``prev_hash``) to ``through_seq`` (ending at
    ``through_hash``), which is how consecutive files are seen to follow one another."""

    events: int
    first_break: int | None
    signed: bool
    digest: str
    from_seq: int
    prev_hash: str
    through_seq: int
    through_hash: str

    @property
    def intact(self):
        return self.first_break is None and self.signed


def verify(path, public_key):
    """Re-verify an archive file on its own with ``public_key``, the platform's, obtained
    apart from the file."""
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
    if header["from_seq"] == 1 and header["prev_hash"] != GENESIS_HASH:
        first_break = 1  # the trail's first event follows nothing
    signed = keys.fingerprint(public_key) == checkpoint["key_fingerprint"] and gm.sm2_verify(
        public_key,
        bytes.fromhex(checkpoint["signature"]),
        keys.checkpoint_message(checkpoint["seq"], checkpoint["hash"]),
    )
    return ArchiveCheck(
        events=count,
        first_break=first_break,
        signed=signed,
        digest=digest.finalize().hex(),
        from_seq=header["from_seq"],
        prev_hash=header["prev_hash"],
        through_seq=checkpoint["seq"],
        through_hash=checkpoint["hash"],
    )


def gaps(checks):
    """Where a series of archives does not follow on one from the next: the sequence
    numbers at which events are missing between the files given."""
    ordered = sorted(checks, key=lambda c: c.from_seq)
    return [
        earlier.through_seq + 1
        for earlier, later in zip(ordered, ordered[1:], strict=False)
        if (later.from_seq, later.prev_hash) != (earlier.through_seq + 1, earlier.through_hash)
    ]
