"""Writing the audit trail. ``record`` is called by every service inside its transaction."""

import dataclasses
import datetime
import decimal
import hmac
import ipaddress
import json
import multiprocessing
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require, require_some
from zhengyun.audit import archive, chain, keys, rows, sealer
from zhengyun.audit.chain import GENESIS_HASH
from zhengyun.audit.models import (
    AuditChainHead,
    AuditCheckpoint,
    AuditEvent,
    AuditPurge,
    AuditResult,
)
from zhengyun.core import context
from zhengyun.core.services import service
from zhengyun.crypto import gm
from zhengyun.crypto.fields import EncryptedTextField


def _json_value(value):
    if isinstance(
        value, datetime.datetime | datetime.date | datetime.time | decimal.Decimal | uuid.UUID
    ):
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
        value = _json_value(getattr(obj, field.attname))
        if isinstance(field, EncryptedTextField) and value:
            value = _masked(value)
        values[field.name] = value
    return values


def _masked(value):
    """Personal data stays out of the trail, which is never erased: a keyed digest shows
    that it changed without revealing it."""
    mark = hmac.new(settings.SECRET_KEY.encode(), str(value).encode(), "sm3").hexdigest()[:8]
    return f"[encrypted #{mark}]"


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
    # Unsealed: the worker's sealer gives it its place in the chain (``audit.sealer``).
    event.save(force_insert=True)
    return event


def _normalised_ip(address):
    """The address as the database will give it back (PostgreSQL rewrites inet values)."""
    if not address:
        return None
    try:
        return ipaddress.ip_address(address).compressed
    except ValueError:
        return None


def record_denial(*, actor, action, obj=None, detail="", result=AuditResult.DENIED):
    """Record a refused attempt in its own transaction (the refused one has rolled back):
    denied for want of permission, failed for bad input or a conflicting state."""
    object_id = None
    # A refused creation was rolled back: do not point at an id that does not exist.
    if (
        isinstance(obj, models.Model)
        and obj.pk is not None
        and not obj._meta.model._base_manager.filter(pk=obj.pk).exists()
    ):
        object_id = ""
    with transaction.atomic():
        return record(
            actor=actor,
            action=action,
            obj=obj,
            result=result,
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
    sealer.seal_all()
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


# From this many events on, ``verify_trail`` walks stretches of the chain in parallel.
PARALLEL_FROM = 100_000


def verify_trail(public_key=None, workers=1, parallel_from=PARALLEL_FROM):
    """Re-walk the whole chain (streaming, in sequence order) and report the first break,
    checking every checkpoint's SM2 signature with ``public_key`` (default: the platform's).

    With ``workers`` above one, a trail of ``parallel_from`` events or more is walked in
    stretches by that many forked processes (for the command line only: a web process has
    threads and must not fork); only if that finds anything wrong is it walked again in one
    pass, which names the first break exactly.
    """
    sealer.seal_all()  # events recorded until now are verified too
    public_key = public_key or keys.signing_key().public_key()
    checkpoints, bad_signature = {}, None
    for cp in AuditCheckpoint.objects.order_by("seq"):
        if not gm.sm2_verify(
            public_key, bytes.fromhex(cp.signature), keys.checkpoint_message(cp.seq, cp.hash)
        ):
            bad_signature = bad_signature or cp.seq
        checkpoints[cp.seq] = cp.hash
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq = head.seq if head else None
    start_seq, start_hash = 1, GENESIS_HASH
    purge = AuditPurge.objects.order_by("-through_seq").first()
    if purge is not None:
        if not _purge_is_proven(purge, checkpoints):
            return chain.Verification(
                0, purge.through_seq, purge.through_hash,
                chain.Break(purge.through_seq, None, "purge"), bad_signature,
            )  # fmt: skip
        # The removed stretch is proven by its signed checkpoint; walk on from there.
        start_seq, start_hash = purge.through_seq + 1, purge.through_hash
        checkpoints = {seq: h for seq, h in checkpoints.items() if seq > purge.through_seq}
    result = None
    if workers > 1 and head_seq and head_seq - start_seq + 1 >= parallel_from:
        result = _verify_in_stretches(start_seq, start_hash, head_seq, checkpoints, workers)
    if result is None:
        result = chain.verify(
            _chain_rows(start_seq),
            head_seq=head_seq,
            checkpoints=checkpoints,
            start_seq=start_seq,
            start_hash=start_hash,
        )
    return dataclasses.replace(result, bad_signature=bad_signature)


def _purge_is_proven(purge, checkpoints):
    """A purge stands if a checkpoint with a valid signature vouches for the hash it ends
    at, and the events were past the retention period when they went."""
    checkpoint = AuditCheckpoint.objects.filter(seq=purge.through_seq).first()
    retention = datetime.timedelta(days=settings.ZHENGYUN_AUDIT_RETENTION_DAYS)
    return (
        checkpoint is not None
        and checkpoints.get(purge.through_seq) == purge.through_hash
        and checkpoint.signed_at <= purge.before <= purge.purged_at - retention
    )


def purge_trail(before, now=None, *, actor=None):
    """Remove the events older than ``before`` up to the last signed checkpoint before it
    (the platform's retention job or ``zhengyun audit purge``); returns the purge record,
    or None when there is nothing to remove. Refuses anything younger than the retention
    period. Nobody can clear the trail: only whole stretches past retention and closed by a
    signed checkpoint go, and the purge itself is recorded and audited (as ``actor``'s, or
    the platform's own).

    The stretch is first written to an archive file (``audit.archive``) and read back: a
    stretch that does not verify — an event changed, missing or inserted — is not purged,
    so the database keeps the evidence and ``verify`` keeps naming the break."""
    now = now or timezone.now()
    days = settings.ZHENGYUN_AUDIT_RETENTION_DAYS
    if before > now - datetime.timedelta(days=days):
        raise ValidationError(
            _("Audit events are kept for %(days)d days; choose a date before %(date)s.")
            % {"days": days, "date": (now - datetime.timedelta(days=days)).date()}
        )
    checkpoint = AuditCheckpoint.objects.filter(signed_at__lte=before).order_by("-seq").first()
    done = AuditPurge.objects.order_by("-through_seq").first()
    if checkpoint is None or (done and done.through_seq >= checkpoint.seq):
        return None
    first_seq, prev_hash = (done.through_seq + 1, done.through_hash) if done else (1, GENESIS_HASH)
    try:
        name, digest = archive.write(first_seq, prev_hash, checkpoint)
    except FileExistsError:
        raise ValidationError(
            _(
                "The archive directory already holds a different file for sequences "
                "%(first)d to %(last)d; move it away before purging."
            )
            % {"first": first_seq, "last": checkpoint.seq}
        ) from None
    path = archive.directory() / name
    check = archive.verify(path, keys.signing_key().public_key())
    if not check.intact or check.digest != digest:
        path.unlink(missing_ok=True)  # no archive of a purge that did not happen
        raise ValidationError(
            _(
                "The events up to sequence %(seq)d do not verify against their signed "
                "checkpoint: nothing was purged; run the audit verification."
            )
            % {"seq": checkpoint.seq}
        )
    with transaction.atomic():
        # One purge at a time (the chain head's lock, held only for this step): a purge
        # that finds another has purged since it looked gives way to it.
        AuditChainHead.objects.select_for_update().filter(pk=1).first()
        latest = AuditPurge.objects.order_by("-through_seq").first()
        if (latest and latest.pk) != (done and done.pk):
            if latest.archive != name:
                path.unlink(missing_ok=True)
            return None
        removed = AuditEvent.objects.filter(seq__lte=checkpoint.seq)
        purge = AuditPurge.objects.create(
            through_seq=checkpoint.seq,
            through_hash=checkpoint.hash,
            before=before,
            purged_at=now,
            events=removed.count(),
            archive=name,
            archive_sm3=digest,
        )
        removed._raw_delete(removed.db)  # the triggers allow it below the recorded purge
        record(
            actor=actor,
            action="audit.purge",
            obj=purge,
            detail=f"through_seq={purge.through_seq} events={purge.events} before={before} "
            f"archive={name} sm3={digest}",
        )
    return purge


def _verify_in_stretches(first_seq, first_hash, head_seq, checkpoints, workers):
    """The verification of an intact chain from ``first_seq`` (whose previous hash must be
    ``first_hash``), walked in ``workers`` stretches at once; None if any stretch or seam
    between them is not intact (the caller then walks it in one)."""
    size = -(-(head_seq - first_seq + 1) // workers)
    starts = list(range(first_seq, head_seq + 1, size))
    seams = dict(AuditEvent.objects.filter(seq__in=starts).values_list("seq", "prev_hash"))
    if len(seams) != len(starts) or seams[first_seq] != first_hash:
        return None
    jobs = []
    for start in starts:
        end = min(start + size - 1, head_seq)
        last = end == head_seq
        jobs.append(
            (
                start,
                None if last else end,  # the last stretch runs on past the head, as one pass
                seams[start],
                {seq: h for seq, h in checkpoints.items() if start <= seq <= end or last},
                head_seq if last else None,
            )
        )
    connections.close_all()  # each process opens its own
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        stretches = pool.starmap(_verify_stretch, jobs)
    checked = 0
    for (_start, end, *_rest), stretch in zip(jobs, stretches, strict=True):
        if not stretch.intact or stretch.last_seq < (end or head_seq):
            return None
        if end is not None and seams[end + 1] != stretch.last_hash:  # the seam holds
            return None
        checked += stretch.checked
    last = stretches[-1]
    return chain.Verification(checked, last.last_seq, last.last_hash, None)


def _verify_stretch(start, end, start_hash, checkpoints, head_seq):
    try:
        return chain.verify(
            _chain_rows(start, end),
            head_seq=head_seq,
            checkpoints=checkpoints,
            start_seq=start,
            start_hash=start_hash,
        )
    finally:
        connections.close_all()


def _chain_rows(first=None, last=None, batch=5000):
    """Every sealed event's chained fields (from sequence ``first`` to ``last``, if given),
    in sequence order, as the ORM would give them back."""
    connection = transaction.get_connection()
    where, params = "WHERE seq IS NOT NULL", []
    if first is not None:
        where, params = "WHERE seq >= %s", [first]
    if last is not None:
        where, params = "WHERE seq BETWEEN %s AND %s", [first, last]
    as_row, loads = rows.as_row, json.loads
    with connection.chunked_cursor() as cursor:
        cursor.execute(rows.select_sql(connection, f"{where} ORDER BY seq"), params)
        while chunk := cursor.fetchmany(batch):
            for values in chunk:
                yield as_row(values, loads)


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
    # The export holds the events sealed by now: the verified chain, broken or not.
    summary["sealed_through"] = AuditChainHead.objects.values_list("seq", flat=True).first() or 0
    record(
        actor=actor,
        action="audit.export_events",
        detail=f"format={export_format}; events={events.count()}; "
        f"chain={'intact' if summary['intact'] else 'BROKEN'}",
    )
    return summary


@service("audit.acknowledge_alert")
def acknowledge_alert(alert, *, actor):
    """An audit administrator has looked at ``alert``; a new one is raised if it goes on."""
    require(actor, "change", alert)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = actor
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        record(actor=actor, action="audit.acknowledge_alert", obj=alert)
    return alert
