"""The database a benchmark runs in: a fresh data directory, and on PostgreSQL (when
``DATABASE_URL`` names one) a database created afresh and dropped at the end, whose name
must contain "bench" so that no other database is ever dropped.

Migrating an empty SQLite database takes most of half a minute; ``ZHENGYUN_BENCH_MIGRATED_DB``
names a migrated one to start from instead (the suite's tiny runs of the benchmarks share
one), and ``migrate`` then only checks it is current."""

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def postgres_admin(url):
    """A connection to the server of ``url`` for creating and dropping its database, and
    that database's name."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit("the PostgreSQL database name must contain 'bench'")
    admin = psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        dbname="postgres",
        autocommit=True,
    )
    return admin, name


def start_from_migrated():
    """Copy the migrated SQLite database the environment names, if any, into the data
    directory (before Django opens it)."""
    migrated = os.environ.get("ZHENGYUN_BENCH_MIGRATED_DB")
    if migrated and not os.environ.get("DATABASE_URL"):
        from zhengyun.testing.processes import copy_database

        copy_database(migrated, Path(os.environ["ZHENGYUN_DATA_DIR"]) / "zhengyun.sqlite3")


@contextlib.contextmanager
def scratch_database(prefix):
    """Django set up on a fresh, migrated database for the ``with`` block."""
    os.environ["ZHENGYUN_DATA_DIR"] = tempfile.mkdtemp(prefix=f"zhengyun-bench-{prefix}-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhengyun.settings")
    os.environ.setdefault("ZHENGYUN_LOG_LEVEL", "WARNING")
    url = os.environ.get("DATABASE_URL", "")
    admin = None
    if url.startswith("postgres"):
        admin, name = postgres_admin(url)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    start_from_migrated()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        call_command("migrate", verbosity=0)
        yield connection
    finally:
        connection.close()
        if admin is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
