"""The SM3 hash chain over the audit trail (R-X4 accountability, GB/T 22239 安全审计).

Each event's hash is the SM3 digest of its canonical form, which includes its sequence
number and the previous event's hash. Changing, deleting, inserting or reordering any event
breaks the chain from that point on, and ``verify`` names where.
"""

import datetime
import json
import operator
from dataclasses import dataclass

from zhengyun.crypto.gm import sm3

GENESIS_HASH = "0" * 64

# Every stored field that means something; ``id`` is the database's, not the event's.
CHAINED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "actor_department_id",
    "actor_region_code",
    "source_ip",
    "user_agent",
    "channel",
    "request_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "result",
    "detail",
    "prev_hash",
)

# Everything the hash covers, and the hash: anyone can re-verify an export on their own.
EXPORT_FIELDS = (*CHAINED_FIELDS, "hash")

_chained_values = operator.itemgetter(*CHAINED_FIELDS)
# One encoder for every event: building one per call costs as much as a third of the hash.
_encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_form(values):
    """The bytes that are hashed: the chained fields as compact JSON with sorted keys (the
    time in UTC to the microsecond, whatever zone the database hands it back in; a string
    is taken as already written that way)."""
    document = dict(zip(CHAINED_FIELDS, _chained_values(values), strict=True))
    moment = document["occurred_at"]
    if not isinstance(moment, str):  # PostgreSQL can hand the time over already written so
        document["occurred_at"] = moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return _encoder.encode(document).encode()


def event_hash(values):
    """The hex SM3 hash of an event given as a mapping of its chained fields."""
    return sm3(canonical_form(values)).hex()


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold."""

    seq: int
    event_id: int | None
    kind: str  # changed, deleted, inserted, reordered

    def __str__(self):
        where = f"sequence {self.seq}" + (f" (event id {self.event_id})" if self.event_id else "")
        return {
            "changed": f"event at {where} was changed",
            "deleted": f"events were deleted before {where}",
            "inserted": f"event at {where} was inserted or reordered",
            "truncated": f"events after sequence {self.seq} were deleted",
            "checkpoint": f"event at {where} differs from its signed checkpoint "
            "(the chain was rewritten from there on)",
            "purge": f"events up to sequence {self.seq} were removed without a signed "
            "checkpoint to prove them, or before the retention period",
        }[self.kind]


@dataclass(frozen=True)
class Verification:
    """What ``verify`` found: how many events it walked and the first break, if any."""

    checked: int
    last_seq: int
    last_hash: str
    first_break: Break | None
    bad_signature: int | None = None  # sequence of the first checkpoint that fails to verify

    @property
    def intact(self):
        return self.first_break is None and self.bad_signature is None


def verify(rows, head_seq=None, checkpoints=None, start_seq=1, start_hash=GENESIS_HASH):
    """Walk ``rows`` (mappings of the chained fields plus ``id``, in sequence order) and
    return the first break. ``head_seq`` is the sequence the chain head records, which
    catches deletions at the end of the trail; ``checkpoints`` maps signed sequence numbers
    to their hashes, which catches a chain recomputed after a change. ``start_seq`` and
    ``start_hash`` let a stretch of the chain be walked on its own."""
    checkpoints = checkpoints or {}
    expected_seq, previous_hash, checked = start_seq, start_hash, 0
    for row in rows:
        checked += 1
        seq = row["seq"]
        if seq > expected_seq:
            return Verification(
                checked, expected_seq - 1, previous_hash, Break(seq, row["id"], "deleted")
            )
        if seq < expected_seq or row["prev_hash"] != previous_hash:
            kind = "inserted" if event_hash(row) == row["hash"] else "changed"
            return Verification(
                checked, expected_seq - 1, previous_hash, Break(seq, row["id"], kind)
            )
        if event_hash(row) != row["hash"]:
            return Verification(
                checked, expected_seq - 1, previous_hash, Break(seq, row["id"], "changed")
            )
        if seq in checkpoints and checkpoints[seq] != row["hash"]:
            return Verification(
                checked, expected_seq - 1, previous_hash, Break(seq, row["id"], "checkpoint")
            )
        expected_seq, previous_hash = seq + 1, row["hash"]
    last_seq = expected_seq - 1
    signed_beyond = max(checkpoints, default=0)
    if head_seq is not None:
        signed_beyond = max(signed_beyond, head_seq)
    if signed_beyond > last_seq:
        return Verification(checked, last_seq, previous_hash, Break(last_seq, None, "truncated"))
    return Verification(checked, last_seq, previous_hash, None)
