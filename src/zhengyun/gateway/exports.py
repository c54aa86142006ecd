"""Bulk file exchange (R-A4): a granted application takes a resource's whole data as one
CSV file — its granted items, masked as for every call — and the platform keeps the file's
SM3 digest. The consumer then posts a receipt with the digest it computed on arrival; the
platform records it and answers with the receipt signed by its SM2 key, so that either side
can later show what was sent and what arrived intact.
"""

import csv
import io
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.audit import keys
from zhengyun.crypto import gm
from zhengyun.gateway.access import Refusal
from zhengyun.gateway.models import FileExport

SM3_HEX = re.compile(r"[0-9a-f]{64}")


def export_file(context, items, records):
    """The file of ``records`` with ``items`` (UTF-8 with a byte-order mark, so spreadsheet
    programs read the Chinese), and its ``FileExport``."""
    masks = [(item, context.described.masks.get(item)) for item in items]
    text = io.StringIO()
    out = csv.writer(text)
    out.writerow(items)
    rows = 0
    for values in records:
        out.writerow([_cell(values.get(item), mask) for item, mask in masks])
        rows += 1
    body = ("\ufeff" + text.getvalue()).encode("utf-8")
    made = FileExport.objects.create(
        application_id=context.caller.registration_id,
        consumer_id=context.caller.department_id,
        provider_id=context.described.provider_id,
        grant_id=context.grant.pk,
        resource_code=context.resource_code,
        version_number=context.version_number,
        items=list(items),
        rows=rows,
        digest=gm.sm3(body).hex(),
        exported_at=timezone.now(),
    )
    return made, body


def confirm_receipt(export_id, caller, received):
    """Record the digest the consumer computed for its export ``export_id`` and sign the
    receipt; once per export, by the application that took it."""
    if not (isinstance(received, str) and SM3_HEX.fullmatch(received.lower())):
        raise Refusal(400, "bad_request", _("Give the file's SM3 digest as 64 hexadecimal digits."))
    with transaction.atomic():
        export = (
            FileExport.objects.select_for_update()
            .filter(pk=export_id, application_id=caller.registration_id)
            .first()
        )
        if export is None:
            raise Refusal(404, "not_found", _("Your application took no such file."))
        if export.received_at is not None:
            raise Refusal(
                409, "already_received", _("The receipt for this file was given already.")
            )
        export.received_digest = received.lower()
        export.received_at = timezone.now()
        export.receipt_signature = gm.sm2_sign(keys.signing_key(), receipt_message(export)).hex()
        export.save(update_fields=["received_digest", "received_at", "receipt_signature"])
    return export


def receipt_message(export):
    """What a receipt's signature covers."""
    return (
        f"zhengyun-receipt:{export.pk}:{export.resource_code}:{export.digest}:"
        f"{export.received_digest}:{export.received_at.isoformat()}"
    ).encode()


def receipt_fields(export):
    return {
        "export": export.pk,
        "resource": export.resource_code,
        "sm3": export.digest,
        "received_sm3": export.received_digest,
        "intact": export.intact,
        "received_at": export.received_at.isoformat(),
        "signature": export.receipt_signature,
        "signed": receipt_message(export).decode(),
        "key": keys.fingerprint(keys.signing_key().public_key()),
    }


def _cell(value, mask):
    if value is None:
        return ""
    return mask(value) if mask else value
