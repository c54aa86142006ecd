"""Copying a published resource's data from a table of its provider's own database (R-D3,
R-A4): PostgreSQL, or a database speaking its protocol (KingbaseES, openGauss, HighGo), as
most departments' systems keep their records in.

The provider names the database, an account that may only read, the table (or view), and
which column holds each shared item — by default the column named after the item.
Registering copies the table at once, so a source that cannot be read is refused with what is
wrong and changes nothing; after that the worker copies it again as often as the resource's
update cycle says. Every value is checked as a file's would be (``datasets``); a copy with any
mistake keeps the data before it and says why on the resource's page, and is tried again
after at most an hour. A copy the same as the data already held changes nothing.

The table is read outside the platform's own transactions (a slow database never holds the
platform's locks), in a stable order, streamed up to the file limits, over a connection that
is read-only on the database's side too, ends each statement after ``STATEMENT_SECONDS``,
reaches only an address webhooks could (``core.outbound``), and uses no credentials but the
account's own.
"""

import datetime
import json
import logging
import os
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import sql

from zhengyun.audit.models import AuditResult
from zhengyun.audit.services import record, record_denial
from zhengyun.core import outbound
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import service
from zhengyun.crypto.gm import sm3
from zhengyun.data_resources import datasets
from zhengyun.data_resources.choices import ShareType, UpdateCycle
from zhengyun.data_resources.models import CatalogResource, ResourceDatabase, ResourceDataset

log = logging.getLogger(__name__)

CONNECT_SECONDS = 10
STATEMENT_SECONDS = 60
FETCH_ROWS = 2000
NAME = re.compile(r"[^\x00-\x1f\x7f\"]{1,63}")
HOST = re.compile(r"[A-Za-z0-9.\-:]{1,253}")
# How long a copy stays fresh: the update cycle's length, an hour for real-time resources.
FRESH = {
    UpdateCycle.REAL_TIME: datetime.timedelta(hours=1),
    UpdateCycle.DAILY: datetime.timedelta(days=1),
    UpdateCycle.WEEKLY: datetime.timedelta(days=7),
    UpdateCycle.MONTHLY: datetime.timedelta(days=31),
    UpdateCycle.QUARTERLY: datetime.timedelta(days=92),
    UpdateCycle.HALF_YEARLY: datetime.timedelta(days=183),
    UpdateCycle.YEARLY: datetime.timedelta(days=366),
}
# The worker looks every ten minutes: a copy due within the next look is made at this one.
TICK = datetime.timedelta(minutes=10)
RETRY = datetime.timedelta(hours=1)
VALUES = (str, int, float, bool, Decimal, datetime.date, datetime.time, uuid.UUID)


class SourceFailed(Exception):
    """The table could not be read, or held what its items do not take; ``field`` is the
    registration's field the problem is with."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


@dataclass
class Plan:
    """A registration checked and allowed, before its table is read."""

    source: ResourceDatabase  # not saved
    version_id: int
    items: dict
    mapped: list  # (item, column)


def register_database(resource, *, actor, host, port, database, user, password, table, columns):
    """Copy ``resource``'s data from ``table`` of the provider's database, now and then as
    its update cycle says. ``columns``: item → column where a column is not named after
    its item."""
    plan = _plan(
        resource,
        actor=actor,
        host=host,
        port=port,
        database=database,
        user=user,
        password=password,
        table=table,
        columns=columns,
    )
    try:
        records = _records(plan.source, plan.mapped, plan.items)
    except SourceFailed as failure:
        record_denial(
            actor=actor,
            action="data_resources.register_database",
            obj=resource,
            detail=str(failure),
            result=AuditResult.FAILED,
        )
        raise ValidationError({failure.field: str(failure)}) from None
    return _keep(resource, plan, records, actor=actor)


@service("data_resources.register_database", audit_refusals=True)
def _plan(resource, *, actor, host, port, database, user, password, table, columns):
    resource = datasets.locked(resource)
    version = datasets.served_version(resource, actor)
    items = {item["name"]: item for item in version.metadata["items"]}
    source = ResourceDatabase(
        resource=resource,
        host=_host(host),
        port=_port(port),
        database=_name(database, "database"),
        user=_name(user, "user"),
        password=_password(password),
        table=_table(table),
        columns=_columns(columns, items),
    )
    return Plan(source, version.pk, items, _mapped(source.columns, items))


@service("data_resources.register_database", audit_refusals=True)
def _keep(resource, plan, records, *, actor):
    resource = datasets.locked(resource)
    if resource.current_version_id != plan.version_id:
        raise Conflict(_("A new version was published meanwhile: register the table again."))
    source = ResourceDatabase.objects.filter(resource=resource).first() or plan.source
    for field in ("host", "port", "database", "user", "password", "table", "columns"):
        setattr(source, field, getattr(plan.source, field))
    dataset = _replace(resource, source, plan.mapped, records, actor)
    now = timezone.now()
    source.registered_at, source.registered_by = now, actor
    source.synced_at = source.tried_at = now
    source.last_error = ""
    source.save()
    record(
        actor=actor,
        action="data_resources.register_database",
        obj=source,
        detail=f"{dataset.source_name} rows={dataset.row_count}",
    )
    return source


def copy_due(now=None):
    """Copy again every registered table whose copy is older than its update cycle; how
    many were copied. A copy that fails keeps the data before it and says why; one that
    fails unexpectedly is logged and never stops the others."""
    now = now or timezone.now()
    copied = 0
    for source in _due(now):
        try:
            copied += _copy_again(source, now)
        except Exception:  # the next source is copied whatever this one did
            log.exception("copying department database %s failed", source.pk)
            _failed(source.pk, now, _("The copy failed unexpectedly."), actor=None)
    return copied


def _due(now):
    sources = ResourceDatabase.objects.select_related("resource__current_version")
    for source in sources:
        version = source.resource.current_version
        fresh = FRESH.get(version.update_cycle) if version else None
        if fresh is None or version.share_type == ShareType.NONE:
            continue  # irregular resources are copied when their provider registers again
        if source.synced_at and now - source.synced_at < fresh - TICK:
            continue
        failed_since = source.tried_at and source.tried_at > (source.synced_at or source.tried_at)
        if failed_since and now - source.tried_at < min(fresh, RETRY):
            continue
        yield source


def _copy_again(source, now):
    version = source.resource.current_version
    items = {item["name"]: item for item in version.metadata["items"]}
    try:
        mapped = _mapped(source.columns, items)
        records = _records(source, mapped, items)
    except SourceFailed as failure:
        _failed(source.pk, now, str(failure), actor=None)
        return 0
    return _keep_copy(source.pk, version.pk, mapped, records, now, actor=None)


@service("data_resources.copy_database")
def _keep_copy(source_id, version_id, mapped, records, now, *, actor):
    resource_id = ResourceDatabase.objects.filter(pk=source_id).values_list("resource", flat=True)
    if not resource_id:
        return 0  # replaced by a file or a service meanwhile
    resource = datasets.locked(CatalogResource(pk=resource_id[0]))
    source = ResourceDatabase.objects.select_for_update().filter(pk=source_id).first()
    if source is None or resource.current_version_id != version_id:
        return 0  # the next look copies it for the new version
    dataset = _replace(resource, source, mapped, records, actor)
    source.synced_at = source.tried_at = now
    source.last_error = ""
    source.save(update_fields=["synced_at", "tried_at", "last_error"])
    record(
        actor=actor,
        action="data_resources.copy_database",
        obj=source,
        detail=f"{dataset.source_name} rows={dataset.row_count} sm3={dataset.digest}",
    )
    return 1


@service("data_resources.copy_database")
def _failed(source_id, now, message, *, actor):
    ResourceDatabase.objects.filter(pk=source_id).update(tried_at=now, last_error=message[:500])
    record(
        actor=actor,
        action="data_resources.copy_database",
        object_id=str(source_id),
        result=AuditResult.FAILED,
        detail=message[:500],
    )


def _replace(resource, source, mapped, records, actor):
    """Make ``records`` the data of ``resource`` (locked), unless they are the data it
    holds already; the ``ResourceDataset``."""
    digest = sm3(json.dumps(records, ensure_ascii=False, sort_keys=True).encode()).hex()
    source_name = f"{source.host}:{source.port}/{source.database}/{source.table}"[:200]
    held = ResourceDataset.objects.filter(resource=resource, digest=digest).first()
    if held is not None:  # nothing new: no rows rewritten, no change announced
        if held.source_name != source_name:  # the same records, now from another table
            held.source_name = source_name
            held.save(update_fields=["source_name"])
        return held
    version = resource.current_version
    return datasets.replace_data(
        resource,
        version,
        [item for item, _column in mapped],
        records,
        source_name=source_name,
        source_format="database",
        encoding="",
        digest=digest,
        actor=actor,
    )


def _records(source, mapped, items):
    """The table's rows as checked records of the mapped items."""
    rows = _read(source, [column for _item, column in mapped])
    header = [item for item, _column in mapped]
    try:
        return datasets.checked_records(header, rows, items, first_row=1)
    except ValidationError as exc:
        raise SourceFailed("table", "; ".join(exc.messages[:5])) from None


def _read(source, columns):
    """The columns of the table's rows, in a stable order, values as a file's cells."""
    try:
        address = outbound.checked_address(
            source.host, source.port, allow_loopback=settings.ZHENGYUN_UPSTREAM_ALLOW_LOOPBACK
        )
    except outbound.Closed:
        raise SourceFailed("host", _("The database is at an address not called.")) from None
    except outbound.Unreachable:
        raise SourceFailed("host", _("The database's host name does not resolve.")) from None
    try:
        connection = psycopg.connect(**_connection_parameters(source, address))
    except psycopg.Error:
        # One message for every way connecting fails: the platform is no probe of the
        # extranet's ports and passwords.
        raise SourceFailed(
            "host",
            _("Could not connect and sign in: check the address, the account and its password."),
        ) from None
    with connection:
        try:
            return _rows(connection, source.table, columns)
        except psycopg.errors.UndefinedTable:
            raise SourceFailed(
                "table",
                _("The database has no table %(table)s the account may see.")
                % {"table": source.table},
            ) from None
        except psycopg.errors.UndefinedColumn as exc:
            raise SourceFailed(
                "columns",
                _("The table lacks a column: %(message)s") % {"message": _primary(exc)},
            ) from None
        except psycopg.errors.InsufficientPrivilege:
            raise SourceFailed("user", _("The account may not read the table.")) from None
        except psycopg.Error as exc:
            raise SourceFailed(
                "table",
                _("The database could not read the table (SQLSTATE %(code)s).")
                % {"code": exc.sqlstate or "?"},
            ) from None


def _connection_parameters(source, address):
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


def _rows(connection, table, columns):
    schema, _dot, name = table.rpartition(".")
    statement = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
        sql.SQL(", ").join(sql.Identifier(column) for column in columns),
        sql.Identifier(schema, name) if schema else sql.Identifier(name),
        sql.SQL(", ").join(sql.SQL(str(position)) for position in range(1, len(columns) + 1)),
    )
    rows, size = [], 0
    with connection.cursor(name="zhengyun_copy") as cursor:  # streamed, not read whole
        cursor.itersize = FETCH_ROWS
        cursor.execute(statement)
        for row in cursor:
            if len(rows) == datasets.MAX_ROWS:
                raise SourceFailed(
                    "table", _("The table has more than %(n)d rows.") % {"n": datasets.MAX_ROWS}
                )
            cells = [
                _cell(value, len(rows) + 1, column)
                for value, column in zip(row, columns, strict=True)
            ]
            size += sum(len(cell) if isinstance(cell, str) else 8 for cell in cells)
            if size > datasets.MAX_BYTES:
                raise SourceFailed(
                    "table",
                    _("The table holds more than %(mb)d MB.")
                    % {"mb": datasets.MAX_BYTES // (1024 * 1024)},
                )
            rows.append(cells)
    return rows


def _cell(value, number, column):
    if value is None:
        return None
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


def _primary(exc):
    return (getattr(exc.diag, "message_primary", None) or "").strip()[:200]


def _host(host):
    if not isinstance(host, str) or not HOST.fullmatch(host.strip()):
        raise ValidationError({"host": _("A host name or an IP address.")})
    return host.strip()


def _port(port):
    if not (isinstance(port, int) and 1 <= port <= 65535):
        raise ValidationError({"port": _("A port from 1 to 65535.")})
    return port


def _password(password):
    if not (isinstance(password, str) and 1 <= len(password) <= 200):
        raise ValidationError({"password": _("The account's password, at most 200 characters.")})
    return password


def _name(value, field):
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise ValidationError({field: _("A name of 1 to 63 characters, without quotes.")})
    return value


def _table(table):
    parts = table.split(".") if isinstance(table, str) else []
    if not 1 <= len(parts) <= 2 or not all(NAME.fullmatch(part) for part in parts):
        raise ValidationError(
            {"table": _("A table or view, as name or schema.name, such as rk.huji_renkou.")}
        )
    return table


def _columns(columns, items):
    """Item → column for every shared item: the columns given, the item's name for the
    others."""
    if not isinstance(columns, dict):
        raise ValidationError({"columns": _("Item → column pairs.")})
    shared = [name for name, item in items.items() if item["share_type"] != ShareType.NONE]
    unknown = sorted(str(name) for name in set(columns) - set(items))
    if unknown:
        raise ValidationError(
            {
                "columns": _("The resource has no items named %(items)s.")
                % {"items": "、".join(unknown)}
            }
        )
    withheld = sorted(set(columns) - set(shared))
    if withheld:
        raise ValidationError(
            {
                "columns": _("Items that are not shared are not copied: %(items)s")
                % {"items": "、".join(withheld)}
            }
        )
    mapped = {item: columns.get(item, item) for item in shared}
    for item, column in mapped.items():
        if not isinstance(column, str) or not NAME.fullmatch(column):
            raise ValidationError(
                {
                    "columns": _("%(item)s: name its column, of 1 to 63 characters, no quotes.")
                    % {"item": item}
                }
            )
    return mapped


def _mapped(columns, items):
    """(item, column) of the items the current version shares; ``SourceFailed`` when it
    shares one the registration did not map."""
    shared = [name for name, item in items.items() if item["share_type"] != ShareType.NONE]
    missing = [item for item in shared if item not in columns]
    if missing:
        raise SourceFailed(
            "columns",
            _("The table was registered without %(items)s; register it again.")
            % {"items": "、".join(missing)},
        )
    return [(item, columns[item]) for item in shared]
