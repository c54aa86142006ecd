"""Database triggers that refuse UPDATE and DELETE on the audit trail and its checkpoints
(and TRUNCATE on PostgreSQL), so not even the platform's own database account can rewrite
them quietly.

Used by the migrations that install them and by the tests, which must lift them to empty a
test database between transactional tests.
"""

from django.core.exceptions import ImproperlyConfigured

TABLES = ("audit_auditevent", "audit_auditcheckpoint")


def _sqlite(table, install):
    if not install:
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
        ]
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb.upper()} ON {table}
            BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END"""
        for verb in ("update", "delete")
    ]


def _postgres(table, install):
    if not install:
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        ]
    return [
        """CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'audit records are append-only'; END $$ LANGUAGE plpgsql""",
        f"""CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION audit_append_only()""",
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
