"""The simulated network edge: the embedded default and the test double (R-I2).

It keeps the applied NAT table (in memory, or in a SQLite file of its own so the web
process and the worker see one table) and answers how a packet would be translated, so a
test can prove that an association took effect.

URIs::

    sim://memory                        in this process only (tests)
    sim:///absolute/path/edge.sqlite    kept in a file
"""

import ipaddress
import json
import sqlite3
import threading
from dataclasses import asdict
from urllib.parse import urlsplit

from .base import DriverError
from .edge_base import EdgeDriver, EgressRule, NatPair, NatRules

SCHEMA = "CREATE TABLE IF NOT EXISTS nat (id INTEGER PRIMARY KEY CHECK (id = 1), rules TEXT)"


class SimulatorEdgeDriver(EdgeDriver):
    """An edge that translates on paper, exactly as the table says."""

    def __init__(self, uri: str):
        super().__init__(uri)
        parts = urlsplit(uri)
        if parts.scheme != "sim" or parts.netloc not in ("memory", ""):
            raise DriverError(f"Not a simulated edge URI: {uri!r}.")
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                parts.path or ":memory:", isolation_level=None, check_same_thread=False
            )
            self._db.execute(SCHEMA)
        except sqlite3.Error as exc:
            raise DriverError(f"The edge simulator cannot open its state: {exc}") from None

    def apply(self, rules):
        try:  # refused like a real edge would refuse it, the old table kept
            for pair in rules.pairs:
                ipaddress.ip_address(pair.external), ipaddress.ip_address(pair.internal)
            for rule in rules.egress:
                ipaddress.ip_network(rule.source), ipaddress.ip_address(rule.address)
        except ValueError as exc:
            raise DriverError(f"The edge refuses the table: {exc}") from None
        with self._lock:
            self._db.execute(
                "INSERT INTO nat (id, rules) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET rules = excluded.rules",
                (json.dumps(asdict(rules)),),
            )

    def rules(self):
        with self._lock:
            row = self._db.execute("SELECT rules FROM nat WHERE id = 1").fetchone()
        if row is None:
            return NatRules()
        data = json.loads(row[0])
        return NatRules(
            pairs=tuple(NatPair(**p) for p in data["pairs"]),
            egress=tuple(EgressRule(**e) for e in data["egress"]),
        )

    def translate_inbound(self, address, port=None):
        """Where a packet to ``address`` (and ``port``, kept as it is: 1:1 NAT) is sent:
        ``(internal address, port)``, or None when the edge drops it."""
        for pair in self.rules().pairs:
            if pair.external == address:
                return pair.internal, port
        return None

    def translate_outbound(self, source):
        """The address a packet from ``source`` leaves with, or None when no rule takes it
        out: its own 1:1 pair first, else the egress of the narrowest range holding it."""
        rules = self.rules()
        for pair in rules.pairs:
            if pair.internal == source:
                return pair.external
        origin = ipaddress.ip_address(source)
        holding = [
            (ipaddress.ip_network(rule.source).prefixlen, rule.address)
            for rule in rules.egress
            if origin in ipaddress.ip_network(rule.source)
        ]
        return max(holding)[1] if holding else None
