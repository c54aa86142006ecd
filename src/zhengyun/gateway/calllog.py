"""The gateway's call log as an SM3 hash chain with SM2-signed batches (R-D3).

A call is inserted unsealed by the request that made it, so calls never queue on the
chain's end. The sealer takes unsealed calls in insertion order, gives each the next
sequence number and the hash of its canonical form (which includes the previous hash), moves
the head and signs the batch's last hash with the platform's SM2 audit key — one
transaction per batch. ``verify`` recomputes the chain from the start and checks every
seal's signature: a changed, deleted, inserted or reordered call breaks it, and is named.
Every batch is signed, so calls past the last signature are a break too. What the database
alone cannot show is the last batches cut together with their signatures and the head: for
that, keep the latest seal somewhere else (the audit trail's checkpoints have the same
limit).
"""

import functools
import json
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from zhengyun.audit import keys
from zhengyun.crypto import gm
from zhengyun.gateway.models import CallLogHead, CallLogSeal, GatewayCall

GENESIS_HASH = "0" * 64
BATCH = 5000
READ_BATCH = 20000
# Every stored field of a call that means something, in the order they are hashed.
CHAINED_FIELDS = (
    "seq",
    "at_us",
    "request_id",
    "client_id",
    "application_id",
    "consumer_id",
    "provider_id",
    "grant_id",
    "resource_code",
    "operation",
    "items",
    "records",
    "status",
    "result",
    "prev_hash",
)
ITEMS = CHAINED_FIELDS.index("items")
SEPARATOR = "\x1f"  # ASCII unit separator: never in an identifier, escaped inside JSON


def canonical_form(values):
    """The bytes hashed for a call given as a tuple in ``CHAINED_FIELDS`` order (``items``
    as the database hands it back: JSON text, or already a list)."""
    parts = ["" if part is None else str(part) for part in values]
    items = values[ITEMS]
    parts[ITEMS] = _items_text(items if isinstance(items, str) else tuple(items))
    return SEPARATOR.join(parts).encode()


@functools.lru_cache(maxsize=4096)
def _items_text(items):
    """Items as compact JSON, however the database wrote them. Calls name the same few
    lists of items over and over: each is written once (a third of verifying's time)."""
    if isinstance(items, str):
        items = json.loads(items)
    return json.dumps(list(items), ensure_ascii=False, separators=(",", ":"))


def call_hash(values):
    return gm.sm3(canonical_form(values)).hex()


def seal_message(seq, hash_hex):
    """What a seal signs."""
    return f"zhengyun-gateway-calls:{seq}:{hash_hex}".encode()


def _columns():
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in GatewayCall._meta.concrete_fields}
    columns = [quote(fields[name].column) for name in CHAINED_FIELDS]
    if connection.vendor == "postgresql":  # the JSON as text: no list built per call
        columns[CHAINED_FIELDS.index("items")] += "::text"
    return ", ".join(columns)


def seal_pending(limit=BATCH):
    """Chain up to ``limit`` unsealed calls after the head and sign the batch; how many."""
    quote = connection.ops.quote_name
    table, head_table = quote(GatewayCall._meta.db_table), quote(CallLogHead._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, hash FROM {head_table} WHERE id = 1{lock}")  # noqa: S608
        head = cursor.fetchone()
        if head is None:
            CallLogHead.objects.create(pk=1, seq=0, hash=GENESIS_HASH)
            head = (0, GENESIS_HASH)
        cursor.execute(
            f"SELECT id, {_columns()} FROM {table} "  # noqa: S608
            "WHERE hash = '' ORDER BY id LIMIT %s",
            [limit],
        )
        pending = cursor.fetchall()
        if not pending:
            return 0
        seq, previous, sealed = head[0], head[1], []
        for row in pending:
            seq += 1
            values = (seq, *row[2:-1], previous)
            current = call_hash(values)
            sealed.append((seq, previous, current, row[0]))
            previous = current
        rows = ", ".join(["(%s, %s, %s, %s)"] * len(sealed))
        cursor.execute(
            f"WITH sealed(seq, prev_hash, hash, id) AS (VALUES {rows}) "  # noqa: S608
            f"UPDATE {table} SET seq = sealed.seq, prev_hash = sealed.prev_hash, "
            f"hash = sealed.hash FROM sealed WHERE {table}.id = sealed.id",
            [value for entry in sealed for value in entry],
        )
        CallLogHead.objects.filter(pk=1).update(seq=seq, hash=previous)
        key = keys.signing_key()
        CallLogSeal.objects.create(
            seq=seq,
            hash=previous,
            signed_at=timezone.now(),
            signature=gm.sm2_sign(key, seal_message(seq, previous)).hex(),
            key_fingerprint=keys.fingerprint(key.public_key()),
        )
        return len(sealed)


def seal_all():
    """Seal every call waiting; how many."""
    total = 0
    while sealed := seal_pending():
        total += sealed
    return total


@dataclass
class Verification:
    """What ``verify`` found: how many calls and seals held, and the first break."""

    calls: int = 0
    seals: int = 0
    problems: list = field(default_factory=list)

    @property
    def intact(self):
        return not self.problems


def verify(public_key=None):
    """Recompute the chain from the first call and check every seal against it."""
    seal_all()
    public_key = public_key or keys.signing_key().public_key()
    seals = {s.seq: s for s in CallLogSeal.objects.order_by("seq")}
    result = Verification()
    table = connection.ops.quote_name(GatewayCall._meta.db_table)
    expected_seq, previous = 1, GENESIS_HASH
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, hash, {_columns()} FROM {table} "  # noqa: S608
            "WHERE seq IS NOT NULL ORDER BY seq"
        )
        while rows := cursor.fetchmany(READ_BATCH):
            for row in rows:
                call_id, stored, seq = row[0], row[1], row[2]
                if seq != expected_seq:
                    kind = "deleted" if seq > expected_seq else "inserted"
                    result.problems.append(f"call {call_id}: sequence {seq} {kind} before it")
                    return result
                if row[-1] != previous or call_hash(row[2:]) != stored:
                    result.problems.append(f"call {call_id} at sequence {seq} was changed")
                    return result
                seal = seals.get(seq)
                if seal is not None:
                    if seal.hash != stored or not gm.sm2_verify(
                        public_key, bytes.fromhex(seal.signature), seal_message(seq, stored)
                    ):
                        result.problems.append(f"seal at sequence {seq} does not hold")
                        return result
                    result.seals += 1
                previous, expected_seq = stored, seq + 1
                result.calls += 1
    last = expected_seq - 1
    if seals and max(seals) > last:
        result.problems.append(f"calls after sequence {last} were deleted")
    elif last and max(seals, default=0) < last:
        # Every batch is signed as it is sealed: calls past the last signature were not
        # sealed by the platform, or their signatures were removed.
        result.problems.append(f"calls after sequence {max(seals, default=0)} are not signed")
    else:
        head = CallLogHead.objects.filter(pk=1).values_list("seq", "hash").first()
        if last and head != (last, previous):
            result.problems.append(f"the chain's head does not match sequence {last}")
    return result
