"""Reading a table of a provider's own database over the protocol it speaks (R-D3, R-A4):
PostgreSQL's (PostgreSQL, KingbaseES, openGauss, HighGo) or MySQL's (MySQL, MariaDB,
OceanBase, TiDB) — between them what most departments' systems keep their records in.

Either way the table is read in a stable order and streamed up to the file limits, over a
connection to the address already checked (``core.outbound``) that is read-only on the
database's side too, ends each statement after ``STATEMENT_SECONDS``, is encrypted as
``ZHENGYUN_DEPARTMENT_DB_SSLMODE`` says and uses no credentials but the account's own.
Each way of failing is a ``SourceFailed`` naming the registration's field at fault.
"""

import datetime
import logging
import os
import socket
import ssl
import uuid
import zoneinfo
from decimal import Decimal

import psycopg
import pymysql
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import sql

from zhengyun.data_resources import datasets

log = logging.getLogger(__name__)

CONNECT_SECONDS = 10
STATEMENT_SECONDS = 60
FETCH_ROWS = 2000
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
VALUES = (str, int, float, bool, Decimal, datetime.date, datetime.time, uuid.UUID)
# MySQL's error numbers for what a registration names wrong.
MYSQL_NO_TABLE = 1146
MYSQL_NO_COLUMN = 1054
MYSQL_TABLE_DENIED = 1142
MYSQL_COLUMN_DENIED = 1143
# A session setting the server does not know, or takes no value of.
MYSQL_UNSUPPORTED = (1193, 1235)


class SourceFailed(Exception):
    """The table could not be read, or held what its items do not take; ``field`` is the
    registration's field the problem is with."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def read(source, address, columns):
    """The ``columns`` of ``source``'s table (a ``ResourceDatabase``) as rows of a file's
    cells, the database reached at ``address``."""
    reader = _read_mysql if source.protocol == "mysql" else _read_postgresql
    return reader(source, address, columns)


def _cannot_connect():
    # One message for every way connecting fails: the platform is no probe of the
    # extranet's ports and passwords.
    return SourceFailed(
        "host",
        _("Could not connect and sign in: check the address, the account and its password."),
    )


def _no_table(source):
    return SourceFailed(
        "table",
        _("The database has no table %(table)s the account may see.") % {"table": source.table},
    )


def _no_column(message):
    return SourceFailed(
        "columns", _("The table lacks a column: %(message)s") % {"message": message[:200]}
    )


def _not_allowed():
    return SourceFailed("user", _("The account may not read the table."))


def _unreadable(code):
    return SourceFailed(
        "table", _("The database could not read the table (error %(code)s).") % {"code": code}
    )


# PostgreSQL's protocol


def _read_postgresql(source, address, columns):
    try:
        connection = psycopg.connect(**_postgresql_parameters(source, address))
    except psycopg.Error:
        raise _cannot_connect() from None
    with connection:
        try:
            return _postgresql_rows(connection, source.table, columns)
        except psycopg.errors.UndefinedTable:
            raise _no_table(source) from None
        except psycopg.errors.UndefinedColumn as exc:
            raise _no_column((exc.diag.message_primary or "").strip()) from None
        except psycopg.errors.InsufficientPrivilege:
            raise _not_allowed() from None
        except psycopg.Error as exc:
            raise _unreadable(exc.sqlstate or "?") from None


def _postgresql_parameters(source, address):
    return {
        "host": source.host,
        "hostaddr": address,  # the address checked, not whatever the name says later
        "port": source.port,
        "dbname": source.database,
        "user": source.user,
        "password": source.password,
        # The account's own password only: never the worker's password file, Kerberos
        # tickets or client certificates.
        "passfile": os.devnull,
        "gssencmode": "disable",
        "sslmode": settings.ZHENGYUN_DEPARTMENT_DB_SSLMODE,
        "connect_timeout": CONNECT_SECONDS,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "application_name": "zhengyun-copy",
        # Read-only and bounded on the database's side, whatever the account may do; times
        # in the platform's zone, as a file's would be.
        "options": "-c default_transaction_read_only=on "
        f"-c statement_timeout={STATEMENT_SECONDS * 1000} -c TimeZone={settings.TIME_ZONE}",
    }


def _postgresql_rows(connection, table, columns):
    schema, _dot, name = table.rpartition(".")
    statement = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
        sql.SQL(", ").join(sql.Identifier(column) for column in columns),
        sql.Identifier(schema, name) if schema else sql.Identifier(name),
        sql.SQL(", ").join(sql.SQL(str(position)) for position in range(1, len(columns) + 1)),
    )
    with connection.cursor(name="zhengyun_copy") as cursor:  # streamed, not read whole
        cursor.itersize = FETCH_ROWS
        cursor.execute(statement)
        return _collect(cursor, columns)


# MySQL's protocol


def _read_mysql(source, address, columns):
    try:
        connection = _mysql_connect(source, address)
    except Exception:  # noqa: BLE001 - the driver raises more than its own errors
        # (an auth plugin it lacks, a server answering out of protocol): still no probe.
        log.info("connecting to a MySQL-protocol database failed", exc_info=True)
        raise _cannot_connect() from None
    try:
        _mysql_session(connection)
        return _mysql_rows(connection, source.table, columns)
    except SourceFailed:
        raise
    except pymysql.Error as exc:
        code = exc.args[0] if exc.args else "?"
        # MySQL tells an account no more of a table it may not read than of one missing.
        if code in (MYSQL_NO_TABLE, MYSQL_TABLE_DENIED):
            raise _no_table(source) from None
        if code == MYSQL_NO_COLUMN:
            raise _no_column(str(exc.args[1]) if len(exc.args) > 1 else "") from None
        if code == MYSQL_COLUMN_DENIED:
            raise _not_allowed() from None
        raise _unreadable(code) from None
    except Exception:  # noqa: BLE001 - as above: a refusal, never a crash of the caller
        log.info("reading a MySQL-protocol table failed", exc_info=True)
        raise _unreadable("?") from None
    finally:
        if connection.open:
            connection.close()


def _mysql_connect(source, address):
    connection = pymysql.connect(
        host=source.host,  # the name a certificate is checked against
        port=source.port,
        user=source.user,
        # Sent as UTF-8, as servers store it (the driver would take Latin-1).
        password=source.password.encode(),
        database=source.database,
        charset="utf8mb4",
        connect_timeout=CONNECT_SECONDS,
        read_timeout=STATEMENT_SECONDS,  # the bound on any server, whatever it supports
        write_timeout=STATEMENT_SECONDS,
        autocommit=True,
        defer_connect=True,
        # No option files, never a local file sent at the server's asking, and never
        # the password in clear.
        local_infile=False,
        auth_plugin_map=dict.fromkeys(("mysql_clear_password", "dialog"), _ClearPassword),
        **_mysql_tls(settings.ZHENGYUN_DEPARTMENT_DB_SSLMODE),
    )
    sock = socket.create_connection((address, source.port), CONNECT_SECONDS)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    connection.connect(sock)  # the address checked, not whatever the name says later
    return connection


class _ClearPassword:
    """What answers a server asking for the account's password in clear: a refusal."""

    def __init__(self, connection):
        self.connection = connection

    def authenticate(self, packet):
        raise pymysql.err.OperationalError(2059, "the password is never sent in clear")


def _mysql_tls(mode):
    """The driver's TLS arguments for ``ZHENGYUN_DEPARTMENT_DB_SSLMODE``, read as libpq
    reads its sslmode: none; TLS when the server offers it (the driver's default); TLS
    required, unverified; TLS with the server's certificate checked against the system's
    authorities, and for "verify-full" its name too. Only the last two keep an impostor
    from learning the password: the unverified modes are for a network already trusted."""
    if mode == "disable":
        return {"ssl_disabled": True}
    if mode == "prefer":
        return {}
    context = ssl.create_default_context()
    context.check_hostname = mode == "verify-full"
    if mode == "require":
        context.verify_mode = ssl.CERT_NONE
    return {"ssl": context}


def _mysql_session(connection):
    offset = timezone.now().astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).strftime("%z")
    with connection.cursor() as cursor:
        # Times in the platform's zone, as a file's would be.
        cursor.execute("SET time_zone = %s", [f"{offset[:3]}:{offset[3:]}"])
        # Read-only whatever the account may do, and statements bounded on the server too,
        # where the server knows how (TiDB takes no read-only sessions, MySQL before 5.7.8
        # no statement time): the account's own rights and the socket's timeout still hold.
        if "mariadb" in connection.get_server_info().lower():
            limit = f"SET SESSION max_statement_time = {STATEMENT_SECONDS}"
        else:
            limit = f"SET SESSION max_execution_time = {STATEMENT_SECONDS * 1000}"
        for statement in ("SET SESSION TRANSACTION READ ONLY", limit):
            try:
                cursor.execute(statement)
            except pymysql.err.MySQLError as exc:
                if not exc.args or exc.args[0] not in MYSQL_UNSUPPORTED:
                    raise


def _mysql_rows(connection, table, columns):
    listed = ", ".join(_mysql_name(column) for column in columns)
    name = ".".join(_mysql_name(part) for part in table.split("."))
    order = ", ".join(str(position) for position in range(1, len(columns) + 1))
    cursor = connection.cursor(pymysql.cursors.SSCursor)  # streamed, not read whole
    try:
        cursor.execute(f"SELECT {listed} FROM {name} ORDER BY {order}")  # noqa: S608 - quoted
        return _collect(_batches(cursor), columns)
    finally:
        # Let go of, not closed: closing would read the rest of the table first, where
        # hanging up the connection stops the server sending it.
        cursor.connection = None


def _batches(cursor):
    while batch := cursor.fetchmany(FETCH_ROWS):
        yield from batch


def _mysql_name(name):
    return "`" + name.replace("`", "``") + "`"


# Either protocol's rows


def _collect(rows, columns):
    """The ``rows`` as lists of cells, within the file limits."""
    collected, size = [], 0
    for row in rows:
        if len(collected) == datasets.MAX_ROWS:
            raise SourceFailed(
                "table", _("The table has more than %(n)d rows.") % {"n": datasets.MAX_ROWS}
            )
        cells = [
            _cell(value, len(collected) + 1, column)
            for value, column in zip(row, columns, strict=True)
        ]
        size += sum(len(cell) if isinstance(cell, str) else 8 for cell in cells)
        if size > datasets.MAX_BYTES:
            raise SourceFailed(
                "table",
                _("The table holds more than %(mb)d MB.")
                % {"mb": datasets.MAX_BYTES // (1024 * 1024)},
            )
        collected.append(cells)
    return collected


def _cell(value, number, column):
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):  # MySQL's TIME: a time of day, or a duration
        value = _time_of_day(value, number, column)
    if not isinstance(value, VALUES):
        raise SourceFailed(
            "columns",
            _("Row %(row)d, column %(column)s: not a single value.")
            % {"row": number, "column": column},
        )
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.make_naive(value)
    if isinstance(value, uuid.UUID | datetime.time):
        return str(value)
    return value


def _time_of_day(value, number, column):
    if not datetime.timedelta(0) <= value < datetime.timedelta(days=1):
        raise SourceFailed(
            "columns",
            _("Row %(row)d, column %(column)s: not a time of day.")
            % {"row": number, "column": column},
        )
    return (datetime.datetime.min + value).time()
