"""Guests' network interfaces and the virtual networks they plug into, in the simulated
hypervisor (R-I2, R-I3).

A platform network is present on each host that was asked for it, and its segment spans
them, as an overlay between the hosts would: two guests are neighbours when they have an
interface on the same network, whatever their hosts; guests of different networks never
are. A mixin of ``SimulatorDriver``, whose transaction, failures on demand and hosts going
down apply to these calls too; its tables live in the state file with the rest, so the web
process and the worker see the same networks.
"""

from .base import HostUnavailable, NetworkInUse, Nic

NETWORK_SCHEMA = """
CREATE TABLE IF NOT EXISTS network (
    name TEXT NOT NULL, host TEXT NOT NULL REFERENCES host (name), PRIMARY KEY (name, host)
);
CREATE TABLE IF NOT EXISTS nic (
    guest TEXT NOT NULL, position INTEGER NOT NULL, mac TEXT NOT NULL, network TEXT NOT NULL,
    PRIMARY KEY (guest, position)
);
CREATE INDEX IF NOT EXISTS nic_by_network ON nic (network);
CREATE TABLE IF NOT EXISTS network_segment (name TEXT PRIMARY KEY, segment INTEGER NOT NULL);
"""


def plug(db, host, name, nics):
    """Make the networks of ``nics`` on ``host`` and plug the new guest ``name`` into them."""
    for position, nic in enumerate(nics):
        make_network(db, host, nic.network)
        db.execute(
            "INSERT INTO nic (guest, position, mac, network) VALUES (?, ?, ?, ?)",
            (name, position, nic.mac.lower(), nic.network),
        )


def make_network(db, host, network):
    """The network on ``host``, made if it is not there (the host must be up)."""
    db.execute("INSERT OR IGNORE INTO network (name, host) VALUES (?, ?)", (network, host))


def missing_on(db, host, name):
    """The guest's networks that ``host`` does not have, in its interfaces' order."""
    return [
        network
        for (network,) in db.execute(
            "SELECT network FROM nic WHERE guest = ? AND network NOT IN"
            " (SELECT name FROM network WHERE host = ?) ORDER BY position",
            (name, host),
        )
    ]


class SimulatedNetworks:
    """The network operations of the compute driver contract, over the simulator's state."""

    def ensure_network(self, host, network, segment=None):
        def change(db):
            self._up_host(db, host)
            make_network(db, host, network)
            if segment is not None:
                db.execute(
                    "INSERT OR IGNORE INTO network_segment (name, segment) VALUES (?, ?)",
                    (network, segment),
                )

        self._run("ensure_network", change)

    def segment(self, network):
        """The segment number the network was first made with, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT segment FROM network_segment WHERE name = ?", (network,)
            ).fetchone()
        return None if row is None else row[0]

    def remove_network(self, network):
        def change(db):
            users = [
                guest
                for (guest,) in db.execute(
                    "SELECT DISTINCT guest FROM nic WHERE network = ? ORDER BY guest", (network,)
                )
            ]
            if users:
                raise NetworkInUse(
                    f"Network {network} still has guests plugged in: {', '.join(users)}."
                )
            down = db.execute(
                "SELECT n.host FROM network n JOIN host h ON h.name = n.host"
                " WHERE n.name = ? AND NOT h.up",
                (network,),
            ).fetchone()
            if down:
                raise HostUnavailable(f"Host {down[0]} of network {network} is down.")
            db.execute("DELETE FROM network WHERE name = ?", (network,))
            db.execute("DELETE FROM network_segment WHERE name = ?", (network,))

        self._run("remove_network", change)

    def networks(self, host=None):
        def query(db):
            if host is not None:
                self._up_host(db, host)
                rows = db.execute("SELECT name FROM network WHERE host = ? ORDER BY name", (host,))
            else:
                rows = db.execute(
                    "SELECT DISTINCT n.name FROM network n JOIN host h ON h.name = n.host"
                    " WHERE h.up ORDER BY n.name"
                )
            return [name for (name,) in rows]

        return self._run("networks", query)

    def guest_nics(self, name):
        def query(db):
            self._existing(db, name)
            return [
                Nic(mac=mac, network=network)
                for mac, network in db.execute(
                    "SELECT mac, network FROM nic WHERE guest = ? ORDER BY position", (name,)
                )
            ]

        return self._run("guest_nics", query)

    def neighbours(self, name):
        """The guests that share a network segment with guest ``name``: those with an
        interface on one of its networks (itself excluded)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT other.guest FROM nic mine JOIN nic other"
                " ON other.network = mine.network AND other.guest != mine.guest"
                " WHERE mine.guest = ? ORDER BY other.guest",
                (name,),
            ).fetchall()
        return {guest for (guest,) in rows}
