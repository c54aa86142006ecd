"""Reading audit events straight off a database cursor, as the chain needs them.

Sealing and verifying read every event once; building model instances for millions of rows
would cost more than hashing them, so rows come from a plain cursor and only the two columns
the drivers hand back raw are converted.
"""

import datetime
import json

from zhengyun.audit.chain import CHAINED_FIELDS
from zhengyun.audit.models import AuditEvent

ROW_FIELDS = ("id", "hash", *CHAINED_FIELDS)


# PostgreSQL writes the time as the canonical form does, which spares reading it into a
# datetime (under Django psycopg's loader for it is pure Python) and writing it out again.
_POSTGRES_UTC_TEXT = (
    "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
)


def select_sql(connection, tail):
    """``SELECT <every row field> FROM <events> <tail>``."""
    fields = {f.attname: f for f in AuditEvent._meta.concrete_fields}
    columns = [connection.ops.quote_name(fields[name].column) for name in ROW_FIELDS]
    if connection.vendor == "postgresql":
        columns[ROW_FIELDS.index("occurred_at")] = _POSTGRES_UTC_TEXT
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    return f"SELECT {', '.join(columns)} FROM {table} {tail}"  # noqa: S608


def as_row(values, loads=json.loads):
    """One fetched tuple as the mapping of chained fields (plus id and hash) that
    ``chain.event_hash`` takes: the time as an aware datetime or as its canonical text."""
    row = dict(zip(ROW_FIELDS, values, strict=True))
    row["changes"] = loads(row["changes"])
    moment = row["occurred_at"]
    if isinstance(moment, datetime.datetime) and moment.tzinfo is None:  # SQLite: UTC, no zone
        row["occurred_at"] = moment.replace(tzinfo=datetime.UTC)
    return row
