"""The tamper-evident trail: every event is chained with SM3, the database refuses changes,
and ``zhengyun audit verify`` names the first event that was changed, deleted, inserted or
reordered (R-X4 accountability; GB/T 22239 安全审计)."""

import datetime
import threading

import pytest
from django.core.management import CommandError
from django.db import DatabaseError, connection, transaction

from zhengyun.audit import sealer, triggers
from zhengyun.audit.chain import CHAINED_FIELDS, GENESIS_HASH, event_hash
from zhengyun.audit.models import AuditChainHead, AuditEvent
from zhengyun.audit.services import record, verify_trail
from zhengyun.testing.cli import run_as

pytestmark = pytest.mark.django_db


def raw(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def events():
    sealer.seal_all()
    return list(AuditEvent.objects.order_by("seq"))


def test_every_event_is_chained_to_the_one_before(world):
    trail = events()
    assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
    assert trail[0].prev_hash == GENESIS_HASH
    for before, after in zip(trail, trail[1:], strict=False):
        assert after.prev_hash == before.hash
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (trail[-1].seq, trail[-1].hash)
    result = verify_trail()
    assert result.intact and result.checked == len(trail)


def test_an_event_is_recorded_unsealed_and_sealed_in_order(world):
    sealer.seal_all()
    first = record(actor=None, action="test.first")
    second = record(actor=None, action="test.second")
    stored = AuditEvent.objects.get(pk=first.pk)
    assert (stored.seq, stored.prev_hash, stored.hash) == (None, "", "")
    assert sealer.seal_all() == 2
    head = AuditChainHead.objects.get()
    first, second = AuditEvent.objects.get(pk=first.pk), AuditEvent.objects.get(pk=second.pk)
    assert second.seq == first.seq + 1 == head.seq and second.prev_hash == first.hash
    values = {name: getattr(second, name) for name in CHAINED_FIELDS}
    assert second.hash == event_hash(values) == head.hash
    assert sealer.seal_all() == 0
    assert verify_trail().intact


@pytest.mark.parametrize(
    "moment",
    [
        datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),  # on the second: no microseconds
        datetime.datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=datetime.UTC),
        datetime.datetime(
            2026, 3, 1, 8, 0, 0, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
        ),
    ],
)
def test_the_sealed_hash_is_the_canonical_one_whatever_the_time(world, moment):
    """The sealer reads the time as the database writes it; the hash must be the one
    anybody computes from the event as exported."""
    event = AuditEvent(
        occurred_at=moment,
        actor_label="system",
        channel="cli",
        request_id="r",
        action="test.moment",
        result="success",
    )
    event.save(force_insert=True)
    sealer.seal_all()
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.hash == event_hash({name: getattr(event, name) for name in CHAINED_FIELDS})


@pytest.mark.parametrize(
    "statement",
    [
        # Sealing may give an unsealed event its place and nothing more...
        "UPDATE audit_auditevent SET detail = 'x', seq = 999999, prev_hash = 'a', hash = 'b' "
        "WHERE hash = ''",
        "UPDATE audit_auditevent SET detail = 'rewritten' WHERE hash = ''",
        "UPDATE audit_auditevent SET seq = 999999 WHERE hash = ''",
        # ... and a sealed event cannot be sealed again.
        "UPDATE audit_auditevent SET seq = seq + 999999, hash = 'b' WHERE hash <> ''",
    ],
)
def test_only_sealing_may_touch_an_unsealed_event(world, statement):
    sealer.seal_all()
    record(actor=None, action="test.unsealed")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(statement)
    assert sealer.seal_all() == 1
    assert verify_trail().intact


def test_the_sealing_exception_names_every_other_column():
    columns = {f.column for f in AuditEvent._meta.concrete_fields}
    assert set(triggers.SEALED_AS_IS) == columns - set(triggers.SEAL_COLUMNS)


@pytest.mark.django_db(transaction=True)
def test_the_worker_seals_in_the_background():
    background = sealer.Sealer(poll_seconds=0.05)
    background.start()
    try:
        event = record(actor=None, action="test.background")
        for _ in range(100):
            if AuditEvent.objects.get(pk=event.pk).hash:
                break
            threading.Event().wait(0.05)
    finally:
        background.stop()
    assert AuditEvent.objects.get(pk=event.pk).seq == AuditChainHead.objects.get().seq


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET detail = 'rewritten'",
        "DELETE FROM audit_auditevent",
    ],
)
def test_the_database_refuses_changes_to_the_trail(world, statement):
    count = AuditEvent.objects.count()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(statement)
    assert AuditEvent.objects.count() == count
    assert verify_trail().intact


def _tamper(sql, *params):
    """What someone with the database's owner account could do: lift the triggers first."""
    triggers.remove(connection)
    raw(sql, *params)


def test_verify_names_a_changed_event(world):
    target = events()[5]
    _tamper("UPDATE audit_auditevent SET detail = 'forged' WHERE id = %s", target.pk)
    found = verify_trail().first_break
    assert (found.seq, found.event_id, found.kind) == (target.seq, target.pk, "changed")


def test_verify_names_a_deleted_event(world):
    target = events()[5]
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", target.pk)
    found = verify_trail().first_break
    assert (found.seq, found.kind) == (target.seq + 1, "deleted")


def test_verify_notices_events_cut_from_the_end(world):
    last = events()[-1]
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", last.pk)
    found = verify_trail().first_break
    assert (found.seq, found.kind) == (last.seq - 1, "truncated")


def test_verify_finds_an_inserted_event_even_with_a_valid_own_hash(world):
    trail = events()
    victim = trail[3]
    # A forger makes room after event 4 and slips in an event whose own hash is correct and
    # which links to event 4; the real event that now follows no longer links to it.
    _tamper("UPDATE audit_auditevent SET seq = seq + 1000000 WHERE seq > %s", victim.seq)
    raw("UPDATE audit_auditevent SET seq = seq - 999999 WHERE seq > 1000000")
    forged = {name: getattr(victim, name) for name in CHAINED_FIELDS}
    forged.update(seq=victim.seq + 1, action="accounts.forged", prev_hash=victim.hash)
    forged["hash"] = event_hash(forged)
    AuditEvent(**forged).save(force_insert=True)
    found = verify_trail().first_break
    assert found.seq == victim.seq + 2
    assert found.event_id == trail[4].pk and found.kind in ("inserted", "changed")


def test_verify_names_reordered_events(world):
    first, second = events()[2:4]
    _tamper("UPDATE audit_auditevent SET seq = -1 WHERE id = %s", first.pk)
    raw("UPDATE audit_auditevent SET seq = %s WHERE id = %s", first.seq, second.pk)
    raw("UPDATE audit_auditevent SET seq = %s WHERE id = %s", second.seq, first.pk)
    found = verify_trail().first_break
    assert (found.seq, found.event_id) == (first.seq, second.pk)


def test_the_verify_command_reports_and_fails(world):
    assert "audit trail intact" in run_as(world.auditor, "audit", "verify")
    target = events()[1]
    _tamper(
        "UPDATE audit_auditevent SET result = 'success' , detail = 'x' WHERE id = %s", target.pk
    )
    with pytest.raises(CommandError) as failed:
        run_as(world.auditor, "audit", "verify")
    assert failed.value.returncode == 1
    assert f"sequence {target.seq}" in str(failed.value) and "changed" in str(failed.value)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_extend_one_unbroken_chain():
    errors = []

    def writer(n):
        try:
            for i in range(10):
                record(actor=None, action=f"test.concurrent.{n}.{i}")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEvent.objects.count() == 60
    assert verify_trail().intact


def test_checkpoints_catch_a_chain_recomputed_after_a_change(world):
    from zhengyun.audit.services import sign_checkpoint

    assert sign_checkpoint(every=1) is not None
    trail = events()
    # A forger with the database's owner account rewrites event 3 and recomputes every hash
    # after it, so the chain alone looks intact again.
    triggers.remove(connection)
    previous = trail[1].hash
    for event in trail[2:]:
        values = {name: getattr(event, name) for name in CHAINED_FIELDS}
        if event.seq == 3:
            values["detail"] = "rewritten"
        values["prev_hash"] = previous
        previous = event_hash(values)
        raw(
            "UPDATE audit_auditevent SET detail = %s, prev_hash = %s, hash = %s WHERE id = %s",
            values["detail"],
            values["prev_hash"],
            previous,
            event.pk,
        )
    raw("UPDATE audit_auditchainhead SET hash = %s", previous)
    found = verify_trail().first_break
    assert (found.seq, found.kind) == (trail[-1].seq, "checkpoint")


def test_checkpoint_signatures_are_checked_and_verifiable_by_openssl(world, tmp_path):
    import shutil
    import subprocess

    from zhengyun.audit import keys
    from zhengyun.audit.models import AuditCheckpoint
    from zhengyun.audit.services import sign_checkpoint

    checkpoint = sign_checkpoint(every=1)
    assert sign_checkpoint(every=1) is None  # nothing new since
    if shutil.which("openssl"):
        (tmp_path / "pub.pem").write_bytes(keys.public_key_pem())
        (tmp_path / "msg").write_bytes(keys.checkpoint_message(checkpoint.seq, checkpoint.hash))
        (tmp_path / "sig").write_bytes(bytes.fromhex(checkpoint.signature))
        checked = subprocess.run(
            [
                "openssl",
                "dgst",
                "-sm3",
                "-verify",
                tmp_path / "pub.pem",
                "-sigopt",
                "distid:1234567812345678",
                "-signature",
                tmp_path / "sig",
                tmp_path / "msg",
            ],
            capture_output=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stderr
    triggers.remove(connection)
    raw(
        "UPDATE audit_auditcheckpoint SET signature = %s WHERE id = %s",
        AuditCheckpoint.objects.get().signature[:-2] + "00",
        checkpoint.pk,
    )
    assert verify_trail().bad_signature == checkpoint.seq


def test_cutting_events_after_the_last_checkpoint_and_the_head_is_noticed(world):
    from zhengyun.audit.services import sign_checkpoint

    checkpoint = sign_checkpoint(every=1)
    _tamper("DELETE FROM audit_auditevent WHERE seq >= %s", checkpoint.seq - 1)
    raw("UPDATE audit_auditchainhead SET seq = %s", checkpoint.seq - 2)
    assert verify_trail().first_break.kind == "truncated"


def test_checkpoints_are_signed_when_due(world):
    import datetime

    from django.utils import timezone

    from zhengyun.audit.models import AuditCheckpoint
    from zhengyun.audit.services import sign_checkpoint

    first = sign_checkpoint(every=1000)  # no checkpoint yet: the first is always due
    assert first is not None
    record(actor=None, action="test.later")
    assert sign_checkpoint(every=1000) is None  # one event, and ten minutes have not gone by
    # Checkpoints cannot be aged by hand (they are append-only): shorten the interval instead.
    assert sign_checkpoint(every=1000, interval=datetime.timedelta(0)) is not None
    assert timezone.now() >= AuditCheckpoint.objects.order_by("-seq").first().signed_at


def test_the_periodic_job_signs_the_head_every_minute(world):
    import datetime

    from huey.contrib.djhuey import HUEY

    from zhengyun.audit.models import AuditCheckpoint
    from zhengyun.audit.tasks import sign_audit_checkpoint_task

    task = next(
        t for t in HUEY._registry.periodic_tasks if t.name.endswith("sign_audit_checkpoint_task")
    )
    assert task.validate_datetime(datetime.datetime(2026, 1, 1, 10, 7))
    seq = sign_audit_checkpoint_task.call_local()
    assert AuditCheckpoint.objects.get().seq == seq == AuditEvent.objects.latest("seq").seq
    from zhengyun.jobs.models import JobRun

    assert JobRun.objects.get().result == str(seq)


@pytest.mark.django_db(transaction=True)
def test_a_long_trail_is_walked_in_parallel_stretches_with_the_same_findings():
    from zhengyun.audit.services import _verify_in_stretches

    for i in range(41):
        record(actor=None, action=f"test.long.{i}")
    sealer.seal_all()
    # Three processes walk 1–14, 15–28 and 29–41; their seams are checked.
    stretched = _verify_in_stretches(1, GENESIS_HASH, 41, {}, workers=3)
    assert stretched.intact and (stretched.checked, stretched.last_seq) == (41, 41)
    assert verify_trail(workers=3, parallel_from=1) == verify_trail()

    _tamper("UPDATE audit_auditevent SET detail = 'forged' WHERE seq = 20")
    assert (
        _verify_in_stretches(1, GENESIS_HASH, 41, {}, workers=3) is None
    )  # so it is walked again in one
    broken = verify_trail(workers=3, parallel_from=1)
    forged = AuditEvent.objects.get(seq=20).pk
    assert str(broken.first_break) == f"event at sequence 20 (event id {forged}) was changed"


@pytest.mark.django_db(transaction=True)
def test_a_deleted_seam_or_a_rewritten_stretch_is_caught_in_parallel():
    from zhengyun.audit.services import _verify_in_stretches

    for i in range(30):
        record(actor=None, action=f"test.seam.{i}")
    sealer.seal_all()
    # Stretch two recomputed from its own first event on: valid inside, but the seam breaks.
    first = AuditEvent.objects.get(seq=16)
    _tamper("UPDATE audit_auditevent SET prev_hash = %s WHERE seq = 16", "f" * 64)
    previous = "f" * 64
    for event in AuditEvent.objects.filter(seq__gte=16).order_by("seq"):
        values = {name: getattr(event, name) for name in CHAINED_FIELDS}
        values["prev_hash"] = previous
        previous = event_hash(values)
        raw(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE id = %s",
            values["prev_hash"],
            previous,
            event.pk,
        )
    raw("UPDATE audit_auditchainhead SET hash = %s", previous)
    assert _verify_in_stretches(1, GENESIS_HASH, 30, {}, workers=2) is None
    assert verify_trail(workers=2, parallel_from=1).first_break.seq == first.seq
    raw("DELETE FROM audit_auditevent WHERE seq = 16")
    assert _verify_in_stretches(1, GENESIS_HASH, 30, {}, workers=2) is None
    assert verify_trail(workers=2, parallel_from=1).first_break.kind == "deleted"
