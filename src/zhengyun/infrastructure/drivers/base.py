"""The contract every compute driver keeps (R-I1, R-I3, R-I4), and how a driver is found.

A driver speaks to one hypervisor connection, named by a URI, and knows nothing of pools,
departments, quotas or capacity: the platform decides where a guest goes and keeps its own
accounting (many hypervisors, libvirt's among them, never refuse an overcommitted host). What
a driver promises is in the docstrings below, and one contract test holds every driver to it.

Guests are named by the platform's instance UUID, and that name is what makes the lifecycle
safe to retry (design rule 5): defining a name that exists returns the existing guest, and
deleting a missing guest succeeds.

Volumes and their snapshots are named by the platform's UUIDs in the same way, and live in
one host's local storage, the only kind both drivers have: a volume is attached only to a
guest on its own host, and a snapshot stays on the host of the volume it copies.

A guest's network interfaces are given at definition, one ``Nic`` per port the platform
handed out: its MAC address and the platform network it plugs into, named by the network's
UUID. The driver realises each platform network on each host that needs one as a segment of
its own (never shared with another network, so two departments' networks never meet), made
idempotently and kept until the platform removes it (``remove_network``) once no guest is
plugged into it.

A guest's firewall is the list of ``FirewallRule``s it lets through, already resolved by the
platform (security groups expanded to addresses): ``apply_firewall`` replaces the whole list,
so applying the same list again changes nothing. Traffic no rule allows is dropped; a guest
never given a list has no filter at all. With the list comes the guest's own addresses (its
ports'): a filtered guest sends only from them and from its own interfaces' MAC addresses —
a guest forging another's address, to pass a rule that admits that address, is dropped.

Putting a host in maintenance is not a driver operation: the hypervisor has no such state.
The platform stops placing on the host and drains it with ``live_migrate``.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "zhengyun.compute_drivers"


class DriverError(Exception):
    """A hypervisor operation failed; the message is safe to show to the person who asked."""


class GuestNotFound(DriverError):
    """The hypervisor has no guest of that name."""


class HostUnavailable(DriverError):
    """The host is unknown to this connection, down, or does not answer."""


class CapacityRefused(DriverError):
    """The hypervisor itself refused the guest for want of room."""


class VolumeNotFound(DriverError):
    """The hypervisor has no volume of that name."""


class SnapshotNotFound(DriverError):
    """The hypervisor has no snapshot of that name."""


class VolumeInUse(DriverError):
    """The volume is attached to a guest, so it cannot be deleted or attached elsewhere."""


class NetworkInUse(DriverError):
    """Guests are still plugged into the network, so it cannot be removed."""


class Unsupported(DriverError):
    """This connection cannot carry out the operation (for example a test hypervisor asked
    to live-migrate)."""


class GuestState(StrEnum):
    """What the hypervisor says of a guest."""

    RUNNING = "running"
    STOPPED = "stopped"
    MISSING = "missing"


class VolumeState(StrEnum):
    """What the hypervisor says of a volume."""

    AVAILABLE = "available"
    ATTACHED = "attached"
    MISSING = "missing"


@dataclass(frozen=True)
class HostInfo:
    """A physical host as its hypervisor reports it, with its power model (idle and peak
    watts, for the energy figures of R-I4)."""

    name: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    idle_watts: float
    peak_watts: float


@dataclass(frozen=True)
class Nic:
    """One network interface of a guest: its MAC address (lower case, colon-separated) and
    the platform network it is plugged into, the network's UUID as a string."""

    mac: str
    network: str


@dataclass(frozen=True)
class GuestSpec:
    """What to define. ``name`` is the instance's UUID as a string; ``image`` is a path or
    reference the driver boots from, empty for a guest without a disk image; ``nics`` its
    network interfaces in the order the guest sees them; ``config_drive`` an ISO 9660
    image the guest reads its identity and addresses from at boot (``config_drive``
    module), kept with the guest as a disk of its own."""

    name: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    image: str = ""
    nics: tuple[Nic, ...] = ()
    config_drive: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class GuestInfo:
    """A guest as the hypervisor sees it now: its configured size and where it lives.
    ``host`` is empty and the sizes zero when the guest is missing."""

    name: str
    host: str
    state: GuestState
    vcpus: int
    memory_mb: int


@dataclass(frozen=True)
class VolumeSpec:
    """What to create. ``name`` is the volume's UUID as a string; with ``snapshot`` the
    volume starts as a copy of that snapshot and must be at least as large."""

    name: str
    size_gb: int
    snapshot: str = ""


@dataclass(frozen=True)
class VolumeInfo:
    """A volume as the hypervisor sees it now. ``guest`` and ``device`` (the guest's disk
    name for it, such as ``vdb``) are empty unless it is attached; ``host`` is empty and the
    size zero when it is missing."""

    name: str
    host: str
    state: VolumeState
    size_gb: int
    guest: str = ""
    device: str = ""


@dataclass(frozen=True)
class SnapshotInfo:
    """A point-in-time copy of a volume, kept apart from it: it outlives the volume, and a
    new volume can be created from it."""

    name: str
    volume: str
    host: str
    size_gb: int


# The byte counters hosts and guests report, in the order drivers sum them.
IO_COUNTERS = ("disk_read_bytes", "disk_write_bytes", "net_rx_bytes", "net_tx_bytes")


@dataclass(frozen=True)
class HostMetrics:
    """One sample of a host. Figures the connection cannot supply are zero and named in
    ``unavailable``, so a collector can tell "idle" from "unknown". The byte figures are
    counters of the host's disk and network traffic since it last started (they go back to
    zero when it restarts), for a collector to turn into rates."""

    host: str
    cpu_percent: float
    memory_used_mb: int
    memory_total_mb: int
    running_guests: int
    power_watts: float
    disk_read_bytes: int = 0
    disk_write_bytes: int = 0
    net_rx_bytes: int = 0
    net_tx_bytes: int = 0
    unavailable: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuestMetrics:
    """One sample of a guest. CPU is a percentage of the guest's own vCPUs; the byte figures
    are counters since the guest last started, for a collector to turn into rates."""

    name: str
    cpu_percent: float
    memory_used_mb: int
    disk_read_bytes: int
    disk_write_bytes: int
    net_rx_bytes: int
    net_tx_bytes: int
    unavailable: tuple[str, ...] = ()


@dataclass(frozen=True)
class FirewallRule:
    """Traffic a guest lets through. ``direction`` is ``ingress`` (to the guest) or
    ``egress``; ``ethertype`` ``IPv4`` or ``IPv6``; ``protocol`` ``any``, ``tcp``, ``udp`` or
    ``icmp``; ``port_min``–``port_max`` the destination ports for TCP and UDP (0 for all);
    ``remote`` the far end's address range in CIDR notation, empty for anywhere."""

    direction: str
    ethertype: str
    protocol: str
    port_min: int = 0
    port_max: int = 0
    remote: str = ""


def missing_guest(name):
    """The GuestInfo of a guest the hypervisor does not have."""
    return GuestInfo(name=name, host="", state=GuestState.MISSING, vcpus=0, memory_mb=0)


def missing_volume(name):
    """The VolumeInfo of a volume the hypervisor does not have."""
    return VolumeInfo(name=name, host="", state=VolumeState.MISSING, size_gb=0)


def free_disk_device(taken):
    """The first virtio disk name not in ``taken``, after the root disk ``vda``: the same
    volumes attached in the same order get the same names on every driver."""
    for letter in "bcdefghijklmnopqrstuvwxyz":
        if f"vd{letter}" not in taken:
            return f"vd{letter}"
    raise DriverError("The guest has no free disk name left; detach a volume first.")


# On a bus of its own, so the guest's virtio disks keep the names the platform reports.
CONFIG_DRIVE_DEVICE = "sda"


def linear_power(idle_watts, peak_watts, cpu_fraction):
    """Watts drawn at a CPU load between 0 and 1, by the linear model most power studies
    start from (idle draw plus a share of the idle-to-peak range proportional to load)."""
    return idle_watts + (peak_watts - idle_watts) * min(max(cpu_fraction, 0.0), 1.0)


class ComputeDriver(ABC):
    """A connection to one hypervisor, which may manage one host (libvirt) or many (the
    simulator). Every method raises only ``DriverError`` and its subclasses."""

    def __init__(self, uri: str):
        self.uri = uri

    @abstractmethod
    def hosts(self) -> list[HostInfo]:
        """Every host this connection manages.

        :raises HostUnavailable: the hypervisor does not answer.
        """

    @abstractmethod
    def define(self, host: str, spec: GuestSpec) -> GuestInfo:
        """Create the guest on ``host``, stopped, each of ``spec.nics`` plugged into its
        network, which is made on ``host`` first as ``ensure_network`` makes it (where the
        hosts share an uplink, the network must be there already: ``define`` does not know
        its segment). Idempotent:
        when a guest named ``spec.name`` exists already (on any host) it is returned
        unchanged and nothing new is made but its networks, should one be missing.

        :raises HostUnavailable: ``host`` is unknown to this connection or down.
        :raises CapacityRefused: the hypervisor refused for want of room.
        """

    @abstractmethod
    def ensure_network(self, host: str, network: str, segment: int | None = None) -> None:
        """Make the platform network ``network`` (its UUID as a string) present and active
        on ``host``, on a segment of its own: ``segment``, the network's VLAN ID, where the
        connection's hosts share an uplink (such a connection refuses a network without
        one). Idempotent: a definition interrupted half-way is finished, and nothing is made
        twice. A guest is defined on or moved to a host only once its networks are there.

        :raises HostUnavailable: ``host`` is unknown to this connection or down.
        :raises DriverError: the hypervisor refused, or another network holds the segment
            this one would take.
        """

    @abstractmethod
    def remove_network(self, network: str) -> None:
        """Remove the platform network from every host of this connection. Removing a
        network that is not there is not an error.

        :raises NetworkInUse: a guest is still plugged into it (its name is in the message).
        :raises HostUnavailable: a host that has it is down, so removal cannot be confirmed.
        """

    @abstractmethod
    def networks(self, host: str | None = None) -> list[str]:
        """The platform networks present on ``host``, or on every host that answers, so
        the platform can remove those it has deleted.

        :raises HostUnavailable: ``host`` is unknown or down.
        """

    @abstractmethod
    def guest_nics(self, name: str) -> list[Nic]:
        """The guest's interfaces on platform networks, in the order the guest sees them.

        :raises GuestNotFound:
        :raises HostUnavailable: its host is down.
        """

    @abstractmethod
    def start(self, name: str) -> GuestInfo:
        """Power the guest on; a running guest is left running.

        :raises GuestNotFound:
        :raises HostUnavailable: its host is down.
        """

    @abstractmethod
    def stop(self, name: str) -> GuestInfo:
        """Power the guest off; a stopped guest is left stopped.

        :raises GuestNotFound:
        :raises HostUnavailable: its host is down.
        """

    @abstractmethod
    def reboot(self, name: str) -> GuestInfo:
        """Restart a running guest.

        :raises GuestNotFound:
        :raises DriverError: the guest is not running.
        """

    @abstractmethod
    def delete(self, name: str) -> None:
        """Stop the guest and remove it with the disks the driver made for it. Volumes
        attached to it are detached, not deleted. Deleting a missing guest is not an error.

        :raises HostUnavailable: its host is down, so removal cannot be confirmed.
        """

    @abstractmethod
    def resize(self, name: str, vcpus: int, memory_mb: int) -> GuestInfo:
        """Change the guest's configured vCPUs and memory; a running guest gets the new size
        now where the hypervisor can change it live, otherwise at its next start.

        :raises GuestNotFound:
        """

    def grow_disk(self, name: str, disk_gb: int) -> int:
        """Grow the guest's root disk to ``disk_gb`` (a disk never shrinks: a smaller or
        equal size changes nothing); its size now, in GB. A guest without a root disk of
        the driver's making has nothing to grow. The guest's own file system is grown by
        the guest (cloud-init's growpart does it at boot).

        :raises GuestNotFound:
        :raises Unsupported: this connection cannot grow disks.
        """
        raise Unsupported(f"{type(self).__name__} cannot grow a guest's disk.")

    @abstractmethod
    def live_migrate(self, name: str, target_host: str) -> GuestInfo:
        """Move the guest to ``target_host`` (running guests without stopping them). Its
        networks must be on the target already (``ensure_network`` through the target's
        connection), as a hypervisor plugs the guest in there on arrival.

        :raises GuestNotFound:
        :raises HostUnavailable: the target is unknown or down.
        :raises Unsupported: this connection cannot migrate.
        """

    def discard_moved_disks(self, name: str, volumes: tuple[str, ...] = ()) -> list[str]:
        """Remove what guest ``name`` left on this host when it was live-migrated away: the
        copies of its root disk and of the volumes named, which a migration removes itself
        unless it is cut short after the guest moved. A disk a guest here still uses, or a
        guest still defined here, keeps everything. The names of what was removed; a
        driver whose migrations leave nothing behind removes nothing.
        """
        return []

    @abstractmethod
    def console_url(self, name: str) -> str:
        """Where a console client reaches the running guest, as an RFC 7869 ``vnc://`` URL
        whose ``ConnectionName`` is the guest's name.

        :raises GuestNotFound:
        :raises DriverError: the guest is not running.
        :raises Unsupported: the hypervisor gives this guest no console address.
        """

    @abstractmethod
    def guest(self, name: str) -> GuestInfo:
        """The guest as it is now; state ``MISSING`` when the hypervisor has no such guest."""

    @abstractmethod
    def guests(self, host: str | None = None) -> list[GuestInfo]:
        """Every guest on ``host``, or on every host that answers, so a reconciler can find
        guests the platform does not know (orphans)."""

    @abstractmethod
    def host_metrics(self, host: str) -> HostMetrics:
        """A sample of the host's load, power draw and disk and network byte counters.

        :raises HostUnavailable: the host is unknown or down.
        """

    @abstractmethod
    def guest_metrics(self, name: str) -> GuestMetrics:
        """A sample of the guest's load and I/O counters (zeros while it is stopped).

        :raises GuestNotFound:
        """

    @abstractmethod
    def apply_firewall(
        self, name: str, rules: Sequence[FirewallRule], addresses: Sequence[str]
    ) -> None:
        """Make ``rules`` the whole of the guest's firewall, replacing what it had, whether
        the guest runs or not; traffic no rule allows is dropped, and so is traffic the guest
        sends from an address not among ``addresses`` (its own) or from a MAC address not
        its interfaces'. Idempotent.

        :raises GuestNotFound:
        :raises HostUnavailable: its host is down.
        :raises Unsupported: this connection cannot filter a guest's traffic.
        """

    @abstractmethod
    def create_volume(self, host: str, spec: VolumeSpec) -> VolumeInfo:
        """Create an unattached volume in ``host``'s local storage, empty or as a copy of
        ``spec.snapshot``. Idempotent: when a volume named ``spec.name`` exists already it is
        returned unchanged and nothing new is made.

        :raises HostUnavailable: ``host`` is unknown to this connection or down.
        :raises SnapshotNotFound: the snapshot to copy does not exist.
        :raises DriverError: the snapshot is on another host or larger than ``size_gb``.
        """

    @abstractmethod
    def delete_volume(self, name: str) -> None:
        """Remove the volume and its data (its snapshots stay). Deleting a missing volume is
        not an error.

        :raises VolumeInUse: it is attached; detach it first.
        :raises HostUnavailable: its host is down, so removal cannot be confirmed.
        """

    @abstractmethod
    def attach_volume(self, guest: str, volume: str) -> VolumeInfo:
        """Attach the volume to the guest as its next free virtio disk, at once if the guest
        is running. Idempotent: a volume attached to this guest already is returned as it is.

        :raises GuestNotFound:
        :raises VolumeNotFound:
        :raises VolumeInUse: it is attached to another guest.
        :raises DriverError: the guest and the volume are on different hosts.
        :raises HostUnavailable: their host is down.
        :raises Unsupported: this connection cannot attach disks.
        """

    @abstractmethod
    def detach_volume(self, guest: str, volume: str) -> None:
        """Detach the volume from the guest, at once if the guest is running. A volume not
        attached to this guest (or either missing) is left as it is, without error.

        :raises HostUnavailable: their host is down.
        :raises Unsupported: this connection cannot detach disks.
        """

    @abstractmethod
    def snapshot_volume(self, volume: str, snapshot_name: str) -> SnapshotInfo:
        """Copy the volume as it is now into a snapshot on its host, crash-consistent when a
        running guest writes to it. Idempotent: a snapshot of that name taken from this
        volume is returned unchanged.

        :raises VolumeNotFound:
        :raises DriverError: a snapshot of that name copies another volume.
        :raises HostUnavailable: its host is down.
        """

    @abstractmethod
    def delete_snapshot(self, name: str) -> None:
        """Remove the snapshot; volumes created from it keep their data. Deleting a missing
        snapshot is not an error.

        :raises HostUnavailable: its host is down, so removal cannot be confirmed.
        """

    @abstractmethod
    def volume(self, name: str) -> VolumeInfo:
        """The volume as it is now; state ``MISSING`` when the hypervisor has no such volume."""

    @abstractmethod
    def volumes(self, host: str | None = None) -> list[VolumeInfo]:
        """Every volume on ``host``, or on every host that answers, so a reconciler can find
        volumes the platform does not know (orphans) and attachments it did not make."""


def load_driver(kind: str, uri: str) -> ComputeDriver:
    """The driver registered as ``kind`` in the ``zhengyun.compute_drivers`` entry point
    group, connected to ``uri``.

    :raises DriverError: no driver of that kind is installed, or the driver cannot serve
        ``uri`` (a malformed URI, a library it needs missing).
    """
    found = entry_points(group=ENTRY_POINT_GROUP, name=kind)
    if not found:
        known = sorted(point.name for point in entry_points(group=ENTRY_POINT_GROUP))
        raise DriverError(
            f"No compute driver named {kind!r} is installed (installed: {', '.join(known)})."
        )
    driver_class = next(iter(found)).load()
    return driver_class(uri)
