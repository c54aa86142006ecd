"""Retention: events may be purged only once older than the retention period (180 days or
more), only up to a signed checkpoint, and the purged stretch stays provable through it;
nobody has a way to clear the trail (GB/T 22239 level 3 安全审计, R-X4)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from zhengyun.audit import sealer, triggers
from zhengyun.audit.models import AuditEvent, AuditPurge
from zhengyun.audit.services import purge_trail, record, sign_checkpoint, verify_trail
from zhengyun.testing.cli import run_as

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def raw(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_nothing_younger_than_the_retention_period_is_purged(world):
    sign_checkpoint(every=1)
    count = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="180"):
        purge_trail(timezone.now() - 179 * DAY)
    assert AuditEvent.objects.count() == count and not AuditPurge.objects.exists()


def test_a_purged_stretch_stays_provable_and_the_rest_verifies(world):
    checkpoint = sign_checkpoint(every=1)
    for i in range(3):
        record(actor=None, action=f"test.after.{i}")
    later = timezone.now() + 200 * DAY  # as if 200 days went by
    purge = purge_trail(later - 181 * DAY, now=later, actor=world.auditor)
    assert (purge.through_seq, purge.through_hash) == (checkpoint.seq, checkpoint.hash)
    assert not AuditEvent.objects.filter(seq__lte=checkpoint.seq).exists()
    assert AuditEvent.objects.get(action="audit.purge").actor == world.auditor
    result = verify_trail()
    assert result.intact and result.checked == AuditEvent.objects.count()
    assert purge_trail(later - 181 * DAY, now=later) is None  # nothing more to remove


def test_the_database_still_refuses_what_was_not_purged(world):
    sign_checkpoint(every=1)
    record(actor=None, action="test.kept")
    later = timezone.now() + 200 * DAY
    purge = purge_trail(later - 181 * DAY, now=later)
    for statement in (
        "DELETE FROM audit_auditevent",
        "UPDATE audit_auditevent SET detail = 'x'",
        "DELETE FROM audit_auditpurge",
        "UPDATE audit_auditpurge SET through_seq = through_seq + 100",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            raw(statement)
    sealer.seal_all()
    assert AuditEvent.objects.filter(seq__gt=purge.through_seq).exists()


def test_a_purge_without_a_signed_checkpoint_behind_it_is_reported(world):
    sign_checkpoint(every=1)
    events = list(AuditEvent.objects.order_by("seq").values_list("seq", "hash"))
    cut_seq, cut_hash = events[len(events) // 2]  # no checkpoint there
    triggers.remove(connection)  # someone with the database owner's account
    raw(
        "INSERT INTO audit_auditpurge (through_seq, through_hash, before, purged_at, events) "
        "VALUES (%s, %s, %s, %s, 1)",
        cut_seq,
        cut_hash,
        timezone.now() - 400 * DAY,
        timezone.now(),
    )
    raw("DELETE FROM audit_auditevent WHERE seq <= %s", cut_seq)
    broken = verify_trail()
    assert broken.first_break.kind == "purge" and not broken.intact


def test_the_command_refuses_a_recent_date_and_needs_one(world):
    with pytest.raises(CommandError, match="180"):
        run_as(world.auditor, "audit", "purge", "--before", timezone.now().date().isoformat())
    with pytest.raises(CommandError, match="--before"):
        run_as(world.auditor, "audit", "purge")
    assert not AuditPurge.objects.exists()
