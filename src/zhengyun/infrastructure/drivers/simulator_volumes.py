"""Volumes and snapshots of the simulated hypervisor (R-I3): rows in each host's local
storage, attached to guests on the same host. A mixin of ``SimulatorDriver``, whose
transaction (``_run``), failures on demand and hosts going down apply to these calls too."""

from .base import (
    DriverError,
    HostUnavailable,
    SnapshotInfo,
    SnapshotNotFound,
    VolumeInfo,
    VolumeInUse,
    VolumeNotFound,
    VolumeState,
    free_disk_device,
    missing_volume,
)

VOLUME_SCHEMA = """
CREATE TABLE IF NOT EXISTS volume (
    name TEXT PRIMARY KEY, host TEXT NOT NULL REFERENCES host (name),
    size_gb INTEGER NOT NULL, guest TEXT, device TEXT
);
CREATE INDEX IF NOT EXISTS volume_by_host ON volume (host);
CREATE INDEX IF NOT EXISTS volume_by_guest ON volume (guest);
CREATE TABLE IF NOT EXISTS snapshot (
    name TEXT PRIMARY KEY, volume TEXT NOT NULL, host TEXT NOT NULL REFERENCES host (name),
    size_gb INTEGER NOT NULL
);
"""

VOLUMES = """
SELECT v.name, v.host, v.size_gb, v.guest, v.device, h.up
FROM volume v JOIN host h ON h.name = v.host
"""


class SimulatedVolumes:
    """The volume operations of the compute driver contract, over the simulator's state."""

    @staticmethod
    def _volume_info(row):
        name, host, size_gb, guest, device, _up = row
        return VolumeInfo(
            name=name,
            host=host,
            state=VolumeState.ATTACHED if guest else VolumeState.AVAILABLE,
            size_gb=size_gb,
            guest=guest or "",
            device=device or "",
        )

    @staticmethod
    def _volume_row(db, name):
        return db.execute(f"{VOLUMES} WHERE v.name = ?", (name,)).fetchone()

    def _existing_volume(self, db, name):
        """The volume's row; VolumeNotFound when absent, HostUnavailable when its host is
        down."""
        row = self._volume_row(db, name)
        if row is None:
            raise VolumeNotFound(f"No volume named {name} on this hypervisor.")
        if not row[5]:
            raise HostUnavailable(f"Host {row[1]} of volume {name} is down.")
        return row

    def create_volume(self, host, spec):
        if spec.size_gb < 1:
            raise DriverError(f"Volume {spec.name} needs a size of at least 1 GB.")

        def change(db):
            row = self._volume_row(db, spec.name)
            if row is not None:
                return self._volume_info(row)
            self._up_host(db, host)
            if spec.snapshot:
                source = db.execute(
                    "SELECT host, size_gb FROM snapshot WHERE name = ?", (spec.snapshot,)
                ).fetchone()
                if source is None:
                    raise SnapshotNotFound(f"No snapshot named {spec.snapshot}.")
                if source[0] != host:
                    raise DriverError(
                        f"Snapshot {spec.snapshot} is on host {source[0]}, not {host}."
                    )
                if source[1] > spec.size_gb:
                    raise DriverError(
                        f"Snapshot {spec.snapshot} holds {source[1]} GB, more than "
                        f"{spec.size_gb} GB."
                    )
            db.execute(
                "INSERT INTO volume (name, host, size_gb) VALUES (?, ?, ?)",
                (spec.name, host, spec.size_gb),
            )
            return VolumeInfo(spec.name, host, VolumeState.AVAILABLE, spec.size_gb)

        return self._run("create_volume", change)

    def delete_volume(self, name):
        def change(db):
            if self._volume_row(db, name) is None:
                return
            row = self._existing_volume(db, name)
            if row[3]:
                raise VolumeInUse(f"Volume {name} is attached to guest {row[3]}.")
            db.execute("DELETE FROM volume WHERE name = ?", (name,))

        self._run("delete_volume", change)

    def attach_volume(self, guest, volume):
        def change(db):
            guest_row = self._existing(db, guest)
            row = self._existing_volume(db, volume)
            if row[3] == guest:  # a retried attachment that had already happened
                return self._volume_info(row)
            if row[3]:
                raise VolumeInUse(f"Volume {volume} is attached to guest {row[3]}.")
            if row[1] != guest_row[1]:
                raise DriverError(
                    f"Volume {volume} is on host {row[1]} and guest {guest} on {guest_row[1]}."
                )
            taken = {
                device
                for (device,) in db.execute("SELECT device FROM volume WHERE guest = ?", (guest,))
            }
            db.execute(
                "UPDATE volume SET guest = ?, device = ? WHERE name = ?",
                (guest, free_disk_device({"vda", *taken}), volume),
            )
            return self._volume_info(self._volume_row(db, volume))

        return self._run("attach_volume", change)

    def detach_volume(self, guest, volume):
        def change(db):
            row = self._volume_row(db, volume)
            if row is not None and row[3] == guest:
                self._existing_volume(db, volume)
                db.execute(
                    "UPDATE volume SET guest = NULL, device = NULL WHERE name = ?", (volume,)
                )

        self._run("detach_volume", change)

    def snapshot_volume(self, volume, snapshot_name):
        def change(db):
            existing = db.execute(
                "SELECT name, volume, host, size_gb FROM snapshot WHERE name = ?",
                (snapshot_name,),
            ).fetchone()
            if existing is not None:
                if existing[1] != volume:
                    raise DriverError(
                        f"Snapshot {snapshot_name} is a copy of volume {existing[1]}, not {volume}."
                    )
                return SnapshotInfo(*existing)
            _, host, size_gb, *_ = self._existing_volume(db, volume)
            db.execute(
                "INSERT INTO snapshot (name, volume, host, size_gb) VALUES (?, ?, ?, ?)",
                (snapshot_name, volume, host, size_gb),
            )
            return SnapshotInfo(snapshot_name, volume, host, size_gb)

        return self._run("snapshot_volume", change)

    def delete_snapshot(self, name):
        def change(db):
            row = db.execute("SELECT host FROM snapshot WHERE name = ?", (name,)).fetchone()
            if row is not None:
                self._up_host(db, row[0])
                db.execute("DELETE FROM snapshot WHERE name = ?", (name,))

        self._run("delete_snapshot", change)

    def volume(self, name):
        def query(db):
            row = self._volume_row(db, name)
            return missing_volume(name) if row is None else self._volume_info(row)

        return self._run("volume", query)

    def volumes(self, host=None):
        def query(db):
            if host is not None:
                self._up_host(db, host)
                rows = db.execute(f"{VOLUMES} WHERE v.host = ? ORDER BY v.rowid", (host,))
            else:
                rows = db.execute(f"{VOLUMES} WHERE h.up ORDER BY v.rowid")
            return [self._volume_info(row) for row in rows]

        return self._run("volumes", query)
