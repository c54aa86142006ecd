"""The call journal of a served process (R-D3): each call's log entry is appended to a file
before the call is answered, and a thread of the same process adds what was appended to the
call log in batches.

Inserting each entry in its own transaction cost a served call about a quarter of its CPU
(``benchmarks/gateway_throughput.py``): a commit per call, and on SQLite each commit empties
the page cache of the process's other connections. Here a call copies one line into its
process's journal, a file mapped into memory, and the flusher inserts the lines copied since
its last pass in one transaction, which also records how far into the file it has read
(``CallJournalMark``). The copy is no system call: a ``write`` would let go of Python's
global lock and wait to take it back from whichever thread holds it, with the journal's own
lock held — every other call then queued behind it, which cost a third of the gateway's
throughput. The kernel owns the mapped pages, so an entry outlives its process, though not
a crash of the machine in the next fraction of a second (like a commit to SQLite in WAL
mode at ``synchronous=NORMAL``, and unlike one to PostgreSQL). A file's space is reserved
when it is made, so a full disk refuses a new file rather than fails a copy into it. A
process holds a lock on its file while it lives. A file nobody holds belongs to a process
that died: the next flusher on the same data directory to look adds its lines from the
recorded offset and removes it, so a process that crashes loses no entry and none is added
twice.

Only a served process (``zhengyun serve``) keeps a journal; elsewhere — tests, commands,
the worker — ``add`` inserts the entry at once.
"""

import fcntl
import functools
import json
import logging
import mmap
import os
import socket
import threading
import uuid

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction

from zhengyun.gateway.models import CallJournalMark, GatewayCall

logger = logging.getLogger("zhengyun.gateway")

INTERVAL = 0.2  # seconds between the flusher's passes
ORPHANS_EVERY = 300  # passes between looks for the files of processes that died
CAPACITY = 16 * 1024 * 1024  # bytes a journal file holds; a full one is added and removed
READ_MOST = 4 * 1024 * 1024  # bytes a pass reads at most
STOP_WAIT = 30  # seconds a stopping process waits for the flusher's pass to end

LOGGED_FIELDS = (
    "at_us",
    "request_id",
    "client_id",
    "application",
    "consumer",
    "provider",
    "grant",
    "resource_code",
    "operation",
    "items",
    "records",
    "status",
    "result",
    "prev_hash",
    "hash",
)

_journal = None


def add(values):
    """Log one call, given as its values in ``LOGGED_FIELDS`` order: in this process's
    journal when it keeps one, else inserted at once."""
    journal = _journal
    if journal is None or not journal.append(values):
        with connection.cursor() as cursor:
            insert_calls(cursor, [values])


def insert_calls(cursor, rows):
    """Insert log entries, each given as its values in ``LOGGED_FIELDS`` order: on
    PostgreSQL by COPY, where psycopg's ``executemany`` would bind each row in Python."""
    if connection.vendor != "postgresql":
        cursor.executemany(_insert_statement(), rows)
        return
    with connection.wrap_database_errors, cursor.cursor.copy(_copy_statement()) as copy:
        for row in rows:
            copy.write_row(row)


@functools.cache
def _insert_statement():
    marks = ", ".join(["%s"] * len(LOGGED_FIELDS))
    return f"INSERT INTO {_table_and_columns()} VALUES ({marks})"  # noqa: S608 (names from models)


@functools.cache
def _copy_statement():
    return f"COPY {_table_and_columns()} FROM STDIN"


def _table_and_columns():
    quote = connection.ops.quote_name
    columns = ", ".join(quote(GatewayCall._meta.get_field(n).column) for n in LOGGED_FIELDS)
    return f"{quote(GatewayCall._meta.db_table)} ({columns})"


def start():
    """Keep this process's calls in a journal from now on; first add what processes that
    died left behind."""
    global _journal
    _journal = Journal(settings.DATA_DIR / "call-journal")
    _journal.start()


def stop():
    """Flush what is left, remove this process's file and go back to inserting each call."""
    global _journal
    journal, _journal = _journal, None
    if journal is not None:
        journal.stop()


class Journal:
    def __init__(self, path):
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()  # between writers and a change of file
        self._closed = False
        self._full = []  # files the writers filled, oldest first, for the flusher to finish
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="call-journal", daemon=True)
        self._file = self._new_file()

    def start(self):
        try:
            self.recover_orphans()
        except DatabaseError:
            logger.exception("the calls of stopped processes wait for the database")
        finally:
            connection.close()  # the serving threads have their own
        self._thread.start()

    def stop(self):
        with self._lock:
            self._closed = True
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_WAIT)
        left = [*self._full, self._file]
        if self._thread.is_alive():  # its pass hangs: the files wait for the next start
            logger.error("the call journal %s waits for the next start", self._file.name)
        else:
            try:
                for journal_file in left:
                    self._retire(journal_file)
            except DatabaseError:
                logger.exception("the calls left in %s wait for the next start", self.path)
        for journal_file in left:
            journal_file.close()

    def append(self, values):
        """Copy a call's entry into the journal; False when it must be inserted instead."""
        line = json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n"
        data = line.encode()
        with self._lock:
            if self._closed:
                return False
            if not self._file.room_for(data):
                try:
                    fresh = self._new_file()
                except OSError:  # a full disk, say
                    self._closed = True
                    logger.error("no room for a call journal: calls are inserted one by one")
                    return False
                self._full.append(self._file)
                self._file = fresh
            return self._file.put(data)

    def _run(self):
        passes, failing = 0, False
        while not self._stopped.wait(INTERVAL):
            passes += 1
            try:
                self.flush()
                if passes % ORPHANS_EVERY == 0:
                    self.recover_orphans()
            except Exception:  # the thread must outlive any one pass: the lines wait
                if not failing:  # once an outage, not five times a second
                    logger.exception("the call journal could not be flushed")
                failing = True
                connection.close()
            else:
                failing = False
        connection.close()

    def flush(self):
        """Add the lines copied since the last pass: those of the files the writers filled,
        which are then removed, and those of the file they write to now."""
        while self._full:
            filled = self._full[0]
            self._retire(filled)
            filled.close()
            self._full.pop(0)
        _add(self._file)

    def recover_orphans(self):
        for path in sorted(self.path.glob("*.jsonl")):
            if path.name == self._file.name:
                continue
            try:
                orphan = _File.open_orphan(path)
            except OSError:  # its process lives, or another flusher holds it
                continue
            if orphan is None:
                continue
            logger.warning("adding the calls a stopped process left in %s", path.name)
            try:
                self._retire(orphan)
            finally:
                orphan.close()

    def _retire(self, journal_file):
        """Add the rest of a file nobody writes to any more, then remove it."""
        more = True
        while more:
            more = _add(journal_file)
        # Removed before its mark: a crash between the two leaves a mark of no file, never
        # a file whose lines would be added again from the start.
        os.unlink(journal_file.path)
        if journal_file.offset:
            CallJournalMark.objects.filter(name=journal_file.name).delete()

    def _new_file(self):
        name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        return _File.create(self.path, name)


class _File:
    """One process's journal file, locked by whoever reads or writes it. The file it writes
    is mapped into memory; its lines end at ``end``, and zeros follow them."""

    def __init__(self, path, fd, offset, mapped=None):
        self.path, self.name, self.fd, self.offset = path, path.name, fd, offset
        self.unsure = False  # whether a failed pass may have added more than ``offset`` says
        self.mapped, self.end = mapped, 0

    @classmethod
    def create(cls, directory, name):
        # Locked before it takes the name other flushers look for, or one would take a
        # new file for an orphan.
        hidden, path = directory / f"{name}.new", directory / f"{name}.jsonl"
        fd = os.open(hidden, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # Reserved now: a page of a sparse file that finds the disk full when it is
            # first written kills the process (SIGBUS).
            os.posix_fallocate(fd, 0, CAPACITY)
            mapped = mmap.mmap(fd, CAPACITY)
            os.rename(hidden, path)
        except BaseException:
            os.close(fd)
            hidden.unlink(missing_ok=True)
            raise
        return cls(path, fd, 0, mapped)

    def room_for(self, data):
        return self.end + len(data) <= CAPACITY

    def put(self, data):
        """Copy a line in after the last; False when even an empty file has no room."""
        if not self.room_for(data):
            return False
        self.mapped[self.end : self.end + len(data)] = data
        self.end += len(data)
        return True

    @classmethod
    def open_orphan(cls, path):
        """The file of a process that died, locked; None when another flusher has just
        added and removed it. OSError when its process still holds it."""
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_nlink == 0:
                os.close(fd)
                return None
            orphan = cls(path, fd, 0)
            orphan.offset = orphan.recorded_offset()
            return orphan
        except BaseException:
            os.close(fd)
            raise

    def recorded_offset(self):
        """Where the last committed batch of this file ended."""
        marks = CallJournalMark.objects.filter(name=self.name)
        return marks.values_list("offset", flat=True).first() or 0

    def read_lines(self):
        """The whole lines after the offset (at most ``READ_MOST`` bytes) and where they end.
        A file this process writes is read up to the end of its last copied line, a dead
        process's up to the zeros: a line it was copying as it died is cut at them, never
        read in part, since an entry (JSON) holds no zero byte."""
        most = READ_MOST if self.mapped is None else min(READ_MOST, self.end - self.offset)
        with open(self.path, "rb") as reader:
            reader.seek(self.offset)
            chunk = reader.read(most)
        written = chunk.find(b"\0")
        end = (chunk.rfind(b"\n", 0, written) if written >= 0 else chunk.rfind(b"\n")) + 1
        return chunk[:end].splitlines(), self.offset + end

    def close(self):
        if self.mapped is not None:
            self.mapped.close()
            self.mapped = None
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _add(journal_file):
    """Insert the file's next lines and record where they end, in one transaction; whether
    there were any."""
    if journal_file.unsure:
        # A pass failed, perhaps in its commit: the database says how far it got.
        journal_file.offset = journal_file.recorded_offset()
        journal_file.unsure = False
    lines, end = journal_file.read_lines()
    if not lines:
        return False
    entries, unreadable, at = [], [], journal_file.offset  # entries: (values, line's end)
    for line in lines:
        at += len(line) + 1
        try:
            entries.append((tuple(json.loads(line)), at))
        except ValueError:  # not written by ``append``: kept, not lost, and not retried
            unreadable.append(line.decode(errors="replace"))
    try:
        try:
            _insert(journal_file, [values for values, _end in entries], end)
        except IntegrityError:
            _add_one_by_one(journal_file, entries)
            _insert(journal_file, [], end)
    except BaseException:
        journal_file.unsure = True
        raise
    for line in unreadable:
        _keep(journal_file, line, "is not a journal line")
    journal_file.offset = end
    return True


def _add_one_by_one(journal_file, entries):
    """A call the database refuses (its grant removed before the call was added, say) fails
    the batch when its commit checks the deferred constraints: each is added on its own."""
    for values, line_end in entries:
        try:
            _insert(journal_file, [values], line_end)
        except IntegrityError as exc:
            _insert(journal_file, [], line_end)
            _keep(journal_file, json.dumps(values, ensure_ascii=False), f"was refused: {exc}")
        journal_file.offset = line_end


def _insert(journal_file, rows, end):
    with transaction.atomic():
        if rows:
            with connection.cursor() as cursor:
                insert_calls(cursor, rows)
        marks = CallJournalMark.objects.filter(name=journal_file.name)
        if not marks.update(offset=end):  # the file's first pass
            CallJournalMark.objects.create(name=journal_file.name, offset=end)


def _keep(journal_file, line, problem):
    kept_in = journal_file.path.with_suffix(".rejected")
    logger.error("a logged call that %s is kept in %s", problem, kept_in)
    with open(kept_in, "a", encoding="utf-8") as kept:
        kept.write(line + "\n")
