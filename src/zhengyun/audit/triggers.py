"""Database triggers that refuse UPDATE and DELETE on the audit trail, its checkpoints and
its purge records (and TRUNCATE on PostgreSQL), so not even the platform's own database
account can rewrite them quietly. The one update allowed is sealing: giving an unsealed
event its sequence number and hashes, and nothing else (``sealer``). The one deletion
allowed is of events at or below a recorded retention purge (``services.purge_trail``).

Used by the migrations that install them and by the tests, which must lift them to empty a
test database between transactional tests.
"""

from django.core.exceptions import ImproperlyConfigured

from zhengyun.audit.chain import CHAINED_FIELDS

EVENTS = "audit_auditevent"
PURGES = "audit_auditpurge"
TABLES = (EVENTS, "audit_auditcheckpoint", PURGES)
PURGED_THROUGH = f"(SELECT COALESCE(MAX(through_seq), 0) FROM {PURGES})"  # noqa: S608
SEAL_COLUMNS = ("seq", "prev_hash", "hash")
# What sealing must leave as it is: every other column of an event.
SEALED_AS_IS = ("id", *(name for name in CHAINED_FIELDS if name not in SEAL_COLUMNS))
SEALING = "OLD.hash = '' AND NEW.hash <> '' AND NEW.seq IS NOT NULL"


def _sqlite(table, install):
    if not install:
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
        ]
    purgeable = f"WHEN OLD.seq IS NULL OR OLD.seq > {PURGED_THROUGH}" if table == EVENTS else ""
    unchanged = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in SEALED_AS_IS)
    not_sealing = f"WHEN NOT ({SEALING} AND {unchanged})" if table == EVENTS else ""
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} {not_sealing}
            BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} {purgeable}
            BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END""",
    ]


def _postgres(table, install):
    if not install:
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        ]
    function = "audit_events_guard" if table == EVENTS else "audit_append_only"
    without_seal = "".join(f" - '{column}'" for column in SEAL_COLUMNS)
    return [
        """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'audit records are append-only'; END $$ LANGUAGE plpgsql""",
        f"""CREATE OR REPLACE FUNCTION audit_events_guard() RETURNS trigger AS $$
           BEGIN
             IF TG_OP = 'DELETE' AND OLD.seq <= {PURGED_THROUGH} THEN RETURN OLD; END IF;
             IF TG_OP = 'UPDATE' AND {SEALING}
                AND to_jsonb(NEW){without_seal} = to_jsonb(OLD){without_seal} THEN
               RETURN NEW;
             END IF;
             RAISE EXCEPTION 'audit records are append-only';
           END $$ LANGUAGE plpgsql""",
        f"""CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {function}()""",
        f"""CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()""",
    ]


def _statements(connection, install):
    builders = {"sqlite": _sqlite, "postgresql": _postgres}
    if connection.vendor not in builders:
        raise ImproperlyConfigured(
            f"Zhengyun runs on SQLite or PostgreSQL, not {connection.vendor}"
        )
    existing = set(connection.introspection.table_names())
    return [
        sql
        for table in TABLES
        if table in existing
        for sql in builders[connection.vendor](table, install)
    ]


def install(connection):
    """Create the triggers on every audit table that exists (idempotent)."""
    with connection.cursor() as cursor:
        for statement in _statements(connection, install=True):
            cursor.execute(statement)


def remove(connection):
    """Drop the triggers (for migrating backwards and for emptying test databases)."""
    with connection.cursor() as cursor:
        for statement in _statements(connection, install=False):
            cursor.execute(statement)
