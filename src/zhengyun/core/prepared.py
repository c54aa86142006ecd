"""Statements that run on every call of a busy path (R-D3): prepared once per connection on
PostgreSQL, run straight through the driver on SQLite.

Django's PostgreSQL cursors bind parameters on the client: a statement reaches the server
as text with its values in it and is planned again each time. For the gateway's lookup of a
call's token, grant and data — six tables — planning took ten times the execution (1.0 ms
against 0.1 ms by EXPLAIN ANALYZE). Here the statement is prepared on the connection the
first time it runs there and its plan reused (after a rolled-back transaction psycopg
drops the connection's prepared statements, and the next run prepares it again). Behind
PgBouncer in transaction mode that needs PgBouncer 1.22 or later with
``max_prepared_statements`` set. On SQLite, whose statements the driver caches already,
Django's cursor would rewrite the placeholders with a regular expression and pass through
its layers of wrappers on each run; here the statement's ``?`` form is made once.
"""

import functools

import psycopg
from django.db import connection

# Django turns psycopg's statement bookkeeping off (no threshold), which also refuses an
# explicit ``prepare=True``. It is turned on for these statements only: with it on for all,
# each of Django's queries — its values inlined, a bulk insert's megabytes too — would be
# kept as a candidate for preparing.
_ONLY_WHEN_ASKED = 2**31 - 1


def fetch(sql, params):
    """The rows of ``sql`` (``%s`` placeholders, no literal ``%``) with ``params``."""
    connection.ensure_connection()
    raw = connection.connection
    if connection.vendor == "sqlite":
        with connection.wrap_database_errors:
            return raw.execute(_qmark(sql), params).fetchall()
    threshold, raw.prepare_threshold = raw.prepare_threshold, _ONLY_WHEN_ASKED
    try:
        with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchall()
    finally:
        raw.prepare_threshold = threshold


@functools.cache
def _qmark(sql):
    return sql.replace("%s", "?")
