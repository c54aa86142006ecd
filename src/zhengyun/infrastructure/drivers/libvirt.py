"""The libvirt compute driver (R-I1, R-I3, R-I4): real hypervisors through libvirt-python.

One connection is one host: ``qemu+ssh://user@host/system`` for a KVM server, or
``test:///default``, libvirt's in-process fake, which CI runs the contract tests against.
libvirt-python is optional (``pip install 'zhengyun[libvirt]'``, built against Debian's
libvirt-dev): the platform runs on the simulator without it, and only loading this driver
needs it.

Parameters of the platform's own, taken out of the URI before libvirt sees it (libvirt
keeps its own, such as ``keyfile`` or ``no_verify``):

- ``idle_watts``, ``peak_watts``: the host's power model, which libvirt cannot report
  (defaults 150 and 450 W, a common two-socket server; measure yours and set them);
- ``disk_gb``: the host's disk capacity (default: the sum of its active storage pools);
- ``storage_pool``: where root disks and volumes are made (default: ``default``, or the
  only pool);
- ``shutdown_timeout``: seconds a stop waits for the guest's own shutdown before powering
  it off (default 30; 0 powers off at once);
- ``console_listen``: the address guests' VNC consoles listen on (default 127.0.0.1, so a
  console is reached through an SSH tunnel or a proxy on the host, never openly);
- ``uplink``: an Open vSwitch bridge the hosts share a trunk through (default: none, and
  each network is a bridge of the host's own); each network is then a VLAN on it;
- ``shared_storage``: 1 when the storage pool is shared by the hosts (NFS, Ceph RBD …), so
  a live migration moves the guest alone. By default disks are local: a live migration
  copies the guest's disks that live in this host's storage pools (root disk and attached
  volumes) to the target, where libvirt creates them at the same paths (so the target's
  pool must be the same directory), and removes them here once the guest runs there
  (``discard_moved_disks`` removes them later when a move was cut short before that).
"""

import logging
import threading
import time
from contextlib import contextmanager, suppress
from functools import cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import libvirt_xml
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
    Unsupported,
    linear_power,
    missing_guest,
)
from .libvirt_firewall import LibvirtFirewalls
from .libvirt_networks import LibvirtNetworks
from .libvirt_volumes import LibvirtVolumes, volume_file

logger = logging.getLogger(__name__)
UPLOAD_CHUNK = 256 * 1024

INSTALL_HINT = (
    "apt-get install libvirt-dev pkg-config, then pip install 'zhengyun[libvirt]' "
    "(make test-deps does both)"
)
PARAMETERS = {
    "idle_watts": (float, 150.0),
    "peak_watts": (float, 450.0),
    "disk_gb": (int, 0),
    "storage_pool": (str, ""),
    "shutdown_timeout": (float, 30.0),
    "console_listen": (str, "127.0.0.1"),
    "uplink": (str, ""),
    "shared_storage": (int, 0),
}


@cache
def libvirt_module():
    """The libvirt-python module, imported on first use, or a DriverError saying how to
    install it."""
    try:
        import libvirt
    except ImportError:
        raise DriverError(
            f"The libvirt driver needs libvirt-python, which is not installed: {INSTALL_HINT}."
        ) from None
    # libvirt prints every error to stderr as well; ours are raised and logged instead.
    libvirt.registerErrorHandler(lambda _context, _error: None, None)
    return libvirt


def split_uri(uri):
    """(the URI libvirt is given, our parameters)."""
    parts = urlsplit(uri)
    ours = {name: default for name, (_, default) in PARAMETERS.items()}
    theirs = []
    for name, text in parse_qsl(parts.query, keep_blank_values=True):
        if name in PARAMETERS:
            try:
                ours[name] = PARAMETERS[name][0](text)
            except ValueError:
                raise DriverError(f"URI parameter {name}={text!r} is not a number.") from None
        else:
            theirs.append((name, text))
    return urlunsplit(parts._replace(query=urlencode(theirs))), ours


def migration_flags(libvirt, state, copy_disks):
    """Flags of a peer-to-peer migration that leaves the guest defined on the target only:
    live for a running guest, offline otherwise, copying its disks when they are local."""
    flags = (
        libvirt.VIR_MIGRATE_PEER2PEER
        | libvirt.VIR_MIGRATE_PERSIST_DEST
        | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    )
    if state == GuestState.RUNNING:
        flags |= libvirt.VIR_MIGRATE_LIVE
        if copy_disks:
            flags |= libvirt.VIR_MIGRATE_NON_SHARED_DISK
    elif copy_disks:
        # An offline migration moves the definition only; disks cannot be copied with it.
        raise Unsupported(
            "A stopped guest with local disks cannot be migrated; start it first, or use "
            "shared storage (shared_storage=1)."
        )
    else:
        flags |= libvirt.VIR_MIGRATE_OFFLINE
    return flags


def translate(libvirt, error):
    """The DriverError for a libvirtError, with libvirt's own message."""
    code, domain = error.get_error_code(), error.get_error_domain()
    message = error.get_error_message() or str(error)
    if code == libvirt.VIR_ERR_NO_DOMAIN:
        return GuestNotFound(f"The hypervisor has no such guest: {message}")
    if code in (
        libvirt.VIR_ERR_NO_SUPPORT,
        libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,
        libvirt.VIR_ERR_OPERATION_UNSUPPORTED,
    ):
        return Unsupported(f"The hypervisor cannot do this: {message}")
    if domain in (libvirt.VIR_FROM_REMOTE, libvirt.VIR_FROM_RPC) or code in (
        libvirt.VIR_ERR_NO_CONNECT,
        libvirt.VIR_ERR_AUTH_FAILED,
        libvirt.VIR_ERR_OPERATION_TIMEOUT,
    ):
        return HostUnavailable(f"The hypervisor does not answer: {message}")
    return DriverError(f"The hypervisor refused: {message}")


class LibvirtDriver(LibvirtVolumes, LibvirtFirewalls, LibvirtNetworks, ComputeDriver):
    """A host managed through libvirt. Connects on first use and again after the
    connection drops."""

    def __init__(self, uri: str):
        super().__init__(uri)
        self._libvirt = libvirt_module()
        self._libvirt_uri, self.parameters = split_uri(uri)
        self._connection = None
        self._host = ""
        self._lock = threading.Lock()
        self._cpu_samples = {}  # guest or host → (cumulative CPU ns, time), for rates

    # Connection and errors --------------------------------------------------------------

    @contextmanager
    def _translated(self):
        try:
            yield
        except self._libvirt.libvirtError as error:
            raise translate(self._libvirt, error) from None

    def _conn(self):
        with self._lock:
            if self._connection is None or not self._connection.isAlive():
                try:
                    self._connection = self._libvirt.open(self._libvirt_uri)
                    self._host = self._connection.getHostname()
                except self._libvirt.libvirtError as error:
                    message = error.get_error_message() or str(error)
                    raise HostUnavailable(f"Cannot connect to the hypervisor: {message}") from None
            return self._connection

    def _hostname(self):
        self._conn()
        return self._host

    def _check_host(self, host):
        if host != self._hostname():
            raise HostUnavailable(f"This connection manages host {self._hostname()}, not {host}.")

    def _domain(self, name):
        with self._translated():
            return self._conn().lookupByName(name)

    def _find(self, name):
        try:
            return self._domain(name)
        except GuestNotFound:
            return None

    def _info(self, domain):
        libvirt = self._libvirt
        with self._translated():
            state = domain.state()[0]
            vcpus, memory_mb = libvirt_xml.configured_size(
                domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
            )
            name = domain.name()
        # A guest paused, suspended or still shutting down holds its host's resources: it
        # counts as running until it is off.
        stopped = state in (
            libvirt.VIR_DOMAIN_SHUTOFF,
            libvirt.VIR_DOMAIN_CRASHED,
            libvirt.VIR_DOMAIN_NOSTATE,
        )
        return GuestInfo(
            name=name,
            host=self._hostname(),
            state=GuestState.STOPPED if stopped else GuestState.RUNNING,
            vcpus=vcpus,
            memory_mb=memory_mb,
        )

    def _domain_type(self):
        """``test`` on the test driver, ``kvm`` where the host offers it, ``qemu`` (TCG)
        otherwise."""
        with self._translated():
            connection = self._conn()
            if connection.getType().lower() == "test":  # libvirt says "TEST"
                return "test"
            return "kvm" if "type='kvm'" in connection.getCapabilities() else "qemu"

    def _pool(self):
        wanted = self.parameters["storage_pool"]
        with self._translated():
            connection = self._conn()
            pools = connection.listAllStoragePools(
                self._libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE
            )
        named = {pool.name(): pool for pool in pools}
        if wanted or "default" in named:
            pool = named.get(wanted or "default")
        else:
            pool = pools[0] if len(pools) == 1 else None
        if pool is None:
            raise DriverError(
                "The hypervisor has no storage pool for disks and volumes; name one with "
                "storage_pool= in the provider's URI."
            )
        return pool

    @staticmethod
    def _root_volume_name(name):
        return f"{name}.qcow2"

    def _root_disk(self, spec):
        """The path of the guest's root disk, made over its image if it is not there yet."""
        pool = self._pool()
        volume_name = self._root_volume_name(spec.name)
        with self._translated():
            if volume_name not in pool.listVolumes():
                pool.createXML(
                    libvirt_xml.root_volume_xml(volume_name, spec.disk_gb, spec.image), 0
                )
            return pool.storageVolLookupByName(volume_name).path()

    @staticmethod
    def _config_drive_name(name):
        return f"{name}.config.iso"

    def _config_drive(self, spec):
        """The path of the guest's config drive, uploaded into the pool afresh: the guest is
        defined only once its drive is whole, so a drive found here may be one a define cut
        short left half-written. Empty without one, and on libvirt's test driver, which
        takes no uploads (logged); any other hypervisor that refuses fails the define."""
        data = spec.config_drive
        if not data:
            return ""
        libvirt = self._libvirt
        file_name = self._config_drive_name(spec.name)
        left = self._lookup(file_name)
        with self._translated():
            if left is not None:
                left.delete(0)
            volume = self._pool().createXML(libvirt_xml.raw_volume_xml(file_name, len(data)), 0)
            stream = self._conn().newStream(0)
            try:
                volume.upload(stream, 0, len(data), 0)
                view = memoryview(data)
                while view:
                    view = view[stream.send(bytes(view[:UPLOAD_CHUNK])) :]
                stream.finish()
            except BaseException as error:
                # The stream is the kept connection's: left open, it holds the volume.
                with suppress(libvirt.libvirtError):
                    stream.abort()
                with suppress(libvirt.libvirtError):
                    volume.delete(0)
                unsupported = (
                    isinstance(error, libvirt.libvirtError)
                    and error.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT
                )
                if not (unsupported and self._domain_type() == "test"):
                    raise
                logger.warning("%s: the test driver takes no config drive: %s", spec.name, error)
                return ""
            return volume.path()

    def _remove_config_drive(self, name):
        left = self._lookup(self._config_drive_name(name))
        if left is not None:
            with self._translated():
                left.delete(0)

    def _remove_root_disk(self, name):
        pool = self._pool()
        volume_name = self._root_volume_name(name)
        with self._translated():
            if volume_name in pool.listVolumes():
                pool.storageVolLookupByName(volume_name).delete(0)

    # The interface ----------------------------------------------------------------------

    def hosts(self):
        with self._translated():
            connection = self._conn()
            _model, memory_mb, cpus, *_ = connection.getInfo()
            disk_gb = self.parameters["disk_gb"] or sum(
                pool.info()[1] // libvirt_xml.GIB
                for pool in connection.listAllStoragePools(
                    self._libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE
                )
            )
        return [
            HostInfo(
                name=self._hostname(),
                vcpus=cpus,
                memory_mb=memory_mb,
                disk_gb=disk_gb,
                idle_watts=self.parameters["idle_watts"],
                peak_watts=self.parameters["peak_watts"],
            )
        ]

    def define(self, host, spec):
        """Makes the guest's networks first, so the host never lacks one the guest refers
        to."""
        self._check_host(host)
        for network in dict.fromkeys(nic.network for nic in spec.nics):
            self._ensure_network(network)
        existing = self._find(spec.name)
        if existing is not None:
            return self._info(existing)
        xml = libvirt_xml.domain_xml(
            spec,
            self._domain_type(),
            disk_path=self._root_disk(spec) if spec.image else "",
            console_listen=self.parameters["console_listen"],
            config_drive_path=self._config_drive(spec),
        )
        with self._translated():
            domain = self._conn().defineXML(xml)
        return self._info(domain)

    def start(self, name):
        domain = self._domain(name)
        with self._translated():
            if not domain.isActive():
                domain.create()
        return self._info(domain)

    def stop(self, name):
        """A graceful ACPI shutdown first, so the guest's file systems are left clean, then
        a power-off once ``shutdown_timeout`` has passed or where shutdown is unsupported."""
        domain = self._domain(name)
        deadline = time.monotonic() + self.parameters["shutdown_timeout"]
        with self._translated():
            if domain.isActive() and self.parameters["shutdown_timeout"] > 0:
                try:
                    domain.shutdown()
                except self._libvirt.libvirtError as error:
                    logger.info("graceful shutdown of %s refused: %s", name, error)
                while domain.isActive() and time.monotonic() < deadline:
                    time.sleep(0.5)
            if domain.isActive():
                domain.destroy()
        return self._info(domain)

    def reboot(self, name):
        domain = self._domain(name)
        with self._translated():
            if not domain.isActive():
                raise DriverError(f"Guest {name} is not running.")
            domain.reboot(0)
        return self._info(domain)

    def delete(self, name):
        """Power off and undefine (snapshot metadata and any saved state with it), then
        remove the guest's filter and the root disk made for it, which a deletion
        interrupted earlier may have left behind the guest. Its volumes stay in the pool:
        undefining the guest is what detaches them."""
        libvirt = self._libvirt
        domain = self._find(name)
        if domain is not None:
            with self._translated():
                if domain.isActive():
                    domain.destroy()
                domain.undefineFlags(
                    libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                    | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                )
        self._remove_firewall(name)
        self._remove_root_disk(name)
        self._remove_config_drive(name)

    def resize(self, name, vcpus, memory_mb):
        """Changes the definition, then the running guest where the hypervisor can hot-plug
        (vCPUs up to the boot-time maximum, memory down by balloon); what it cannot change
        live takes effect at the next start."""
        libvirt = self._libvirt
        domain = self._domain(name)
        config = libvirt.VIR_DOMAIN_AFFECT_CONFIG
        old = self._info(domain)
        kib = memory_mb * libvirt_xml.KIB_PER_MB
        # The maximum must stay at or above the current figure at every step.
        vcpu_steps = [(vcpus, config | libvirt.VIR_DOMAIN_VCPU_MAXIMUM), (vcpus, config)]
        memory_steps = [(kib, config | libvirt.VIR_DOMAIN_MEM_MAXIMUM), (kib, config)]
        with self._translated():
            for value, flags in vcpu_steps if vcpus >= old.vcpus else vcpu_steps[::-1]:
                domain.setVcpusFlags(value, flags)
            for value, flags in memory_steps if memory_mb >= old.memory_mb else memory_steps[::-1]:
                domain.setMemoryFlags(value, flags)
            if domain.isActive():
                for change, value in ((domain.setVcpusFlags, vcpus), (domain.setMemoryFlags, kib)):
                    try:
                        change(value, libvirt.VIR_DOMAIN_AFFECT_LIVE)
                    except libvirt.libvirtError as error:
                        logger.info("%s takes its new size at next start: %s", name, error)
        return self._info(domain)

    def grow_disk(self, name, disk_gb):
        """The root volume made for the guest grows: through the running guest's block
        device (which the guest sees at once), or in the pool while it is stopped."""
        libvirt = self._libvirt
        domain = self._domain(name)
        pool = self._pool()
        volume_name = self._root_volume_name(name)
        with self._translated():
            pool.refresh(0)  # a disk that came with a migrated guest is not listed before
            if volume_name not in pool.listVolumes():
                return 0  # booted from no image: no disk of ours
            volume = pool.storageVolLookupByName(volume_name)
            capacity = volume.info()[1]
            wanted = disk_gb * libvirt_xml.GIB
            if wanted > capacity:
                if domain.isActive():
                    device = libvirt_xml.disk_sources(domain.XMLDesc(0))[volume.path()]
                    domain.blockResize(device, wanted, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
                else:
                    volume.resize(wanted, 0)
                capacity = wanted
        return capacity // libvirt_xml.GIB

    def live_migrate(self, name, target_host):
        """Peer-to-peer migration to the target's libvirt, reached by the same scheme, user
        and options as this connection; the definition moves with the guest."""
        libvirt = self._libvirt
        domain = self._domain(name)
        if target_host == self._hostname():  # a retried migration that had already happened
            return self._info(domain)
        before = self._info(domain)
        target_uri = urlsplit(self._libvirt_uri)
        user = f"{target_uri.username}@" if target_uri.username else ""
        target_uri = urlunsplit(target_uri._replace(netloc=f"{user}{target_host}"))
        local = {} if self.parameters["shared_storage"] else self._local_volumes(domain)
        flags = migration_flags(libvirt, before.state, copy_disks=bool(local))
        # Only the disks the guest is defined with are copied; one a detach has taken out of
        # the definition but the running guest still holds stays (and the move fails).
        params = {libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS: sorted(local)} if local else {}
        with self._translated():
            domain.migrateToURI3(target_uri, params, flags)
        # The copies on the target serve the guest now; these would be left unused. The
        # guest has moved whatever happens here, so a copy that will not go is only logged.
        for volume in local.values():
            try:
                volume.delete(0)
            except self._libvirt.libvirtError as error:
                logger.warning("%s: its old disk copy stays on this host: %s", name, error)
        return GuestInfo(name, target_host, before.state, before.vcpus, before.memory_mb)

    def discard_moved_disks(self, name, volumes=()):
        """Nothing goes with shared storage: the target uses the same files."""
        if self.parameters["shared_storage"] or self._find(name) is not None:
            return []
        used = self._attachments()
        removed = []
        own = (self._root_volume_name(name), self._config_drive_name(name))
        for file_name in (*own, *map(volume_file, volumes)):
            pool_volume = self._lookup(file_name)
            if pool_volume is None:
                continue
            with self._translated():
                if pool_volume.path() in used:
                    continue
                pool_volume.delete(0)
            removed.append(file_name)
        return removed

    def _local_volumes(self, domain):
        """``{device: storage volume}`` of this host behind the file-backed disks the guest
        is defined with."""
        connection = self._conn()
        found = {}
        with self._translated():
            xml = domain.XMLDesc(self._libvirt.VIR_DOMAIN_XML_INACTIVE)
            for path, device in libvirt_xml.disk_sources(xml).items():
                try:
                    found[device] = connection.storageVolLookupByPath(path)
                except self._libvirt.libvirtError:
                    continue  # a file outside every storage pool: not ours to copy
        return found

    def console_url(self, name):
        domain = self._domain(name)
        with self._translated():
            if not domain.isActive():
                raise DriverError(f"Guest {name} is not running, so it has no console.")
            protocol, listen, port = libvirt_xml.graphics_address(domain.XMLDesc(0))
        if not port:
            raise Unsupported(f"The hypervisor gave guest {name} no console port.")
        if listen in ("", "0.0.0.0", "::"):  # noqa: S104 - read, not bound
            listen = urlsplit(self._libvirt_uri).hostname or self._hostname()
        return f"{protocol}://{listen}:{port}?ConnectionName={name}"

    def guest(self, name):
        domain = self._find(name)
        return missing_guest(name) if domain is None else self._info(domain)

    def guests(self, host=None):
        if host is not None:
            self._check_host(host)
        with self._translated():
            domains = self._conn().listAllDomains(0)
        return [self._info(domain) for domain in domains]

    def _io_counters(self, domain, xml):
        """The domain's disk and network byte counters summed over its devices, and the
        names of those the hypervisor would not give."""
        libvirt = self._libvirt
        figures = dict.fromkeys(IO_COUNTERS, 0)
        unavailable = []
        try:
            for disk in libvirt_xml.device_targets(xml, "disk"):
                _, read, _, written, _ = domain.blockStats(disk)
                figures["disk_read_bytes"] += read
                figures["disk_write_bytes"] += written
        except libvirt.libvirtError:
            unavailable += ["disk_read_bytes", "disk_write_bytes"]
        try:
            for interface in libvirt_xml.device_targets(xml, "interface"):
                stats = domain.interfaceStats(interface)
                figures["net_rx_bytes"] += stats[0]
                figures["net_tx_bytes"] += stats[4]
        except libvirt.libvirtError:
            unavailable += ["net_rx_bytes", "net_tx_bytes"]
        return figures, unavailable

    def _host_io_counters(self, connection):
        """The host's disk and network traffic as the sum of its running domains' counters
        (libvirt has no host-wide block or interface statistics). A domain that stops takes
        its bytes with it, which a collector sees as a counter reset."""
        figures = dict.fromkeys(IO_COUNTERS, 0)
        unavailable = set()
        for domain in connection.listAllDomains(self._libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            try:
                xml = domain.XMLDesc(0)
            except self._libvirt.libvirtError:  # stopped or gone since it was listed
                continue
            counters, missing = self._io_counters(domain, xml)
            unavailable.update(missing)
            for name, value in counters.items():
                figures[name] += value
        return figures, sorted(unavailable)

    def _cpu_percent(self, key, cpu_ns, capacity):
        """Percent of ``capacity`` CPUs busy since the previous sample of ``key``; None on
        the first sample."""
        now = time.monotonic()
        previous = self._cpu_samples.get(key)
        self._cpu_samples[key] = (cpu_ns, now)
        if previous is None or now <= previous[1]:
            return None
        busy = (cpu_ns - previous[0]) / ((now - previous[1]) * 1e9 * capacity)
        return round(min(max(busy, 0.0), 1.0) * 100, 2)

    def host_metrics(self, host):
        self._check_host(host)
        libvirt = self._libvirt
        unavailable = []
        with self._translated():
            connection = self._conn()
            _model, memory_total_mb, cpus, *_ = connection.getInfo()
            running = connection.numOfDomains()
        cpu_percent = None
        try:
            stats = connection.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS, 0)
            busy_ns = sum(stats.get(field, 0) for field in ("user", "kernel", "iowait"))
            cpu_percent = self._cpu_percent(("host", host), busy_ns, cpus)
        except libvirt.libvirtError:
            pass
        if cpu_percent is None:
            unavailable += ["cpu_percent", "power_watts"]
        memory_used_mb = 0
        try:
            memory = connection.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS, 0)
            free_kib = sum(memory.get(field, 0) for field in ("free", "buffers", "cached"))
            memory_used_mb = (memory["total"] - free_kib) // 1024
        except libvirt.libvirtError:
            unavailable.append("memory_used_mb")
        with self._translated():
            io, missing = self._host_io_counters(connection)
        unavailable += missing
        return HostMetrics(
            host=host,
            cpu_percent=cpu_percent or 0.0,
            memory_used_mb=memory_used_mb,
            memory_total_mb=memory_total_mb,
            running_guests=running,
            power_watts=0.0
            if cpu_percent is None
            else round(
                linear_power(
                    self.parameters["idle_watts"],
                    self.parameters["peak_watts"],
                    cpu_percent / 100,
                ),
                1,
            ),
            unavailable=tuple(unavailable),
            **io,
        )

    def guest_metrics(self, name):
        libvirt = self._libvirt
        domain = self._domain(name)
        with self._translated():
            if not domain.isActive():
                self._cpu_samples.pop(("guest", name), None)
                return GuestMetrics(name, 0.0, 0, 0, 0, 0, 0)
            xml = domain.XMLDesc(0)
            vcpus = domain.info()[3]
        unavailable = []
        cpu_percent = None
        try:
            cpu_ns = domain.getCPUStats(True)[0]["cpu_time"]
            cpu_percent = self._cpu_percent(("guest", name), cpu_ns, vcpus)
        except (libvirt.libvirtError, IndexError, KeyError):
            pass
        if cpu_percent is None:
            unavailable.append("cpu_percent")
        memory_used_mb = 0
        try:
            memory = domain.memoryStats()
            if "available" in memory and "unused" in memory:
                memory_used_mb = (memory["available"] - memory["unused"]) // 1024
            elif "rss" in memory:
                memory_used_mb = memory["rss"] // 1024
            else:
                unavailable.append("memory_used_mb")
        except libvirt.libvirtError:
            unavailable.append("memory_used_mb")
        figures, missing = self._io_counters(domain, xml)
        unavailable += missing
        return GuestMetrics(
            name=name,
            cpu_percent=cpu_percent or 0.0,
            memory_used_mb=memory_used_mb,
            unavailable=tuple(unavailable),
            **figures,
        )
