"""The simulated hypervisor (R-I3, R-I4): the embedded default and the load-test double.

It models hosts (CPU, memory, disk, migration network, idle and peak watts), the guests on
them with a CPU load each, volumes and snapshots in each host's local storage
(``simulator_volumes``), each guest's firewall (``simulator_firewall``), its network
interfaces and the virtual networks they plug into (``simulator_networks``), power drawn by
the linear model, boot and migration durations (as simulated seconds kept on the guest,
nobody sleeps), a host going down, and failures on demand. Like libvirt's test driver it
never refuses an overcommitted host: capacity is the scheduler's to account.

URIs::

    sim://memory?hosts=N&...              in this process only (tests, benchmarks)
    sim:///absolute/path/state.sqlite?... kept in a SQLite file of its own

A file is how the web process and the worker of the embedded platform see one hypervisor,
and how a restart keeps its guests; every change is one SQLite transaction, so a process
killed mid-call loses nothing. The state lives in SQLite in memory too, so both kinds run
the same code. The other parameters are in ``simulator_model.PARAMETERS``; host sizes apply
to hosts made when the URI is first opened, and a larger ``hosts`` later adds the missing
ones.
"""

import random
import sqlite3
import threading
import time

from .base import (
    IO_COUNTERS,
    ComputeDriver,
    DriverError,
    GuestInfo,
    GuestMetrics,
    GuestNotFound,
    GuestState,
    HostInfo,
    HostMetrics,
    HostUnavailable,
    linear_power,
    missing_guest,
)
from .simulator_firewall import FIREWALL_SCHEMA, SimulatedFirewalls
from .simulator_model import (
    FULL_LOAD_BYTES_PER_S,
    SimulatedDurations,
    boot_seconds,
    guest_load,
    host_io_rates,
    host_name,
    migration_seconds,
    parse_uri,
)
from .simulator_networks import NETWORK_SCHEMA, SimulatedNetworks, missing_on, plug
from .simulator_volumes import VOLUME_SCHEMA, SimulatedVolumes

CHANGING = (
    *("define", "start", "stop", "reboot", "delete", "resize", "grow_disk"),
    "live_migrate",
    *("create_volume", "delete_volume", "attach_volume", "detach_volume"),
    *("snapshot_volume", "delete_snapshot", "apply_firewall"),
    *("ensure_network", "remove_network"),
)
OPERATIONS = (
    *CHANGING,
    *("hosts", "console_url", "guest", "guests", "host_metrics", "guest_metrics"),
    *("volume", "volumes", "networks", "guest_nics"),
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS host (
    name TEXT PRIMARY KEY, vcpus INTEGER NOT NULL, memory_mb INTEGER NOT NULL,
    disk_gb INTEGER NOT NULL, nic_gbps REAL NOT NULL, idle_watts REAL NOT NULL,
    peak_watts REAL NOT NULL, up INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS guest (
    name TEXT PRIMARY KEY, host TEXT NOT NULL REFERENCES host (name), state TEXT NOT NULL,
    vcpus INTEGER NOT NULL, memory_mb INTEGER NOT NULL, disk_gb INTEGER NOT NULL,
    image TEXT NOT NULL, load REAL NOT NULL, started_at REAL, console_port INTEGER,
    boot_seconds REAL NOT NULL DEFAULT 0, migration_seconds REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS guest_by_host ON guest (host);
CREATE TABLE IF NOT EXISTS host_io (
    host TEXT PRIMARY KEY REFERENCES host (name), sampled_at REAL NOT NULL,
    disk_read_bytes INTEGER NOT NULL, disk_write_bytes INTEGER NOT NULL,
    net_rx_bytes INTEGER NOT NULL, net_tx_bytes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS failure (
    operation TEXT PRIMARY KEY, remaining INTEGER NOT NULL, after INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS config_drive (
    guest TEXT PRIMARY KEY REFERENCES guest (name), image BLOB NOT NULL
);
"""

GUEST_BY_NAME = """
SELECT g.name, g.host, g.state, g.vcpus, g.memory_mb, h.up
FROM guest g JOIN host h ON h.name = g.host WHERE g.name = ?
"""
GUESTS_ON_HOST = """
SELECT g.name, g.host, g.state, g.vcpus, g.memory_mb, h.up
FROM guest g JOIN host h ON h.name = g.host WHERE g.host = ? ORDER BY g.rowid
"""
GUESTS_ON_UP_HOSTS = """
SELECT g.name, g.host, g.state, g.vcpus, g.memory_mb, h.up
FROM guest g JOIN host h ON h.name = g.host WHERE h.up ORDER BY g.rowid
"""
FIRST_CONSOLE_PORT = 5900


class SimulatorDriver(SimulatedVolumes, SimulatedFirewalls, SimulatedNetworks, ComputeDriver):
    """A simulated hypervisor with many hosts, in memory or in a SQLite file."""

    def __init__(self, uri: str):
        super().__init__(uri)
        path, self.parameters = parse_uri(uri)
        self._random = random.Random(self.parameters["seed"])
        self._lock = threading.RLock()  # one connection, shared by this process's threads
        # Seconds since the epoch; tests replace it to step simulated time exactly.
        self.clock = time.time
        try:
            self._db = self._open(path)
        except sqlite3.Error as exc:
            raise HostUnavailable(f"The simulator cannot open its state file: {exc}") from None
        self._add_hosts()

    @staticmethod
    def _open(path):
        db = sqlite3.connect(
            path or ":memory:", timeout=30, isolation_level=None, check_same_thread=False
        )
        if path:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
        db.executescript(SCHEMA + VOLUME_SCHEMA + FIREWALL_SCHEMA + NETWORK_SCHEMA)
        return db

    def _add_hosts(self):
        p = self.parameters
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR IGNORE INTO host (name, vcpus, memory_mb, disk_gb, nic_gbps,"
                " idle_watts, peak_watts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        host_name(number),
                        p["vcpus"],
                        p["memory_mb"],
                        p["disk_gb"],
                        p["nic_gbps"],
                        p["idle_watts"],
                        p["peak_watts"],
                    )
                    for number in range(1, p["hosts"] + 1)
                ),
            )
            self._db.execute("COMMIT")

    # The transaction every call runs in (reads too: failures can be due on any call) ----

    def _run(self, operation, change):
        """Run ``change(db)`` in one write transaction, failing first if a failure is due.
        A failure "after" makes the change and then reports an error, as a call that timed
        out after the hypervisor acted does; retries must cope with both."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                failure = self._due_failure(operation)
                result = None if failure == "before" else change(self._db)
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):  # the state file locked too long, disk full
                    raise HostUnavailable(f"The simulator's state is unavailable: {exc}") from None
                raise
        if failure:
            raise DriverError(f"Simulated failure of {operation} ({failure} acting).")
        return result

    def _due_failure(self, operation):
        row = self._db.execute(
            "SELECT remaining, after FROM failure WHERE operation = ?", (operation,)
        ).fetchone()
        if row:
            remaining, after = row
            if remaining > 1:
                self._db.execute(
                    "UPDATE failure SET remaining = ? WHERE operation = ?",
                    (remaining - 1, operation),
                )
            else:
                self._db.execute("DELETE FROM failure WHERE operation = ?", (operation,))
            return "after" if after else "before"
        rate = self.parameters["failure_rate"]
        if rate and operation in CHANGING and self._random.random() < rate:
            return self._random.choice(("before", "after"))
        return None

    # Rows -------------------------------------------------------------------------------

    @staticmethod
    def _info(row):
        name, host, state, vcpus, memory_mb, _up = row
        return GuestInfo(
            name=name, host=host, state=GuestState(state), vcpus=vcpus, memory_mb=memory_mb
        )

    @staticmethod
    def _row(db, name):
        return db.execute(GUEST_BY_NAME, (name,)).fetchone()

    def _existing(self, db, name):
        """The guest's row; GuestNotFound when absent, HostUnavailable when its host is down."""
        row = self._row(db, name)
        if row is None:
            raise GuestNotFound(f"No guest named {name} on this hypervisor.")
        if not row[5]:
            raise HostUnavailable(f"Host {row[1]} of guest {name} is down.")
        return row

    @staticmethod
    def _up_host(db, name):
        row = db.execute(
            "SELECT name, vcpus, memory_mb, nic_gbps, idle_watts, peak_watts, up FROM host"
            " WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            raise HostUnavailable(f"No host named {name} on this hypervisor.")
        if not row[6]:
            raise HostUnavailable(f"Host {name} is down.")
        return row

    @staticmethod
    def _free_console_port(db, host):
        taken = {
            port
            for (port,) in db.execute(
                "SELECT console_port FROM guest WHERE host = ? AND state = 'running'", (host,)
            )
        }
        port = FIRST_CONSOLE_PORT
        while port in taken:
            port += 1
        return port

    # The interface ----------------------------------------------------------------------

    def hosts(self):
        def query(db):
            return [
                HostInfo(*row)
                for row in db.execute(
                    "SELECT name, vcpus, memory_mb, disk_gb, idle_watts, peak_watts FROM host"
                    " ORDER BY rowid"
                )
            ]

        return self._run("hosts", query)

    def define(self, host, spec):
        if spec.vcpus < 1 or spec.memory_mb < 1 or spec.disk_gb < 0:
            raise DriverError(f"Guest {spec.name} needs at least one vCPU and some memory.")

        def change(db):
            row = self._row(db, spec.name)
            if row is not None:  # its networks came with it, in the same transaction
                return self._info(row)
            self._up_host(db, host)
            plug(db, host, spec.name, spec.nics)
            if spec.config_drive:
                db.execute(
                    "INSERT INTO config_drive (guest, image) VALUES (?, ?)",
                    (spec.name, spec.config_drive),
                )
            db.execute(
                "INSERT INTO guest (name, host, state, vcpus, memory_mb, disk_gb, image, load)"
                " VALUES (?, ?, 'stopped', ?, ?, ?, ?, ?)",
                (
                    spec.name,
                    host,
                    spec.vcpus,
                    spec.memory_mb,
                    spec.disk_gb,
                    spec.image,
                    guest_load(self.parameters["seed"], spec.name),
                ),
            )
            return GuestInfo(spec.name, host, GuestState.STOPPED, spec.vcpus, spec.memory_mb)

        return self._run("define", change)

    def start(self, name):
        def change(db):
            row = self._existing(db, name)
            if row[2] != GuestState.RUNNING:
                db.execute(
                    "UPDATE guest SET state = 'running', started_at = ?, console_port = ?,"
                    " boot_seconds = ? WHERE name = ?",
                    (
                        self.clock(),
                        self._free_console_port(db, row[1]),
                        boot_seconds(row[4], self._random.random()),
                        name,
                    ),
                )
            return self._info(self._row(db, name))

        return self._run("start", change)

    def stop(self, name):
        def change(db):
            self._existing(db, name)
            db.execute(
                "UPDATE guest SET state = 'stopped', started_at = NULL, console_port = NULL"
                " WHERE name = ?",
                (name,),
            )
            return self._info(self._row(db, name))

        return self._run("stop", change)

    def reboot(self, name):
        def change(db):
            row = self._existing(db, name)
            if row[2] != GuestState.RUNNING:
                raise DriverError(f"Guest {name} is not running.")
            db.execute(
                "UPDATE guest SET boot_seconds = ? WHERE name = ?",
                (boot_seconds(row[4], self._random.random()), name),
            )
            return self._info(row)

        return self._run("reboot", change)

    def delete(self, name):
        def change(db):
            if self._row(db, name) is not None:
                self._existing(db, name)
                db.execute("DELETE FROM guest WHERE name = ?", (name,))
                db.execute("DELETE FROM firewall WHERE guest = ?", (name,))
                db.execute("DELETE FROM firewall_address WHERE guest = ?", (name,))
                db.execute("DELETE FROM nic WHERE guest = ?", (name,))
                db.execute("DELETE FROM config_drive WHERE guest = ?", (name,))
                db.execute("UPDATE volume SET guest = NULL, device = NULL WHERE guest = ?", (name,))

        self._run("delete", change)

    def config_drive(self, name):
        """The config drive image the guest boots with, as a guest would read it; empty
        without one."""
        with self._lock:
            row = self._db.execute(
                "SELECT image FROM config_drive WHERE guest = ?", (name,)
            ).fetchone()
        return bytes(row[0]) if row else b""

    def resize(self, name, vcpus, memory_mb):
        if vcpus < 1 or memory_mb < 1:
            raise DriverError(f"Guest {name} needs at least one vCPU and some memory.")

        def change(db):
            self._existing(db, name)
            db.execute(
                "UPDATE guest SET vcpus = ?, memory_mb = ? WHERE name = ?",
                (vcpus, memory_mb, name),
            )
            return self._info(self._row(db, name))

        return self._run("resize", change)

    def grow_disk(self, name, disk_gb):
        def change(db):
            self._existing(db, name)
            db.execute("UPDATE guest SET disk_gb = MAX(disk_gb, ?) WHERE name = ?", (disk_gb, name))
            (size,) = db.execute("SELECT disk_gb FROM guest WHERE name = ?", (name,)).fetchone()
            return size

        return self._run("grow_disk", change)

    def live_migrate(self, name, target_host):
        def change(db):
            row = self._existing(db, name)
            target = self._up_host(db, target_host)
            if row[1] == target_host:  # a retried migration that had already happened
                return self._info(row)
            missing = missing_on(db, target_host, name)
            if missing:
                raise DriverError(
                    f"Host {target_host} does not have network {missing[0]} of guest {name}."
                )
            running = row[2] == GuestState.RUNNING
            (load,) = db.execute("SELECT load FROM guest WHERE name = ?", (name,)).fetchone()
            db.execute(
                "UPDATE guest SET host = ?, console_port = ?, migration_seconds = ? WHERE name = ?",
                (
                    target_host,
                    self._free_console_port(db, target_host) if running else None,
                    migration_seconds(row[4], load, target[3], running),
                    name,
                ),
            )
            # Its volumes are local disks, copied with it as a block migration would.
            db.execute("UPDATE volume SET host = ? WHERE guest = ?", (target_host, name))
            return self._info(self._row(db, name))

        return self._run("live_migrate", change)

    def console_url(self, name):
        def query(db):
            row = self._existing(db, name)
            if row[2] != GuestState.RUNNING:
                raise DriverError(f"Guest {name} is not running, so it has no console.")
            (port,) = db.execute(
                "SELECT console_port FROM guest WHERE name = ?", (name,)
            ).fetchone()
            return f"vnc://{row[1]}:{port}?ConnectionName={name}"

        return self._run("console_url", query)

    def guest(self, name):
        def query(db):
            row = self._row(db, name)
            return missing_guest(name) if row is None else self._info(row)

        return self._run("guest", query)

    def guests(self, host=None):
        def query(db):
            if host is not None:
                self._up_host(db, host)
                rows = db.execute(GUESTS_ON_HOST, (host,))
            else:
                rows = db.execute(GUESTS_ON_UP_HOSTS)
            return [self._info(row) for row in rows]

        return self._run("guests", query)

    def host_metrics(self, host):
        def query(db):
            name, vcpus, memory_mb, _, idle_watts, peak_watts, _ = self._up_host(db, host)
            busy_vcpus, memory_used, running = db.execute(
                "SELECT COALESCE(SUM(load * vcpus), 0),"
                " COALESCE(SUM(memory_mb * (0.35 + 0.5 * load)), 0), COUNT(*)"
                " FROM guest WHERE host = ? AND state = 'running'",
                (host,),
            ).fetchone()
            cpu_fraction = min(busy_vcpus / vcpus, 1.0)
            loads = [
                load
                for (load,) in db.execute(
                    "SELECT load FROM guest WHERE host = ? AND state = 'running'", (host,)
                )
            ]
            return HostMetrics(
                host=name,
                cpu_percent=round(cpu_fraction * 100, 2),
                memory_used_mb=min(round(memory_used), memory_mb),
                memory_total_mb=memory_mb,
                running_guests=running,
                power_watts=round(linear_power(idle_watts, peak_watts, cpu_fraction), 1),
                **self._advance_host_io(db, name, loads),
            )

        return self._run("host_metrics", query)

    def _advance_host_io(self, db, host, loads):
        """The host's byte counters now: those of its last sample plus the traffic of the
        seconds since, at the rates its running guests make now. They start from zero when
        the host is first sampled and again after it went down."""
        now = self.clock()
        row = db.execute(
            "SELECT sampled_at, disk_read_bytes, disk_write_bytes, net_rx_bytes, net_tx_bytes"
            " FROM host_io WHERE host = ?",
            (host,),
        ).fetchone()
        elapsed = max(now - row[0], 0.0) if row else 0.0
        before = dict(zip(IO_COUNTERS, row[1:], strict=True)) if row else {}
        counters = {
            counter: before.get(counter, 0) + round(rate * elapsed)
            for counter, rate in host_io_rates(loads).items()
        }
        db.execute(
            "INSERT OR REPLACE INTO host_io (host, sampled_at, disk_read_bytes,"
            " disk_write_bytes, net_rx_bytes, net_tx_bytes) VALUES (?, ?, ?, ?, ?, ?)",
            (host, now, *(counters[c] for c in IO_COUNTERS)),
        )
        return counters

    def guest_metrics(self, name):
        def query(db):
            row = self._existing(db, name)
            load, started_at = db.execute(
                "SELECT load, started_at FROM guest WHERE name = ?", (name,)
            ).fetchone()
            if row[2] != GuestState.RUNNING:
                load, uptime = 0.0, 0.0
            else:
                uptime = max(self.clock() - started_at, 0.0)
            counters = {
                field: round(rate * load * uptime) for field, rate in FULL_LOAD_BYTES_PER_S.items()
            }
            return GuestMetrics(
                name=name,
                cpu_percent=round(load * 100, 2),
                memory_used_mb=round(row[4] * (0.35 + 0.5 * load)) if load else 0,
                **counters,
            )

        return self._run("guest_metrics", query)

    # Levers for tests and load runs -----------------------------------------------------

    def fail_next(self, operation, times=1, *, after=False):
        """Make the next ``times`` calls of ``operation`` raise DriverError; with ``after``
        the change is made first. Kept in the state, so another process's calls fail too."""
        if operation not in OPERATIONS:
            raise ValueError(f"{operation!r} is not a driver operation")
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO failure (operation, remaining, after) VALUES (?, ?, ?)",
                (operation, times, int(after)),
            )

    def mark_host_down(self, host):
        """The host fails: its running guests stop and it refuses work until marked up."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("UPDATE host SET up = 0 WHERE name = ?", (host,))
            self._db.execute("DELETE FROM host_io WHERE host = ?", (host,))  # counters reset
            self._db.execute(
                "UPDATE guest SET state = 'stopped', started_at = NULL, console_port = NULL"
                " WHERE host = ?",
                (host,),
            )
            self._db.execute("COMMIT")

    def mark_host_up(self, host):
        """The host is back; its guests stay stopped, as after a power loss."""
        with self._lock:
            self._db.execute("UPDATE host SET up = 1 WHERE name = ?", (host,))

    def set_load(self, name, load):
        """Run the guest at CPU ``load`` (0–1) from now on."""
        with self._lock:
            self._db.execute(
                "UPDATE guest SET load = ? WHERE name = ?", (min(max(load, 0.0), 1.0), name)
            )

    def durations(self, name):
        """The simulated seconds the guest's last boot and last migration took."""
        with self._lock:
            row = self._db.execute(
                "SELECT boot_seconds, migration_seconds FROM guest WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            raise GuestNotFound(f"No guest named {name} on this hypervisor.")
        return SimulatedDurations(*row)
