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


def select_sql(connection, tail):
    """``SELECT <every row field> FROM <events> <tail>``."""
    fields = {f.attname: f for f in AuditEvent._meta.concrete_fields}
    columns = ", ".join(connection.ops.quote_name(fields[name].column) for name in ROW_FIELDS)
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    return f"SELECT {columns} FROM {table} {tail}"  # noqa: S608


def as_row(values, loads=json.loads):
    """One fetched tuple as the mapping of chained fields (plus id and hash) the ORM gives."""
    row = dict(zip(ROW_FIELDS, values, strict=True))
    row["changes"] = loads(row["changes"])
    if row["occurred_at"].tzinfo is None:  # SQLite keeps UTC without a zone
        row["occurred_at"] = row["occurred_at"].replace(tzinfo=datetime.UTC)
    return row
