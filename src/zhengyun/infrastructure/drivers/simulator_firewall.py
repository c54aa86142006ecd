"""Guests' firewalls in the simulated hypervisor (R-I2): the rule list and own addresses each
guest was given, and a packet check (``allows``) that answers as the guest's filter would —
rules and the source of what the guest sends — so tests can show a rule really takes effect.
A mixin of ``SimulatorDriver``, whose transaction, failures on demand and hosts going down
apply to these calls too."""

import ipaddress
import json
from dataclasses import asdict

from .base import FirewallRule

FIREWALL_SCHEMA = """
CREATE TABLE IF NOT EXISTS firewall (
    guest TEXT PRIMARY KEY, rules TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS firewall_address (
    guest TEXT NOT NULL, address TEXT NOT NULL, PRIMARY KEY (guest, address)
);
"""


def rule_matches(rule, direction, protocol, port, address):
    """Whether ``rule`` lets a packet through: ``direction`` as seen from the guest,
    ``port`` its destination port (ignored unless the rule has a range), ``address`` the
    far end's."""
    if rule.direction != direction:
        return False
    if rule.ethertype != f"IPv{address.version}":
        return False
    if rule.protocol not in ("any", protocol):
        return False
    if rule.port_min and not (port is not None and rule.port_min <= port <= rule.port_max):
        return False
    return not rule.remote or address in ipaddress.ip_network(rule.remote)


class SimulatedFirewalls:
    """The firewall operations of the compute driver contract, over the simulator's state."""

    def apply_firewall(self, name, rules, addresses):
        rules = [FirewallRule(**asdict(rule)) for rule in rules]
        addresses = {ipaddress.ip_address(address).compressed for address in addresses}

        def change(db):
            self._existing(db, name)
            db.execute(
                "INSERT OR REPLACE INTO firewall (guest, rules) VALUES (?, ?)",
                (name, json.dumps([asdict(rule) for rule in rules])),
            )
            db.execute("DELETE FROM firewall_address WHERE guest = ?", (name,))
            db.executemany(
                "INSERT INTO firewall_address (guest, address) VALUES (?, ?)",
                [(name, address) for address in sorted(addresses)],
            )

        self._run("apply_firewall", change)

    def firewall(self, name):
        """The rules the guest was last given, or None if it was never given any."""
        with self._lock:
            row = self._db.execute("SELECT rules FROM firewall WHERE guest = ?", (name,)).fetchone()
        return None if row is None else [FirewallRule(**rule) for rule in json.loads(row[0])]

    def own_addresses(self, name):
        """The addresses the guest was last told are its own."""
        with self._lock:
            rows = self._db.execute(
                "SELECT address FROM firewall_address WHERE guest = ?", (name,)
            ).fetchall()
        return {address for (address,) in rows}

    def _sends_as_itself(self, name, source, destination):
        """Whether the guest may send to ``destination`` from ``source`` (one of its own
        addresses when None): an address of its own, or an IPv6 link-local one (which
        neighbour discovery needs) once it has an IPv6 address — in either case of the
        destination's IP version."""
        mine = {
            address
            for address in map(ipaddress.ip_address, self.own_addresses(name))
            if address.version == destination.version
        }
        if source is None:
            return bool(mine)
        source = ipaddress.ip_address(source)
        if source.version != destination.version:
            return False
        return source in mine or (bool(mine) and source.version == 6 and source.is_link_local)

    def allows(self, name, direction, protocol, port, address, source=None):
        """Whether the guest's filter lets a packet through: ``direction`` ``ingress`` (to
        the guest) or ``egress``, ``protocol`` ``tcp``, ``udp`` or ``icmp``, ``port`` the
        destination port (None for ICMP), ``address`` the far end's. ``source`` is the
        address a packet the guest sends claims to come from (its own when not given). A
        guest never given a firewall has no filter."""
        rules = self.firewall(name)
        if rules is None:
            return True
        address = ipaddress.ip_address(address)
        if direction == "egress" and not self._sends_as_itself(name, source, address):
            return False  # spoofed, or of an IP version it has no address of
        return any(rule_matches(rule, direction, protocol, port, address) for rule in rules)
