"""What the gateway does for a call once it is allowed (R-D3): reading a page of a resource's
records with the granted items, masked as the metadata declares, and logging the call. The
records are the provider's loaded file, or what the provider's own service answers.

Both run on every call: the page is most often read with the call's lookup
(``call_context``), else by one statement, built once (building the ORM's query costs more
than running it, see ``benchmarks/gateway_throughput.py``) and prepared on PostgreSQL; the
log entry goes through ``calljournal``. Filtered pages, the rarer case, go through the ORM's
JSON lookups.
"""

import functools
import json

from django.db import connection
from django.db.models.fields.json import KeyTransform

from zhengyun.core import prepared
from zhengyun.core.context import current
from zhengyun.data_resources import upstreams
from zhengyun.data_resources.models import DatasetRow
from zhengyun.gateway import calljournal
from zhengyun.gateway.access import Refusal


def read_records(context, query):
    """A page of records with the query's items, masked, and how many records match."""
    start = (query.page - 1) * query.page_size
    if context.upstream is not None:
        filtered = [item for item, _value in query.filters]
        found = [
            values
            for values in _upstream_records(context, list(dict.fromkeys(query.items + filtered)))
            if all(values[item] == value for item, value in query.filters)
        ]
        total, found = len(found), found[start : start + query.page_size]
    elif context.dataset_id is None:
        return [], 0
    elif query.filters:
        rows = DatasetRow.objects.filter(dataset_id=context.dataset_id)
        for number, (item, value) in enumerate(query.filters):
            alias = f"filter_{number}"
            rows = rows.alias(**{alias: KeyTransform(item, "values")}).filter(**{alias: value})
        total = rows.count()
        found = rows.order_by("number").values_list("values", flat=True)[
            start : start + query.page_size
        ]
    elif context.prefetched is not None and context.prefetched[0] == (query.page_size, start):
        total, found = context.row_count, context.prefetched[1]
    else:
        total = context.row_count
        page = prepared.fetch(_page_statement(), [context.dataset_id, query.page_size, start])
        found = [_json(values) for (values,) in page]
    masks = [(item, context.described.masks.get(item)) for item in query.items]
    return [
        {item: mask(values.get(item)) if mask else values.get(item) for item, mask in masks}
        for values in found
    ], total


def all_records(context, items):
    """Every record of the resource with at least ``items``, in order: read lazily from a
    loaded file, or at once from the provider's service."""
    if context.upstream is not None:
        return _upstream_records(context, items)
    if context.dataset_id is None:
        return []
    stored = DatasetRow.objects.filter(dataset_id=context.dataset_id).order_by("number")
    return stored.values_list("values", flat=True).iterator(chunk_size=2000)


def _upstream_records(context, items):
    """The records the provider's service answers, with ``items``; a refusal saying why
    when it fails."""
    try:
        return upstreams.fetch(
            context.upstream, context.described.items, items, context.upstream.credential
        )
    except upstreams.UpstreamFailed as failure:
        raise Refusal(502, "upstream_failed", str(failure)) from None


def log_call(
    *,
    at_us,
    caller,
    client_id,
    provider_id,
    grant_id,
    code,
    operation,
    items,
    records,
    status,
    result,
):
    """Add a call to the log, unsealed: the call log's sealer chains and signs it. A served
    process adds it through its journal (``calljournal``).
    ``caller`` is None when the token named no application; ``client_id`` then says what
    is known."""
    values = (
        at_us,
        current().request_id,
        caller.client_id if caller else client_id,
        caller.registration_id if caller else None,
        caller.department_id if caller else None,
        provider_id,
        grant_id,
        code[:32],
        operation,
        json.dumps(items),
        records,
        status,
        result,
        "",
        "",
    )
    calljournal.add(values)


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


@functools.cache
def _page_statement():
    quote = connection.ops.quote_name
    field = DatasetRow._meta.get_field
    return (
        f"SELECT {quote(field('values').column)} FROM {quote(DatasetRow._meta.db_table)} "  # noqa: S608
        f"WHERE {quote(field('dataset').column)} = %s "
        f"ORDER BY {quote(field('number').column)} LIMIT %s OFFSET %s"
    )
