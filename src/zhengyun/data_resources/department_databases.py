"""Copying a published resource's data from a table of its provider's own database (R-D3,
R-A4): one speaking PostgreSQL's protocol (PostgreSQL, KingbaseES, openGauss, HighGo) or
MySQL's (MySQL, MariaDB, OceanBase, TiDB), as most departments' systems keep their records in.

The provider names the protocol, the database, an account that may only read, the table (or
view), and which column holds each shared item — by default the column named after the
item. Registering copies the table at once, so a source that cannot be read is refused with
what is wrong and changes nothing; after that the worker copies it again as often as the
resource's update cycle says. Every value is checked as a file's would be (``datasets``); a
copy with any mistake keeps the data before it and says why on the resource's page, and is
tried again after at most an hour. A copy the same as the data already held changes nothing.

The table is read outside the platform's own transactions (a slow database never holds the
platform's locks), at an address webhooks could reach (``core.outbound``), read-only and
bounded as ``database_protocols`` says.
"""

import datetime
import json
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.audit.models import AuditResult
from zhengyun.audit.services import record, record_denial
from zhengyun.core import outbound
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import service
from zhengyun.crypto.gm import sm3
from zhengyun.data_resources import datasets
from zhengyun.data_resources.choices import ShareType, UpdateCycle
from zhengyun.data_resources.database_protocols import DEFAULT_PORTS, SourceFailed, read
from zhengyun.data_resources.models import CatalogResource, ResourceDatabase, ResourceDataset

log = logging.getLogger(__name__)

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


@dataclass
class Plan:
    """A registration checked and allowed, before its table is read."""

    source: ResourceDatabase  # not saved
    version_id: int
    items: dict
    mapped: list  # (item, column)


def register_database(
    resource,
    *,
    actor,
    host,
    database,
    user,
    password,
    table,
    columns,
    port=None,
    protocol="postgresql",
):
    """Copy ``resource``'s data from ``table`` of the provider's database, now and then as
    its update cycle says. ``columns``: item → column where a column is not named after
    its item; ``protocol``: "postgresql" or "mysql"; ``port``: by default the protocol's."""
    plan = _plan(
        resource,
        actor=actor,
        protocol=protocol,
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
def _plan(resource, *, actor, protocol, host, port, database, user, password, table, columns):
    resource = datasets.locked(resource)
    version = datasets.served_version(resource, actor)
    items = {item["name"]: item for item in version.metadata["items"]}
    protocol = _protocol(protocol)
    source = ResourceDatabase(
        resource=resource,
        protocol=protocol,
        host=_host(host),
        port=_port(port, protocol),
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
    for field in ("protocol", "host", "port", "database", "user", "password", "table", "columns"):
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
    return read(source, address, columns)


def _protocol(protocol):
    if protocol not in ResourceDatabase.Protocol.values:
        raise ValidationError({"protocol": _("The database's protocol: postgresql or mysql.")})
    return protocol


def _host(host):
    if not isinstance(host, str) or not HOST.fullmatch(host.strip()):
        raise ValidationError({"host": _("A host name or an IP address.")})
    return host.strip()


def _port(port, protocol):
    if port is None:
        return DEFAULT_PORTS[protocol]
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
