"""Writing the audit trail. ``record`` is called by every service inside its transaction."""

import dataclasses
import datetime
import decimal
import ipaddress
import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from zhengyun.accounts.access import require_some
from zhengyun.audit import chain, keys
from zhengyun.audit.chain import CHAINED_FIELDS, GENESIS_HASH, event_hash
from zhengyun.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent, AuditResult
from zhengyun.core import context
from zhengyun.core.services import service
from zhengyun.crypto import gm


def _json_value(value):
    if isinstance(value, datetime.datetime | datetime.date | decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def snapshot(obj, fields=None):
    """The object's concrete field values (foreign keys by id) as a JSON-ready dict."""
    values = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        # Secrets never enter the trail; automatic timestamps are not changes anyone made.
        if field.name in ("password", "digest") or getattr(field, "auto_now", False):
            continue
        values[field.name] = _json_value(getattr(obj, field.attname))
    return values


def diff(before, after):
    """``{field: [before, after]}`` for the fields whose values differ."""
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def record(
    *, actor, action, obj=None, changes=None, result=AuditResult.SUCCESS, detail="", object_id=None
):
    """Append one audit event for ``action`` by ``actor`` (None for the platform itself)."""
    if object_id is None:
        object_id = str(obj.pk) if isinstance(obj, models.Model) and obj.pk is not None else ""
    ctx = context.current()
    department = getattr(actor, "department", None) if actor is not None else None
    provider = getattr(actor, "service_provider", None) if actor is not None else None
    region = department.region if department else (provider.region if provider else None)
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_id, actor_label = actor.pk, actor.get_username()
    else:
        actor_id, actor_label = None, "system" if ctx.channel in ("task", "cli") else "anonymous"
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor_id=actor_id,
        actor_label=actor_label,
        actor_department=department,
        actor_region_code=region.code if region else "",
        source_ip=_normalised_ip(ctx.source_ip),
        user_agent=ctx.user_agent,
        channel=ctx.channel,
        request_id=ctx.request_id,
        action=action,
        object_type=_object_type(obj),
        object_id=object_id,
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes or {},
        result=result,
        detail=str(detail)[:500],
    )
    return _append(event)


def _append(event):
    """Chain ``event`` after the current head and store both, under the head's row lock.

    Inside a service's transaction no savepoint is needed: if the insert fails, the service
    fails and everything rolls back together. The head is read and moved with two plain
    statements: every state change in the platform passes through here.
    """
    connection = transaction.get_connection()
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, hash FROM {table} WHERE id = 1{lock}")  # noqa: S608
        head = cursor.fetchone()
        if head is None:  # a database emptied by hand (or by a test) starts a new chain
            AuditChainHead.objects.create(pk=1, seq=0, hash=GENESIS_HASH)
            head = (0, GENESIS_HASH)
        event.seq, event.prev_hash = head[0] + 1, head[1]
        event.hash = event_hash({name: getattr(event, name) for name in CHAINED_FIELDS})
        event.save(force_insert=True)
        cursor.execute(
            f"UPDATE {table} SET seq = %s, hash = %s WHERE id = 1",  # noqa: S608
            [event.seq, event.hash],
        )
    return event


def _normalised_ip(address):
    """The address as the database will give it back (PostgreSQL rewrites inet values)."""
    if not address:
        return None
    try:
        return ipaddress.ip_address(address).compressed
    except ValueError:
        return None


def record_denial(*, actor, action, obj=None, detail=""):
    """Record a refused attempt in its own transaction (the refused one has rolled back)."""
    object_id = None
    # A refused creation was rolled back: do not point at an id that does not exist.
    if (
        isinstance(obj, models.Model)
        and obj.pk is not None
        and not type(obj)._base_manager.filter(pk=obj.pk).exists()
    ):
        object_id = ""
    with transaction.atomic():
        return record(
            actor=actor,
            action=action,
            obj=obj,
            result=AuditResult.DENIED,
            detail=detail,
            object_id=object_id,
        )


def _object_type(obj):
    if isinstance(obj, models.Model):
        return f"{obj._meta.app_label}.{obj._meta.model_name}"
    return ""


def sign_checkpoint(*, every=None, interval=None):
    """Sign the chain head if ``every`` events were added since the last checkpoint, or
    ``interval`` has passed and any were; returns the new checkpoint or None (periodic job)."""
    if every is None:
        every = settings.ZHENGYUN_AUDIT_CHECKPOINT_EVERY
    if interval is None:
        interval = datetime.timedelta(minutes=settings.ZHENGYUN_AUDIT_CHECKPOINT_MINUTES)
    head = AuditChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
    last = AuditCheckpoint.objects.order_by("-seq").first()
    if head is None or head[0] == 0 or (last and last.seq >= head[0]):
        return None
    due = last is None or head[0] - last.seq >= every or timezone.now() - last.signed_at >= interval
    if not due:
        return None
    key = keys.signing_key()
    return AuditCheckpoint.objects.create(
        seq=head[0],
        hash=head[1],
        signature=gm.sm2_sign(key, keys.checkpoint_message(*head)).hex(),
        key_fingerprint=keys.fingerprint(key.public_key()),
    )


def verify_trail(public_key=None):
    """Re-walk the whole chain (streaming, in sequence order) and report the first break,
    checking every checkpoint's SM2 signature with ``public_key`` (default: the platform's)."""
    public_key = public_key or keys.signing_key().public_key()
    checkpoints, bad_signature = {}, None
    for cp in AuditCheckpoint.objects.order_by("seq"):
        if not gm.sm2_verify(
            public_key, bytes.fromhex(cp.signature), keys.checkpoint_message(cp.seq, cp.hash)
        ):
            bad_signature = bad_signature or cp.seq
        checkpoints[cp.seq] = cp.hash
    rows = (
        AuditEvent.objects.order_by("seq")
        .values("id", "hash", *CHAINED_FIELDS)
        .iterator(chunk_size=5000)
    )
    head = AuditChainHead.objects.filter(pk=1).first()
    result = chain.verify(rows, head_seq=head.seq if head else None, checkpoints=checkpoints)
    return dataclasses.replace(result, bad_signature=bad_signature)


# Everything the hash covers, and the hash: anyone can re-verify an export on their own.
EXPORT_FIELDS = (*CHAINED_FIELDS, "hash")


def verification_summary(result):
    """A JSON-ready account of a verification, shipped with every export."""
    return {
        "intact": result.intact,
        "events_checked": result.checked,
        "last_seq": result.last_seq,
        "last_hash": result.last_hash,
        "first_break": str(result.first_break) if result.first_break else None,
        "bad_signature_at_seq": result.bad_signature,
    }


@service("audit.export_events")
def export_events(events, *, actor, export_format):
    """Let ``actor`` export ``events`` (already restricted to what they may see): verify the
    whole chain first, record the export, and return the verification summary. Exporting
    the trail is itself an audited act."""
    require_some(actor, "view", AuditEvent)
    summary = verification_summary(verify_trail())
    record(
        actor=actor,
        action="audit.export_events",
        detail=f"format={export_format}; events={events.count()}; "
        f"chain={'intact' if summary['intact'] else 'BROKEN'}",
    )
    return summary
