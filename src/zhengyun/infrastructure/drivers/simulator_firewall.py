"""Guests' firewalls in the simulated hypervisor (R-I2): the rule list each guest was given,
and a packet check (``allows``) that answers as the guest's filter would, so tests can show
a rule really takes effect. A mixin of ``SimulatorDriver``, whose transaction, failures on
demand and hosts going down apply to these calls too."""

import ipaddress
import json
from dataclasses import asdict

from .base import FirewallRule

FIREWALL_SCHEMA = """
CREATE TABLE IF NOT EXISTS firewall (
    guest TEXT PRIMARY KEY, rules TEXT NOT NULL
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

    def apply_firewall(self, name, rules):
        rules = [FirewallRule(**asdict(rule)) for rule in rules]

        def change(db):
            self._existing(db, name)
            db.execute(
                "INSERT OR REPLACE INTO firewall (guest, rules) VALUES (?, ?)",
                (name, json.dumps([asdict(rule) for rule in rules])),
            )

        self._run("apply_firewall", change)

    def firewall(self, name):
        """The rules the guest was last given, or None if it was never given any."""
        with self._lock:
            row = self._db.execute("SELECT rules FROM firewall WHERE guest = ?", (name,)).fetchone()
        return None if row is None else [FirewallRule(**rule) for rule in json.loads(row[0])]

    def allows(self, name, direction, protocol, port, address):
        """Whether the guest's filter lets a packet through: ``direction`` ``ingress`` (to
        the guest) or ``egress``, ``protocol`` ``tcp``, ``udp`` or ``icmp``, ``port`` the
        destination port (None for ICMP), ``address`` the far end's. A guest never given a
        firewall has no filter."""
        rules = self.firewall(name)
        if rules is None:
            return True
        address = ipaddress.ip_address(address)
        return any(rule_matches(rule, direction, protocol, port, address) for rule in rules)
