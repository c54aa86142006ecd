"""Sealing audit events into the SM3 hash chain, many at a time (R-X4; GB/T 22239 安全审计).

A service's transaction only inserts its event, unsealed: no sequence number or hash yet.
So writers never queue behind one another's commits on the chain's end, which would hold
the whole platform to one commit at a time. The sealer takes the unsealed events in the
order they were inserted, chains each after the head and moves the head, a batch in one
transaction — as a transparency log's sequencer integrates queued entries.

Every worker process runs a sealer (several queue on the head's row lock and take turns),
and everything that reads the chain seals first: signing a checkpoint, verifying,
exporting, purging. The database's triggers refuse every change to an event except this
one — giving an unsealed event its place in the chain — and nothing is lost in a crash:
an event is committed with the act it records, and a sealing batch commits whole or not
at all.
"""

import logging
import threading

from django.db import connection, transaction

from zhengyun.audit import rows
from zhengyun.audit.chain import GENESIS_HASH, event_hash
from zhengyun.audit.models import AuditChainHead, AuditEvent

BATCH = 2000
POLL_SECONDS = 0.2

logger = logging.getLogger(__name__)


def seal_pending(limit=BATCH):
    """Chain up to ``limit`` unsealed events after the head, oldest first; how many."""
    quote = connection.ops.quote_name
    events, head_table = quote(AuditEvent._meta.db_table), quote(AuditChainHead._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, hash FROM {head_table} WHERE id = 1{lock}")  # noqa: S608
        head = cursor.fetchone()
        if head is None:  # a database emptied by hand (or by a test) starts a new chain
            AuditChainHead.objects.create(pk=1, seq=0, hash=GENESIS_HASH)
            head = (0, GENESIS_HASH)
        cursor.execute(rows.select_sql(connection, "WHERE hash = '' ORDER BY id LIMIT %s"), [limit])
        pending = [rows.as_row(values) for values in cursor.fetchall()]
        if not pending:
            return 0
        seq, previous, sealed = head[0], head[1], []
        for row in pending:
            seq += 1
            row["seq"], row["prev_hash"] = seq, previous
            previous = event_hash(row)
            sealed.append((seq, row["prev_hash"], previous, row["id"]))
        # One statement for the batch: a round trip per event would cost the sealer more
        # than hashing does.
        values = ", ".join(["(%s, %s, %s, %s)"] * len(sealed))
        cursor.execute(
            f"WITH sealed(seq, prev_hash, hash, id) AS (VALUES {values}) "  # noqa: S608
            f"UPDATE {events} SET seq = sealed.seq, prev_hash = sealed.prev_hash, "
            f"hash = sealed.hash FROM sealed WHERE {events}.id = sealed.id",
            [value for event in sealed for value in event],
        )
        cursor.execute(
            f"UPDATE {head_table} SET seq = %s, hash = %s WHERE id = 1",  # noqa: S608
            [seq, previous],
        )
    return len(pending)


def seal_all():
    """Seal until nothing is left unsealed; how many were sealed."""
    total = 0
    while sealed := seal_pending():
        total += sealed
        if sealed < BATCH:
            break
    return total


class Sealer(threading.Thread):
    """Seals in the background of a worker process until ``stop()``."""

    def __init__(self, poll_seconds=POLL_SECONDS):
        super().__init__(name="audit-sealer", daemon=True)
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()

    def run(self):
        try:
            while not self.stopping.is_set():
                try:
                    seal_all()
                except Exception:  # a lost connection or a restart: try again shortly
                    logger.exception("sealing audit events failed; retrying")
                    connection.close()
                self.stopping.wait(self.poll_seconds)
        finally:
            connection.close()

    def stop(self):
        self.stopping.set()
        self.join()
