"""Reading a provider's data file into a header and rows of cells (R-D3): CSV in UTF-8 (with
or without a byte-order mark) or GBK — what Excel writes on a Chinese Windows — and Excel
workbooks (.xlsx, the first sheet). The declared format is the file's extension; a file that
is not what it says is refused, never guessed at."""

import csv
import datetime
import io
import zipfile

from django.utils.translation import gettext as _

FORMATS = {"csv": "csv", "xlsx": "xlsx"}


class FileRefused(Exception):
    """The file cannot be read as declared; the message says why, for its uploader."""


def declared_format(name):
    """The format a file name declares, or ``FileRefused``."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in FORMATS:
        raise FileRefused(_("Upload a CSV file (.csv) or an Excel workbook (.xlsx)."))
    return FORMATS[extension]


def read_table(name, content, max_rows):
    """``(format, encoding, header, rows)`` of the file: every cell as text, a date or a
    number (Excel's own cell types), None when empty; rows without any value are skipped.
    More than ``max_rows`` rows below the header are refused as soon as they are read."""
    file_format = declared_format(name)
    if file_format == "csv":
        encoding, text = _decoded(content)
        raw = csv.reader(io.StringIO(text, newline=""))
    else:
        encoding, raw = "", _workbook_rows(content)
    lines = []
    try:
        for line in raw:
            cells = [_cell(value) for value in line]
            if any(value is not None for value in cells):
                lines.append(cells)
                if len(lines) > max_rows + 1:
                    raise FileRefused(_("At most %(count)d rows.") % {"count": max_rows})
    except csv.Error as exc:
        raise FileRefused(
            _("The CSV file cannot be read near line %(line)d: %(problem)s")
            % {"line": raw.line_num, "problem": exc}
        ) from None
    if not lines:
        raise FileRefused(_("The file holds no rows."))
    header = [str(value).strip() if value is not None else "" for value in lines[0]]
    return file_format, encoding, header, lines[1:]


def _decoded(content):
    """CSV bytes as text: UTF-8 if they are, else GB18030 (a superset of GBK and GB2312)."""
    if content[:4] == b"PK\x03\x04":
        raise FileRefused(_("This is not a CSV text file; is it a workbook named .csv?"))
    if b"\x00" in content:
        raise FileRefused(_("A CSV file is text: this one holds NUL bytes."))
    for encoding, codec in (("utf-8", "utf-8-sig"), ("gbk", "gb18030")):
        try:
            return encoding, content.decode(codec)
        except UnicodeDecodeError as exc:
            failure = exc
    raise FileRefused(
        _("The file is neither UTF-8 nor GBK text (byte %(at)d).") % {"at": failure.start}
    )


def _workbook_rows(content):
    import openpyxl

    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise FileRefused(_("This is not an Excel workbook (.xlsx); is it a CSV file?"))
    unreadable = FileRefused(_("The workbook cannot be read; save it again as .xlsx."))
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign zip
        raise unreadable from None
    try:
        if not book.worksheets:
            raise unreadable
        yield from book.worksheets[0].iter_rows(values_only=True)
    except FileRefused:
        raise
    except Exception:  # a sheet's XML damaged inside a sound zip
        raise unreadable from None
    finally:
        book.close()


def _cell(value):
    if value is None:
        return None
    if isinstance(value, str):
        if "\x00" in value:
            raise FileRefused(_("A cell holds a NUL character."))
        value = value.strip()
        return value or None
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date()
    return value
