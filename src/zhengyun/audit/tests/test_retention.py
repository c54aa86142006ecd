"""Retention: events may be purged only once older than the retention period (180 days or
more), only up to a signed checkpoint, and the purged stretch stays provable through it;
nobody has a way to clear the trail (GB/T 22239 level 3 安全审计, R-X4)."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone, translation

from zhengyun.audit import archive, keys, sealer, triggers
from zhengyun.audit.models import AuditEvent, AuditPurge
from zhengyun.audit.services import purge_trail, record, sign_checkpoint, verify_trail
from zhengyun.audit.tasks import purge_past_retention_task
from zhengyun.crypto import gm
from zhengyun.testing.cli import run, run_as

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Refusals are read in English whatever the default language."""
    with translation.override("en"):
        yield


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
        "INSERT INTO audit_auditpurge "
        "(through_seq, through_hash, before, purged_at, events, archive, archive_sm3) "
        "VALUES (%s, %s, %s, %s, 1, '', '')",
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


def platform_key():
    return keys.signing_key().public_key()


def purge_now():
    """Sign the chain head and purge through it, as if 200 days had gone by."""
    sign_checkpoint(every=1)
    later = timezone.now() + 200 * DAY
    return purge_trail(later - 181 * DAY, now=later)


def purged_through_a_checkpoint(world, extra=3):
    checkpoint = sign_checkpoint(every=1)
    for i in range(extra):
        record(actor=None, action=f"test.after.{i}")
    later = timezone.now() + 200 * DAY
    return checkpoint, purge_trail(later - 181 * DAY, now=later, actor=world.auditor)


def test_a_purge_archives_the_stretch_which_verifies_on_its_own(world):
    checkpoint, purge = purged_through_a_checkpoint(world)
    path = settings.ZHENGYUN_AUDIT_ARCHIVE_DIR / purge.archive
    check = archive.verify(path, platform_key())
    assert check.intact and check.events == purge.events == checkpoint.seq
    assert check.digest == purge.archive_sm3
    output = run("audit", "verify-archive", str(path), lines=())
    assert "archive intact" in output and purge.archive_sm3 in output
    assert purge.archive_sm3 in AuditEvent.objects.get(action="audit.purge").detail

    # The next purge archives from where the last one ended.
    second_checkpoint = sign_checkpoint(every=1)
    later = timezone.now() + 200 * DAY
    second = purge_trail(later - 181 * DAY, now=later)
    again = archive.verify(settings.ZHENGYUN_AUDIT_ARCHIVE_DIR / second.archive, platform_key())
    assert again.intact and again.events == second_checkpoint.seq - checkpoint.seq


def test_a_changed_or_shortened_archive_is_caught(world):
    _, purge = purged_through_a_checkpoint(world)
    path = settings.ZHENGYUN_AUDIT_ARCHIVE_DIR / purge.archive
    lines = path.read_text().splitlines(keepends=True)
    changed = lines[3].replace('"result": "success"', '"result": "failed"')
    assert changed != lines[3]
    path.write_text("".join([*lines[:3], changed, *lines[4:]]))
    check = archive.verify(path, platform_key())
    assert check.first_break == 3 and check.digest != purge.archive_sm3
    with pytest.raises(CommandError, match="BROKEN at sequence 3"):
        run("audit", "verify-archive", str(path), lines=())

    path.write_text("".join(lines[:-1]))  # the last event cut off
    assert archive.verify(path, platform_key()).first_break == len(lines) - 1
    other = settings.ZHENGYUN_AUDIT_ARCHIVE_DIR / "notes.txt"
    other.write_text('{"anything": 1}\n')
    with pytest.raises(CommandError, match="not an audit archive"):
        run("audit", "verify-archive", str(other), lines=())


def test_a_stretch_that_does_not_verify_is_kept_not_purged(world):
    sign_checkpoint(every=1)
    triggers.remove(connection)  # someone with the database owner's account
    raw("UPDATE audit_auditevent SET detail = 'rewritten' WHERE seq = 2")
    triggers.install(connection)
    count = AuditEvent.objects.count()
    later = timezone.now() + 200 * DAY
    with pytest.raises(ValidationError, match="do not verify"):
        purge_trail(later - 181 * DAY, now=later)
    assert AuditEvent.objects.count() == count and not AuditPurge.objects.exists()
    assert not list(settings.ZHENGYUN_AUDIT_ARCHIVE_DIR.iterdir())  # no archive of it left
    assert verify_trail().first_break.seq == 2  # the evidence is still where it was


def backdate_checkpoints(days):
    triggers.remove(connection)
    raw("UPDATE audit_auditcheckpoint SET signed_at = %s", timezone.now() - days * DAY)
    triggers.install(connection)


def test_the_nightly_job_purges_only_when_a_period_is_configured(world):
    sign_checkpoint(every=1)
    backdate_checkpoints(400)
    count = AuditEvent.objects.count()
    assert purge_past_retention_task.call_local() == 0  # by default only people purge
    assert AuditEvent.objects.count() == count
    with override_settings(ZHENGYUN_AUDIT_PURGE_AFTER_DAYS=365):
        removed = purge_past_retention_task.call_local()
    purge = AuditPurge.objects.get()
    assert removed == purge.events > 0 and purge.archive
    assert AuditEvent.objects.get(action="audit.purge").actor is None  # the platform's act
    assert verify_trail().intact


def test_the_nightly_job_leaves_events_younger_than_its_period(world):
    sign_checkpoint(every=1)
    backdate_checkpoints(300)
    with override_settings(ZHENGYUN_AUDIT_PURGE_AFTER_DAYS=365):
        assert purge_past_retention_task.call_local() == 0
    assert not AuditPurge.objects.exists()


def test_archives_verify_together_and_a_missing_one_is_named(world):
    first, second, third = purge_now(), purge_now(), purge_now()
    folder = settings.ZHENGYUN_AUDIT_ARCHIVE_DIR
    every = [str(folder / purge.archive) for purge in (first, second, third)]
    assert "archive intact" in run("audit", "verify-archive", *every, lines=())
    with pytest.raises(CommandError, match=f"from sequence {first.through_seq + 1} are in none"):
        run("audit", "verify-archive", every[0], every[2], lines=())


def test_an_archive_is_checked_with_the_platforms_key_not_one_it_brings(world, tmp_path):
    purge = purge_now()
    path = settings.ZHENGYUN_AUDIT_ARCHIVE_DIR / purge.archive
    stranger = tmp_path / "other.pem"
    stranger.write_bytes(gm.public_key_to_pem(gm.sm2_generate_key().public_key()))
    assert not archive.verify(path, gm.load_public_key(stranger.read_bytes())).signed
    with pytest.raises(CommandError, match="signature does not verify"):
        run("audit", "verify-archive", str(path), "--public-key", str(stranger), lines=())
    mine = tmp_path / "platform.pem"
    mine.write_bytes(keys.public_key_pem())
    output = run("audit", "verify-archive", str(path), "--public-key", str(mine), lines=())
    assert keys.fingerprint(platform_key()) in output and "archive intact" in output


def test_a_different_file_already_under_the_archives_name_is_kept_and_nothing_purged(world):
    sign_checkpoint(every=1)
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    folder = settings.ZHENGYUN_AUDIT_ARCHIVE_DIR
    folder.mkdir(parents=True)
    other = folder / archive.file_name(1, head)
    other.write_text("another trail's archive\n")
    count = AuditEvent.objects.count()
    later = timezone.now() + 200 * DAY
    with pytest.raises(ValidationError, match="different file"):
        purge_trail(later - 181 * DAY, now=later)
    assert other.read_text() == "another trail's archive\n"
    assert AuditEvent.objects.count() == count and not AuditPurge.objects.exists()
