"""The common case of a gateway call in one query (R-D3): a valid application token, a
published resource and a grant in force — and the page of records the call most likely
asks for.

A call that is allowed needs the token's application and department, the resource's current
version, the application's grant in force and the resource's data. Looked up one by one
through the ORM that is six queries, each costing more to build than to run; here it is one
statement, built once and on PostgreSQL prepared once per connection (``core.prepared``).
The same statement reads the page the call's parameters name, when they plainly name one
and a grant is found, so a call makes one round trip to the database, not two.
Whatever it does not find — an unknown or expired token, a token restricted to another
audience, no grant in force — goes to ``access``, which uses the OAuth library's own
validation and says exactly why the call is refused. Versions never change once published,
so what a version's metadata says about its items is read once per process.
"""

import datetime
import functools
import hashlib
import json
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from zhengyun.accounts.models import OidcClient
from zhengyun.core import prepared
from zhengyun.data_resources.masking import masker
from zhengyun.data_resources.models import (
    DatasetRow,
    Grant,
    ResourceDataset,
    ResourceUpstream,
    ResourceVersion,
)


@dataclass(frozen=True)
class Described:
    """What a published version says about its items: their metadata and masking."""

    items: dict
    masks: dict
    provider_id: int
    share_type: str


@dataclass(frozen=True)
class Caller:
    """The calling application as the call log names it."""

    registration_id: int
    department_id: int
    client_id: str

    @classmethod
    def of(cls, registration):
        return cls(registration.pk, registration.department_id, registration.application.client_id)


@dataclass(frozen=True)
class GrantTerms:
    """What a call uses of the grant it is made under."""

    pk: int
    items: list
    purpose: str

    @classmethod
    def of(cls, grant):
        return cls(grant.pk, list(grant.items), grant.purpose)


@dataclass
class CallContext:
    caller: Caller
    grant: GrantTerms
    version_id: int
    version_number: int
    resource_code: str
    described: Described
    dataset_id: int | None
    row_count: int
    # The provider's service the records are read from, when no file was loaded.
    upstream: ResourceUpstream | None
    # The loaded file's records read with the lookup: ((page_size, offset), their values).
    prefetched: tuple | None = None


def resolve(token, code, window=None):
    """The context of a call with ``token`` for resource ``code``, or None when anything is
    not as a granted call needs it. ``window``: the (page_size, offset) of the records to
    read with it, if any."""
    now = timezone.now()
    today = timezone.localdate(now)
    size, offset = window or (0, 0)
    rows = prepared.fetch(
        _statement(),
        [size, offset, code, today, today, hashlib.sha256(token.encode()).hexdigest()],
    )
    if not rows:
        return None
    [row] = rows
    (page, expires, user_id, resource, client_id, registration_id, department_id, version_id,
     version_number, published_at, resource_id, grant_id, grant_items, purpose, dataset_id,
     row_count) = row  # fmt: skip
    if not _still_valid(expires, now) or user_id is not None or _restricted(resource):
        return None
    if registration_id is None or department_id is None or grant_id is None:
        return None
    return CallContext(
        caller=Caller(registration_id, department_id, client_id),
        grant=GrantTerms(grant_id, _json(grant_items), purpose),
        version_id=version_id,
        version_number=version_number,
        resource_code=code,
        described=described(version_id, str(published_at)),
        dataset_id=dataset_id,
        row_count=row_count or 0,
        upstream=None if dataset_id else _upstream(resource_id),
        prefetched=(window, _page_values(page)) if window and dataset_id else None,
    )


@functools.lru_cache(maxsize=1024)
def described(version_id, published_at):
    """The items, masks and provider of a published version (which never changes).
    ``published_at`` is part of the key only: an id is never reused in one database, but a
    database made afresh (a test's, say) may hand it out again."""
    version = ResourceVersion.objects.only("metadata", "department_id", "share_type").get(
        pk=version_id
    )
    items = {item["name"]: item for item in version.metadata["items"]}
    masks = {name: masker(item["masking"]) for name, item in items.items()}
    return Described(
        items=items,
        masks=masks,
        provider_id=version.department_id,
        share_type=version.share_type,
    )


def from_objects(application, version, grant):
    """The context of a call that ``access`` allowed, from the objects it looked up."""
    dataset = ResourceDataset.objects.filter(resource_id=version.resource_id).first()
    return CallContext(
        caller=Caller.of(application),
        grant=GrantTerms.of(grant),
        version_id=version.pk,
        version_number=version.number,
        resource_code=version.code,
        described=described(version.pk, str(version.published_at)),
        dataset_id=dataset.pk if dataset else None,
        row_count=dataset.row_count if dataset else 0,
        upstream=None if dataset else _upstream(version.resource_id),
    )


def _upstream(resource_id):
    return (
        ResourceUpstream.objects.filter(resource_id=resource_id)
        .only("url", "records_at", "fields", "credential_header", "credential_prefix", "credential")
        .first()
    )


def _still_valid(expires, now):
    if isinstance(expires, str):  # SQLite hands the time back as text
        expires = datetime.datetime.fromisoformat(expires)
    if timezone.is_naive(expires):
        expires = timezone.make_aware(expires, datetime.UTC)
    return now < expires


def _restricted(resource):
    """Whether the token names resource servers (RFC 8707): left to the OAuth library."""
    return bool(_json(resource))


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _page_values(page):
    """The records' values from the statement's page column: PostgreSQL's array in order;
    SQLite's ``[number, values]`` pairs, whose order its ``group_concat`` leaves open."""
    if page is None:
        return []
    if not isinstance(page, str):
        return page
    return [values for _number, values in sorted(json.loads(f"[{page}]"), key=_first)]


def _first(pair):
    return pair[0]


@functools.cache
def _statement():
    quote = connection.ops.quote_name

    def table(model):
        return quote(model._meta.db_table)

    def column(model, name):
        return quote(model._meta.get_field(name).column)

    t, a, c = table(AccessToken), table(Application), table(OidcClient)
    v, g, d = table(ResourceVersion), table(Grant), table(ResourceDataset)
    rows = (
        f"SELECT r.{column(DatasetRow, 'number')} AS n, r.{column(DatasetRow, 'values')} AS v "  # noqa: S608
        f"FROM {table(DatasetRow)} r WHERE r.{column(DatasetRow, 'dataset')} = "
        f"d.{column(ResourceDataset, 'id')} "
        f"ORDER BY r.{column(DatasetRow, 'number')} LIMIT %s OFFSET %s"
    )
    if connection.vendor == "postgresql":
        page = f"SELECT json_agg(p.v ORDER BY p.n) FROM ({rows}) p"  # noqa: S608
    else:
        page = f"SELECT group_concat('[' || p.n || ',' || p.v || ']') FROM ({rows}) p"  # noqa: S608
    # Names from the models' metadata only; every value is a parameter.
    return (
        f"SELECT CASE WHEN g.{column(Grant, 'id')} IS NOT NULL THEN ({page}) END, "  # noqa: S608
        f"t.{column(AccessToken, 'expires')}, t.{column(AccessToken, 'user')}, "
        f"t.{column(AccessToken, 'resource')}, a.{column(Application, 'client_id')}, "
        f"c.{column(OidcClient, 'id')}, c.{column(OidcClient, 'department')}, "
        f"v.{column(ResourceVersion, 'id')}, v.{column(ResourceVersion, 'number')}, "
        f"v.{column(ResourceVersion, 'published_at')}, v.{column(ResourceVersion, 'resource')}, "
        f"g.{column(Grant, 'id')}, "
        f"g.{column(Grant, 'items')}, g.{column(Grant, 'purpose')}, "
        f"d.{column(ResourceDataset, 'id')}, d.{column(ResourceDataset, 'row_count')} "
        f"FROM {t} t "
        f"JOIN {a} a ON a.{column(Application, 'id')} = t.{column(AccessToken, 'application')} "
        f"LEFT JOIN {c} c ON c.{column(OidcClient, 'application')} = a.{column(Application, 'id')} "
        f"JOIN {v} v ON v.{column(ResourceVersion, 'code')} = %s "
        f"AND v.{column(ResourceVersion, 'is_current')} "
        f"LEFT JOIN {g} g ON g.{column(Grant, 'application')} = c.{column(OidcClient, 'id')} "
        f"AND g.{column(Grant, 'resource')} = v.{column(ResourceVersion, 'resource')} "
        f"AND g.{column(Grant, 'revoked_at')} IS NULL "
        f"AND g.{column(Grant, 'starts_on')} <= %s AND g.{column(Grant, 'expires_on')} >= %s "
        f"LEFT JOIN {d} d ON d.{column(ResourceDataset, 'resource')} = "
        f"v.{column(ResourceVersion, 'resource')} "
        f"WHERE t.{column(AccessToken, 'token_checksum')} = %s "
        f"ORDER BY g.{column(Grant, 'expires_on')} DESC, g.{column(Grant, 'id')} DESC LIMIT 1"
    )
