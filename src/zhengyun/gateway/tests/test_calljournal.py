"""A served process's call journal (R-D3): calls answered are in the journal before their
answer leaves, reach the call log in batches, and a process that dies loses none of them
and adds none twice."""

import errno
import json
import os
import signal

import pytest
from django.db import OperationalError

from zhengyun.gateway import calljournal, calllog
from zhengyun.gateway.models import CallJournalMark, GatewayCall

pytestmark = pytest.mark.django_db


@pytest.fixture
def journal(tmp_path, monkeypatch):
    """This process's journal, flushed by the test rather than by its thread."""
    kept = calljournal.Journal(tmp_path)
    monkeypatch.setattr(calljournal, "_journal", kept)
    yield kept
    kept._file.close()


def _lines(path):
    """The lines copied into a journal file: zeros follow them up to its size."""
    return path.read_bytes().partition(b"\0")[0].splitlines()


def test_answered_calls_are_journaled_then_added_to_the_log_in_one_pass(journal, call):
    answers = [call(), call(page_size="1"), call(fields="婚姻状况")]
    assert [a.status_code for a in answers] == [200, 200, 400]
    assert not GatewayCall.objects.exists()
    assert len(_lines(journal._file.path)) == 3

    journal.flush()
    logged = list(GatewayCall.objects.order_by("id"))
    assert [c.request_id for c in logged] == [a.json()["request_id"] for a in answers]
    assert [(c.status, c.records) for c in logged] == [(200, 3), (200, 1), (400, 0)]
    assert logged[0].items == ["姓名", "公民身份号码"]
    mark = CallJournalMark.objects.get()
    assert (
        mark.offset
        == journal._file.end
        == sum(len(line) + 1 for line in _lines(journal._file.path))
    )
    journal.flush()  # nothing new: nothing added again
    assert GatewayCall.objects.count() == 3
    assert calllog.verify().intact


def test_stopping_adds_the_rest_and_leaves_no_file(journal, call, tmp_path):
    call()
    call()
    journal.stop()
    assert GatewayCall.objects.count() == 2
    assert not list(tmp_path.iterdir()) and not CallJournalMark.objects.exists()
    assert call().status_code == 200  # a stopped journal takes nothing: the call is inserted
    assert GatewayCall.objects.count() == 3


def test_a_pass_that_failed_after_its_commit_adds_nothing_twice(journal, call, monkeypatch):
    call()
    call()
    insert = calljournal._insert

    def committed_then_lost(*args):  # the connection drops as the commit is answered
        insert(*args)
        monkeypatch.setattr(calljournal, "_insert", insert)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(calljournal, "_insert", committed_then_lost)
    with pytest.raises(OperationalError):
        journal.flush()
    call()
    journal.flush()
    assert GatewayCall.objects.count() == 3


def _entry(served, request_id):
    grant = served["grant"]
    return (
        1_700_000_000_000_000,
        request_id,
        served["client"].application.client_id,
        served["client"].pk,
        grant.consumer_id,
        grant.provider_id,
        grant.pk,
        "101001/000001",
        "records",
        json.dumps(["姓名"]),
        1,
        200,
        "ok",
        "",
        "",
    )


def _die_after_journaling(directory, entries):
    """Journal ``entries`` in a child process that is then killed, as a crash would."""
    pid = os.fork()
    if pid == 0:  # the child touches no database
        dying = calljournal.Journal(directory)
        for values in entries:
            dying.append(values)
        os.kill(os.getpid(), signal.SIGKILL)
    os.waitpid(pid, 0)
    [left] = [p for p in directory.glob("*.jsonl") if p.name.split("-")[-2] == str(pid)]
    return left


def test_the_calls_of_a_process_that_died_are_added_once(journal, served, tmp_path):
    entries = [_entry(served, f"dead-{n}") for n in range(3)]
    left = _die_after_journaling(tmp_path, entries)
    # The dead process had added its first call before it died.
    first_end = len(_lines(left)[0]) + 1
    calljournal._insert(calljournal._File(left, -1, 0), entries[:1], first_end)
    # A process still alive keeps its file, locked, to itself.
    living = calljournal.Journal(tmp_path)
    living.append(_entry(served, "alive"))

    journal.recover_orphans()
    logged = GatewayCall.objects.order_by("id").values_list("request_id", flat=True)
    assert list(logged) == ["dead-0", "dead-1", "dead-2"]
    assert not left.exists() and not CallJournalMark.objects.filter(name=left.name).exists()
    assert living._file.path.exists()

    journal.recover_orphans()  # looked at again: nothing added twice
    assert GatewayCall.objects.count() == 3
    living.stop()
    assert "alive" in GatewayCall.objects.values_list("request_id", flat=True)


def test_a_line_that_is_not_a_journal_entry_is_kept_aside(journal, call, tmp_path):
    call()
    journal._file.put(b"{not json\n")
    call()
    journal.flush()
    assert GatewayCall.objects.count() == 2
    kept = journal._file.path.with_suffix(".rejected")
    assert kept.read_text() == "{not json\n"


@pytest.mark.django_db(transaction=True)
def test_a_call_the_database_refuses_is_kept_aside_and_the_rest_added(journal, served, tmp_path):
    refused = (*_entry(served, "no-such-grant")[:6], 10**9, *_entry(served, "")[7:])
    journal.append(_entry(served, "before"))
    journal.append(refused)
    journal.append(_entry(served, "after"))
    journal.flush()
    logged = GatewayCall.objects.order_by("id").values_list("request_id", flat=True)
    assert list(logged) == ["before", "after"]
    kept = journal._file.path.with_suffix(".rejected").read_text()
    assert json.loads(kept)[1] == "no-such-grant"
    assert CallJournalMark.objects.get().offset == journal._file.end


def test_a_full_file_is_added_and_removed_and_calls_go_on_in_a_new_one(
    journal, served, tmp_path, monkeypatch
):
    monkeypatch.setattr(calljournal, "CAPACITY", 1000)  # a few entries a file
    first = journal._file
    for n in range(8):
        assert journal.append(_entry(served, f"call-{n}"))
    assert journal._full[0] is first and journal._file is not first
    journal.flush()
    logged = GatewayCall.objects.order_by("id").values_list("request_id", flat=True)
    assert list(logged) == [f"call-{n}" for n in range(8)]
    assert not first.path.exists() and not CallJournalMark.objects.filter(name=first.name).exists()
    assert journal._file.path.exists() and not journal._full


def test_with_no_room_for_a_new_file_calls_are_inserted_one_by_one(journal, served, monkeypatch):
    monkeypatch.setattr(calljournal, "CAPACITY", 1000)

    def full_disk(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full_disk)
    added = [n for n in range(8) if journal.append(_entry(served, f"call-{n}"))]
    assert 0 < len(added) < 8
    assert not journal.append(_entry(served, "later"))  # the caller inserts it at once
    assert list(journal.path.glob("*.new")) == []  # no half-made file left


def test_a_line_a_process_was_copying_as_it_died_is_not_added_in_part(journal, served, tmp_path):
    entries = [_entry(served, f"dead-{n}") for n in range(2)]
    left = _die_after_journaling(tmp_path, entries)
    # A copy of a third line cut short: its start and its end, the middle never copied.
    with open(left, "r+b") as dead:
        dead.seek(sum(len(line) + 1 for line in _lines(left)))
        dead.write(b'[1700000000000000,"dead-2","')
        dead.seek(100, os.SEEK_CUR)
        dead.write(b'"ok","",""]\n')
    journal.recover_orphans()
    logged = GatewayCall.objects.order_by("id").values_list("request_id", flat=True)
    assert list(logged) == ["dead-0", "dead-1"]
    assert not left.exists() and not left.with_suffix(".rejected").exists()
