"""The simulated load balancer: the embedded default and the test double (R-I3).

It keeps each balancer's applied configuration (in memory, or in a SQLite file of its own
so the web process and the worker see one state), says a member is up when its simulated
guest runs — it asks the simulated hypervisor the member's ``GuestRef`` names — and
computes how requests would be spread over the members that are up, per algorithm.

URIs::

    sim://memory                      in this process only (tests)
    sim:///absolute/path/lb.sqlite    kept in a file
"""

import hashlib
import json
import sqlite3
import threading
from dataclasses import asdict
from urllib.parse import urlsplit

from .balancer_base import (
    BalancerDriver,
    BalancerNotFound,
    BalancerSpec,
    GuestRef,
    ListenerSpec,
    MemberHealth,
    MemberSpec,
    MonitorSpec,
)
from .base import DriverError, GuestState

SCHEMA = "CREATE TABLE IF NOT EXISTS balancer (name TEXT PRIMARY KEY, spec TEXT NOT NULL)"


class SimulatorBalancerDriver(BalancerDriver):
    """Balancers whose members' health follows the simulated guests."""

    def __init__(self, uri: str):
        super().__init__(uri)
        parts = urlsplit(uri)
        if parts.scheme != "sim" or parts.netloc not in ("memory", ""):
            raise DriverError(f"Not a simulated balancer URI: {uri!r}.")
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                parts.path or ":memory:", isolation_level=None, check_same_thread=False
            )
            self._db.execute(SCHEMA)
        except sqlite3.Error as exc:
            raise DriverError(f"The balancer simulator cannot open its state: {exc}") from None

    def apply(self, spec):
        with self._lock:
            self._db.execute(
                "INSERT INTO balancer (name, spec) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET spec = excluded.spec",
                (spec.name, json.dumps(_kept(spec))),
            )

    def remove(self, name):
        with self._lock:
            self._db.execute("DELETE FROM balancer WHERE name = ?", (name,))

    def applied(self, name) -> BalancerSpec | None:
        """The configuration last applied to ``name``, or None."""
        with self._lock:
            row = self._db.execute("SELECT spec FROM balancer WHERE name = ?", (name,)).fetchone()
        return None if row is None else _spec_from(json.loads(row[0]))

    def health(self, name):
        spec = self.applied(name)
        if spec is None:
            raise BalancerNotFound(f"No load balancer {name!r}.")
        return {
            member.name: _member_health(member, listener.monitor)
            for listener in spec.listeners
            for member in listener.members
        }

    def distribute(self, name, port, requests, clients=("203.0.113.10",)):
        """How ``requests`` new connections to ``port`` spread over the members that take
        traffic (up, or unchecked), as ``{member name: count}``; ``clients`` are the
        source addresses the requests come from in turn (they matter for source_ip)."""
        spec = self.applied(name)
        listener = next((li for li in (spec.listeners if spec else ()) if li.port == port), None)
        if listener is None:
            raise BalancerNotFound(f"No listener on port {port} of load balancer {name!r}.")
        states = self.health(name)
        serving = [m for m in listener.members if states[m.name] != MemberHealth.DOWN]
        counts = {m.name: 0 for m in serving}
        if not serving:
            return counts
        choose = _ALGORITHMS[listener.algorithm]
        current = {m.name: 0 for m in serving}  # smooth weighted round robin's counters
        for number in range(requests):
            picked = choose(serving, counts, current, clients[number % len(clients)])
            counts[picked.name] += 1
        return counts


def _member_health(member, monitor):
    if monitor is None or member.guest is None:
        return MemberHealth.UNKNOWN
    from zhengyun.infrastructure.connections import driver_for

    try:
        state = driver_for(member.guest.driver, member.guest.uri).guest(member.guest.name).state
    except DriverError:
        return MemberHealth.DOWN
    return MemberHealth.UP if state == GuestState.RUNNING else MemberHealth.DOWN


def _round_robin(serving, counts, current, client):
    # Smooth weighted round robin (as nginx): the heaviest member goes first, but never twice
    # in a row while lighter ones wait.
    total = sum(m.weight for m in serving)
    for m in serving:
        current[m.name] += m.weight
    picked = max(serving, key=lambda m: current[m.name])
    current[picked.name] -= total
    return picked


def _least_connections(serving, counts, current, client):
    # Every connection stays open in the simulation, so the fewest per unit of weight wins.
    return min(serving, key=lambda m: counts[m.name] / m.weight)


def _source_ip(serving, counts, current, client):
    # One client always reaches one member while the members stay the same.
    slots = [m for m in serving for _weight in range(m.weight)]
    digest = hashlib.sha256(client.encode()).digest()
    return slots[int.from_bytes(digest[:8], "big") % len(slots)]


_ALGORITHMS = {
    "round_robin": _round_robin,
    "least_connections": _least_connections,
    "source_ip": _source_ip,
}


def _kept(spec):
    """What the simulator keeps of ``spec``: all of it but private keys, of which it keeps
    a digest, enough to tell which key was applied."""
    data = asdict(spec)
    for listener in data["listeners"]:
        if listener["private_key"]:
            digest = hashlib.sha256(listener["private_key"].encode()).hexdigest()
            listener["private_key"] = f"sha256:{digest}"
    return data


def _spec_from(data):
    return BalancerSpec(
        name=data["name"],
        vip=data["vip"],
        listeners=tuple(
            ListenerSpec(
                protocol=li["protocol"],
                port=li["port"],
                algorithm=li["algorithm"],
                certificate=li.get("certificate", ""),
                private_key=li.get("private_key", ""),
                members=tuple(
                    MemberSpec(**{**m, "guest": GuestRef(**m["guest"]) if m["guest"] else None})
                    for m in li["members"]
                ),
                monitor=(
                    MonitorSpec(
                        **{
                            **li["monitor"],
                            "expected_codes": tuple(li["monitor"]["expected_codes"]),
                        }
                    )
                    if li["monitor"]
                    else None
                ),
            )
            for li in data["listeners"]
        ),
    )
