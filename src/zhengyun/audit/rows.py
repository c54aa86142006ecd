"""Reading audit events straight off a database cursor, as the chain needs them.

Sealing and verifying read every event once; building model instances for millions of rows
would cost more than hashing them, so rows come from a plain cursor and only the two columns
the drivers hand back raw are converted.
"""

import json

from zhengyun.audit.chain import CHAINED_FIELDS
from zhengyun.audit.models import AuditEvent

ROW_FIELDS = ("id", "hash", *CHAINED_FIELDS)


# The database writes the time as the canonical form does, which spares reading it into a
# datetime and writing it out again (a tenth of the cost of verifying an event).
_UTC_TEXT = {
    "postgresql": "to_char(occurred_at AT TIME ZONE 'UTC', "
    '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\')',
    # Django keeps UTC without a zone, and leaves out the fraction of a whole second; a time
    # written any other way was not written by the platform and reads as a changed event.
    "sqlite": "replace(occurred_at, ' ', 'T') "
    "|| CASE WHEN length(occurred_at) = 19 THEN '.000000' ELSE '' END || '+00:00'",
}


def select_sql(connection, tail):
    """``SELECT <every row field> FROM <events> <tail>``."""
    fields = {f.attname: f for f in AuditEvent._meta.concrete_fields}
    columns = [connection.ops.quote_name(fields[name].column) for name in ROW_FIELDS]
    if connection.vendor in _UTC_TEXT:
        columns[ROW_FIELDS.index("occurred_at")] = _UTC_TEXT[connection.vendor]
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    return f"SELECT {', '.join(columns)} FROM {table} {tail}"  # noqa: S608


def as_row(values, loads=json.loads):
    """One fetched tuple as the mapping of chained fields (plus id and hash) that
    ``chain.event_hash`` takes, the time already as its canonical text."""
    row = dict(zip(ROW_FIELDS, values, strict=True))
    row["changes"] = loads(row["changes"])
    return row
