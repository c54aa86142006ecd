"""Tables and records for a terminal, aligned for Chinese characters (which take two
columns), or the API's JSON as it came."""

import json
import unicodedata

PREFERRED = ("id", "name", "status", "department", "host", "size_gb", "cidr", "address")
MAX_COLUMNS = 6
MAX_CELL = 40


def width(text):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cell(value, limit=MAX_CELL):
    if value is None:
        return "-"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
    text = " ".join(text.split())
    if limit and width(text) > limit:
        while width(text) > limit - 1:
            text = text[:-1]
        text += "…"
    return text


def columns_for(rows, wanted=None):
    if wanted:
        return wanted
    keys = list(rows[0]) if rows else []
    chosen = [key for key in PREFERRED if key in keys]
    for key in keys:
        if len(chosen) >= MAX_COLUMNS:
            break
        if key not in chosen and not isinstance(rows[0][key], (dict, list)):
            chosen.append(key)
    return chosen


def table(rows, wanted=None, limit=MAX_CELL):
    """Rows under a header; cells longer than ``limit`` columns are cut (None: never)."""
    columns = columns_for(rows, wanted)
    cells = [[cell(row.get(column), limit) for column in columns] for row in rows]
    widths = [
        max([width(column), *(width(line[i]) for line in cells)])
        for i, column in enumerate(columns)
    ]

    def line(values):
        return "  ".join(
            v + " " * (w - width(v)) for v, w in zip(values, widths, strict=True)
        ).rstrip()

    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells)])


def record(row):
    if not isinstance(row, dict):
        return raw(row)
    label = max((width(key) for key in row), default=0)
    return "\n".join(
        f"{key}{' ' * (label - width(key))}  {full(value)}" for key, value in row.items()
    )


def full(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return "-" if value is None else str(value)


def raw(value):
    return json.dumps(value, ensure_ascii=False, indent=2)
