"""Loading a published resource's data from its provider's file (R-D3), for the gateway to
serve.

The file's header names the resource's information items (any subset, in any order); every
value is checked against its item's data type and length. A file with any mistake is
refused whole, with the first mistakes named by row and item, and the data already loaded
stays as it was; a good file replaces it — or the table it was copied from
(``department_databases``), or the provider's service it was read from (``upstreams``) — in
one transaction.
"""

import datetime
import decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require
from zhengyun.audit.services import record
from zhengyun.core.exceptions import Conflict, NotFound
from zhengyun.core.services import service
from zhengyun.crypto.gm import sm3
from zhengyun.data_resources.changes import record_change
from zhengyun.data_resources.choices import DataType, ShareType
from zhengyun.data_resources.data_files import FileRefused, read_table
from zhengyun.data_resources.models import (
    CatalogResource,
    DatasetRow,
    ResourceChange,
    ResourceDatabase,
    ResourceDataset,
    ResourceUpstream,
)

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
# Mistakes named at once: enough to mend a file, not a wall of text.
MAX_ERRORS = 20
INSERT_BATCH = 2000
MAX_NUMBER_CHARACTERS = 40
MAX_NUMBER_DIGITS = 30
TRUE_WORDS = {"是", "true", "1", "y", "yes", "t"}
FALSE_WORDS = {"否", "false", "0", "n", "no", "f"}


@service("data_resources.load_dataset", audit_refusals=True)
def load_dataset(resource, *, actor, name, content):
    """Replace ``resource``'s data with the file ``name`` (bytes ``content``)."""
    resource = locked(resource)
    version = served_version(resource, actor)
    if len(content) > MAX_BYTES:
        raise ValidationError(
            {"file": _("A file of at most %(mb)d MB.") % {"mb": MAX_BYTES // (1024 * 1024)}}
        )
    try:
        file_format, encoding, header, rows = read_table(name, content, MAX_ROWS)
    except FileRefused as exc:
        raise ValidationError({"file": str(exc)}) from None
    items = {item["name"]: item for item in version.metadata["items"]}
    _check_header(header, items)
    records = checked_records(header, rows, items)
    dataset = replace_data(
        resource,
        version,
        header,
        records,
        source_name=name[:200],
        source_format=file_format,
        encoding=encoding,
        digest=sm3(content).hex(),
        actor=actor,
    )
    ResourceDatabase.objects.filter(resource=resource).delete()  # one source of data at a time
    record(
        actor=actor,
        action="data_resources.load_dataset",
        obj=dataset,
        detail=f"{name[:100]} rows={len(records)} {file_format} {encoding} sm3={dataset.digest}",
    )
    return dataset


def locked(resource):
    """``resource`` locked for a change of its data (every such change takes this lock, and
    records the change under it), with its current version."""
    found = (
        CatalogResource.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .filter(pk=resource.pk)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def served_version(resource, actor):
    """The version whose data ``actor`` gives ``resource``: it must be published and shared,
    and ``actor`` may change it."""
    require(actor, "change", resource)
    version = resource.current_version
    if version is None:
        raise Conflict(_("Publish the resource before naming where its data comes from."))
    if version.share_type == ShareType.NONE:
        raise Conflict(_("A resource that is not shared is not served."))
    return version


def replace_data(
    resource, version, header, records, *, source_name, source_format, encoding, digest, actor
):
    """Make ``records`` (checked) the data of ``resource`` (locked), in place of its data
    and of any service it was read from; the ``ResourceDataset``."""
    dataset = ResourceDataset.objects.filter(resource=resource).first() or ResourceDataset(
        resource=resource
    )
    dataset.columns, dataset.row_count = header, len(records)
    dataset.source_name, dataset.source_format, dataset.encoding = (
        source_name,
        source_format,
        encoding,
    )
    dataset.digest = digest
    dataset.loaded_at, dataset.loaded_by = timezone.now(), actor
    dataset.save()
    ResourceUpstream.objects.filter(resource=resource).delete()  # one source of data at a time
    dataset.rows.all().delete()
    DatasetRow.objects.bulk_create(
        (
            DatasetRow(dataset=dataset, number=number, values=values)
            for number, values in enumerate(records, start=1)
        ),
        batch_size=INSERT_BATCH,
    )
    record_change(
        resource,
        ResourceChange.Kind.DATA,
        version_number=version.number,
        row_count=len(records),
        digest=dataset.digest,
    )
    return dataset


def _check_header(header, items):
    if any(not column for column in header):
        raise ValidationError({"file": _("Every column needs an item name in the first row.")})
    unknown = [column for column in header if column not in items]
    if unknown:
        raise ValidationError(
            {
                "file": _("The resource has no items named %(columns)s.")
                % {"columns": "、".join(unknown[:10])}
            }
        )
    if len(set(header)) != len(header):
        raise ValidationError({"file": _("Each item's column once.")})
    withheld = [column for column in header if items[column]["share_type"] == ShareType.NONE]
    if withheld:
        raise ValidationError(
            {
                "file": _("Items that are not shared are not loaded: %(columns)s")
                % {"columns": "、".join(withheld)}
            }
        )


def checked_records(header, rows, items, first_row=2):
    """The rows as item → value dicts, or ``ValidationError`` naming the first mistakes by
    row number: in a file the header is row 1."""
    records, errors = [], []
    width = len(header)
    for number, row in enumerate(rows, start=first_row):
        if len(row) > width and any(value is not None for value in row[width:]):
            errors.append(_("Row %(row)d has values beyond the named columns.") % {"row": number})
            continue
        values = {}
        for column, cell in zip(header, row, strict=False):
            try:
                values[column] = stored_value(cell, items[column])
            except ValueError as exc:
                errors.append(
                    _("Row %(row)d, %(item)s: %(problem)s")
                    % {"row": number, "item": column, "problem": exc}
                )
        records.append(values)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ValidationError({"file": errors})
    return records


def stored_value(cell, item):
    """``cell`` as the JSON value its item's data type stores; ``ValueError`` saying why not."""
    if cell is None:
        return None
    kind = item["data_type"]
    if kind == DataType.INTEGER:
        return _number(cell, integral=True)
    if kind in (DataType.NUMERIC, DataType.CURRENCY, DataType.DOUBLE, DataType.FLOAT):
        return _number(cell, integral=False)
    if kind == DataType.DATE:
        return _date(cell).isoformat()
    if kind == DataType.DATETIME:
        return _moment(cell).isoformat()
    if kind == DataType.LOGICAL:
        word = str(cell).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError(_("not 是 or 否"))
    text = cell.isoformat() if isinstance(cell, datetime.date) else str(cell)
    if isinstance(cell, float) and cell.is_integer():
        text = str(int(cell))  # Excel keeps a long code typed as a number as a float
    length = item.get("length")
    if length and len(text) > length:
        raise ValueError(_("longer than %(length)d characters") % {"length": length})
    return text


def _number(cell, *, integral):
    text = str(cell).replace(",", "")
    if isinstance(cell, bool) or len(text) > MAX_NUMBER_CHARACTERS:
        raise ValueError(_("not a number"))
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise ValueError(_("not a number")) from None
    # An exponent such as 1e999999999 is short to write and endless to expand.
    if not number.is_finite() or number.adjusted() > MAX_NUMBER_DIGITS:
        raise ValueError(
            _("not a number of at most %(digits)d digits") % {"digits": MAX_NUMBER_DIGITS}
        )
    if number == number.to_integral_value():
        return int(number)
    if integral:
        raise ValueError(_("not a whole number"))
    return float(number)


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d")
MOMENT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M")


def _date(cell):
    if isinstance(cell, datetime.datetime):
        return cell.date()
    if isinstance(cell, datetime.date):
        return cell
    return _parsed(str(cell), DATE_FORMATS, lambda moment: moment.date())


def _moment(cell):
    if isinstance(cell, datetime.datetime):
        return cell
    if isinstance(cell, datetime.date):
        return datetime.datetime.combine(cell, datetime.time())
    return _parsed(str(cell), MOMENT_FORMATS, lambda moment: moment)


def _parsed(text, formats, pick):
    for pattern in formats:
        try:
            return pick(datetime.datetime.strptime(text.strip(), pattern))
        except ValueError:
            continue
    raise ValueError(_("not a date such as 2026-11-27"))
