"""Volumes and snapshots of the libvirt driver (R-I3): volumes of the host's storage pool
(the one root disks go to, ``storage_pool=`` in the URI), attached to guests as virtio disks.
A mixin of ``LibvirtDriver``.

Pool volumes are found by name, so nothing is kept outside libvirt: a data volume is
``<name>.volume.qcow2`` and a snapshot ``<snapshot>.snapshot-of.<volume>.qcow2``, which
records the volume it copies in the one place that outlives both. Which guest holds a volume
is read from the guests' definitions, live and persistent.

A snapshot is a new pool volume cloned from the volume (``createXMLFrom``) rather than a
libvirt domain snapshot, because

- a domain snapshot belongs to a guest: it covers all the guest's disks, cannot be taken of
  a detached volume, and is undefined with the guest;
- an internal qcow2 snapshot lives inside the volume's file and dies with it, and a volume
  cannot be created from one through libvirt; an external one turns the guest's disk into
  an overlay chain that must be merged back (block commit) and moves the disk away from its
  pool volume;
- a cloned volume is an ordinary volume: it outlives the volume and the guest, a new volume
  is cloned from it the same way, and every pool type libvirt can copy supports it.

The price is a full copy, in time and space proportional to the volume, during which a
running guest writing to it is paused, so the copy is crash-consistent.
"""

from . import libvirt_xml
from .base import (
    DriverError,
    GuestNotFound,
    SnapshotInfo,
    SnapshotNotFound,
    VolumeInfo,
    VolumeInUse,
    VolumeNotFound,
    VolumeState,
    free_disk_device,
    missing_volume,
)

VOLUME_SUFFIX = ".volume.qcow2"
SNAPSHOT_MARK = ".snapshot-of."
QCOW2 = ".qcow2"


def volume_file(name):
    """The pool volume that holds the platform's volume ``name``."""
    return f"{name}{VOLUME_SUFFIX}"


def snapshot_file(name, volume):
    """The pool volume that holds snapshot ``name`` of ``volume``."""
    return f"{name}{SNAPSHOT_MARK}{volume}{QCOW2}"


class LibvirtVolumes:
    """The volume operations of the compute driver contract, over a libvirt storage pool."""

    def _lookup(self, file_name):
        """The pool volume of that name, or None."""
        libvirt = self._libvirt
        with self._translated():
            try:
                return self._pool().storageVolLookupByName(file_name)
            except libvirt.libvirtError as error:
                if error.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
                    return None
                raise

    def _snapshot(self, name):
        """(pool volume, name of the volume it copies) of snapshot ``name``, or None."""
        prefix = f"{name}{SNAPSHOT_MARK}"
        with self._translated():
            for file_name in self._pool().listVolumes():
                if file_name.startswith(prefix) and file_name.endswith(QCOW2):
                    volume = file_name[len(prefix) : -len(QCOW2)]
                    return self._pool().storageVolLookupByName(file_name), volume
        return None

    def _attachments(self):
        """{disk path: (guest, device)} over every guest's live and persistent definitions."""
        found = {}
        with self._translated():
            domains = self._conn().listAllDomains(0)
        for domain in domains:
            try:
                definitions = self._definitions(domain)
            except GuestNotFound:  # deleted since it was listed: it holds nothing now
                continue
            for _flag, xml in definitions:
                for path, device in libvirt_xml.disk_sources(xml).items():
                    found[path] = (domain.name(), device)
        return found

    def _volume_info(self, pool_volume, attachments):
        with self._translated():
            path, capacity = pool_volume.path(), pool_volume.info()[1]
            name = pool_volume.name().removesuffix(VOLUME_SUFFIX)
        guest, device = attachments.get(path, ("", ""))
        return VolumeInfo(
            name=name,
            host=self._hostname(),
            state=VolumeState.ATTACHED if guest else VolumeState.AVAILABLE,
            size_gb=capacity // libvirt_xml.GIB,
            guest=guest,
            device=device,
        )

    def _definitions(self, domain):
        """(flag, XML) of the guest's persistent definition and, while it runs, its live one:
        a disk is attached or detached in each that it is (to be) part of."""
        libvirt = self._libvirt
        with self._translated():
            found = [
                (
                    libvirt.VIR_DOMAIN_AFFECT_CONFIG,
                    domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE),
                )
            ]
            if domain.isActive():
                found.append((libvirt.VIR_DOMAIN_AFFECT_LIVE, domain.XMLDesc(0)))
        return found

    def create_volume(self, host, spec):
        self._check_host(host)
        if spec.size_gb < 1:
            raise DriverError(f"Volume {spec.name} needs a size of at least 1 GB.")
        existing = self._lookup(volume_file(spec.name))
        if existing is not None:
            return self._volume_info(existing, self._attachments())
        xml = libvirt_xml.data_volume_xml(volume_file(spec.name), spec.size_gb)
        with self._translated():
            if not spec.snapshot:
                made = self._pool().createXML(xml, 0)
            else:
                found = self._snapshot(spec.snapshot)
                if found is None:
                    raise SnapshotNotFound(f"No snapshot named {spec.snapshot}.")
                snapshot_gb = found[0].info()[1] // libvirt_xml.GIB
                if snapshot_gb > spec.size_gb:
                    raise DriverError(
                        f"Snapshot {spec.snapshot} holds {snapshot_gb} GB, more than "
                        f"{spec.size_gb} GB."
                    )
                made = self._pool().createXMLFrom(xml, found[0], 0)
        return self._volume_info(made, {})

    def delete_volume(self, name):
        pool_volume = self._lookup(volume_file(name))
        if pool_volume is None:
            return
        with self._translated():
            path = pool_volume.path()
        holder = self._attachments().get(path)
        if holder:
            raise VolumeInUse(f"Volume {name} is attached to guest {holder[0]}.")
        with self._translated():
            pool_volume.delete(0)

    def attach_volume(self, guest, volume):
        """Attaches to the persistent definition, and to the running guest when it runs."""
        domain = self._domain(guest)
        pool_volume = self._lookup(volume_file(volume))
        if pool_volume is None:
            raise VolumeNotFound(f"No volume named {volume} on this hypervisor.")
        attachments = self._attachments()
        info = self._volume_info(pool_volume, attachments)
        if info.guest == guest:  # a retried attachment that had already happened
            return info
        if info.guest:
            raise VolumeInUse(f"Volume {volume} is attached to guest {info.guest}.")
        definitions = self._definitions(domain)
        taken = {
            device
            for _flag, xml in definitions
            for device in libvirt_xml.device_targets(xml, "disk")
        }
        device = free_disk_device({"vda", *taken})
        flags = 0
        for flag, _xml in definitions:
            flags |= flag
        with self._translated():
            disk = libvirt_xml.data_disk_xml(pool_volume.path(), device)
            domain.attachDeviceFlags(disk, flags)
        return VolumeInfo(volume, info.host, VolumeState.ATTACHED, info.size_gb, guest, device)

    def detach_volume(self, guest, volume):
        """Detaches from whichever of the guest's definitions hold the disk. A running guest
        may release the disk after the call returns; until it has, the volume still shows
        attached and a retry detaches again."""
        domain = self._find(guest)
        pool_volume = self._lookup(volume_file(volume))
        if domain is None or pool_volume is None:
            return
        with self._translated():
            path = pool_volume.path()
        flags, device = 0, ""
        for flag, xml in self._definitions(domain):
            held = libvirt_xml.disk_sources(xml).get(path)
            if held:
                flags, device = flags | flag, held
        if flags:
            with self._translated():
                domain.detachDeviceFlags(libvirt_xml.data_disk_xml(path, device), flags)

    def _resume_paused_writer(self, volume):
        """Resume the guest holding ``volume`` if it is paused: a copy killed before its
        ``resume`` leaves it so, and the platform pauses guests for nothing else."""
        pool_volume = self._lookup(volume_file(volume))
        if pool_volume is None:
            return
        with self._translated():
            holder = self._attachments().get(pool_volume.path())
            writer = self._find(holder[0]) if holder else None
            if writer is not None and writer.state()[0] == self._libvirt.VIR_DOMAIN_PAUSED:
                writer.resume()

    def snapshot_volume(self, volume, snapshot_name):
        libvirt = self._libvirt
        found = self._snapshot(snapshot_name)
        if found is None:
            pool_volume = self._lookup(volume_file(volume))
            if pool_volume is None:
                raise VolumeNotFound(f"No volume named {volume} on this hypervisor.")
            with self._translated():
                path = pool_volume.path()
            holder = self._attachments().get(path)
            writer = self._find(holder[0]) if holder else None
            with self._translated():
                pause = writer is not None and writer.state()[0] == libvirt.VIR_DOMAIN_RUNNING
                size_gb = pool_volume.info()[1] // libvirt_xml.GIB
                xml = libvirt_xml.data_volume_xml(snapshot_file(snapshot_name, volume), size_gb)
                if pause:
                    writer.suspend()
                try:
                    made = self._pool().createXMLFrom(xml, pool_volume, 0)
                finally:
                    if pause:
                        writer.resume()
            found = made, volume
        else:
            self._resume_paused_writer(volume)
        if found[1] != volume:
            raise DriverError(
                f"Snapshot {snapshot_name} is a copy of volume {found[1]}, not {volume}."
            )
        with self._translated():
            size_gb = found[0].info()[1] // libvirt_xml.GIB
        return SnapshotInfo(snapshot_name, volume, self._hostname(), size_gb)

    def delete_snapshot(self, name):
        found = self._snapshot(name)
        if found is not None:
            with self._translated():
                found[0].delete(0)

    def volume(self, name):
        pool_volume = self._lookup(volume_file(name))
        if pool_volume is None:
            return missing_volume(name)
        return self._volume_info(pool_volume, self._attachments())

    def volumes(self, host=None):
        if host is not None:
            self._check_host(host)
        attachments = self._attachments()
        with self._translated():
            made = [
                pool_volume
                for pool_volume in self._pool().listAllVolumes(0)
                if pool_volume.name().endswith(VOLUME_SUFFIX)
            ]
        return [self._volume_info(pool_volume, attachments) for pool_volume in made]
