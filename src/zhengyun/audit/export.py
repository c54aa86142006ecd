"""Streaming CSV and JSON renderings of audit events, with the chain's verification."""

import csv
import datetime
import json

from zhengyun.audit.chain import EXPORT_FIELDS


class _Line:
    """A file-like object for csv.writer that hands back what it is given."""

    def write(self, value):
        return value


def plain(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return value


def csv_lines(rows):
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese correctly."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow(EXPORT_FIELDS)
    for row in rows:
        yield writer.writerow(
            [json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else plain(v) for v in row]
        )


def json_chunks(rows, verification):
    """``{"verification": {...}, "events": [...]}`` written as it is read."""
    yield '{"verification": ' + json.dumps(verification, ensure_ascii=False) + ', "events": ['
    for index, row in enumerate(rows):
        event = {name: plain(value) for name, value in zip(EXPORT_FIELDS, row, strict=True)}
        yield ("," if index else "") + json.dumps(event, ensure_ascii=False)
    yield "]}"
