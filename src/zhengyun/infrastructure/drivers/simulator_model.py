"""What the simulated hypervisor pretends (R-I4): host sizes named in its URI, the CPU load
of each guest, how long boots and live migrations take, and the I/O a busy guest does. Plain
functions, so the figures can be read and checked apart from the driver's bookkeeping."""

import random
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from .base import DriverError

# name: (type, default). Sizes of a common two-socket virtualisation server.
PARAMETERS = {
    "hosts": (int, 4),
    "vcpus": (int, 64),
    "memory_mb": (int, 262144),
    "disk_gb": (int, 4000),
    "nic_gbps": (float, 10.0),  # the migration network
    "idle_watts": (float, 150.0),
    "peak_watts": (float, 450.0),
    "seed": (int, 0),
    "failure_rate": (float, 0.0),  # share of changing calls that fail, half after acting
}

# Per-second I/O of a guest at full load, to make counters that grow with load and uptime.
FULL_LOAD_BYTES_PER_S = {
    "disk_read_bytes": 40e6,
    "disk_write_bytes": 20e6,
    "net_rx_bytes": 25e6,
    "net_tx_bytes": 12e6,
}
# Per-second I/O of a host with no guest running: the hypervisor's own logs, monitoring
# agents and image reads.
HOST_BASELINE_BYTES_PER_S = {
    "disk_read_bytes": 0.5e6,
    "disk_write_bytes": 1e6,
    "net_rx_bytes": 0.2e6,
    "net_tx_bytes": 0.3e6,
}


@dataclass(frozen=True)
class SimulatedDurations:
    """How long the guest's last boot and last migration took, in simulated seconds."""

    boot_seconds: float
    migration_seconds: float


def host_io_rates(guest_loads):
    """Bytes per second a host moves with running guests at CPU ``guest_loads`` (0–1 each):
    its own baseline plus each guest's full-load I/O scaled by the guest's load."""
    total = sum(guest_loads)
    return {
        counter: baseline + FULL_LOAD_BYTES_PER_S[counter] * total
        for counter, baseline in HOST_BASELINE_BYTES_PER_S.items()
    }


def host_name(number):
    """Deterministic host names: sim-0001, sim-0002, …"""
    return f"sim-{number:04d}"


def parse_uri(uri):
    """(path or None for memory, parameters) of a ``sim:`` URI, or a DriverError saying
    what is wrong with it."""
    parts = urlsplit(uri)
    if parts.scheme != "sim" or not (
        (parts.netloc == "memory" and not parts.path) or (not parts.netloc and parts.path)
    ):
        raise DriverError(
            f"Bad simulator URI {uri!r}: use sim://memory?… or sim:///absolute/path.sqlite?…"
        )
    values = {name: default for name, (_, default) in PARAMETERS.items()}
    for name, text in parse_qsl(parts.query, keep_blank_values=True):
        if name not in PARAMETERS:
            raise DriverError(f"Unknown simulator URI parameter {name!r}.")
        try:
            values[name] = PARAMETERS[name][0](text)
        except ValueError:
            raise DriverError(f"Simulator URI parameter {name}={text!r} is not a number.") from None
    if values["hosts"] < 0 or values["vcpus"] < 1 or values["memory_mb"] < 1:
        raise DriverError("A simulated host needs at least one vCPU and some memory.")
    return (parts.path if not parts.netloc else None), values


def guest_load(seed, name):
    """The CPU load (0–1) a guest runs at until told otherwise: mostly light, as measured
    fleets are (a mean near a quarter), and the same for a name in every process."""
    draw = random.Random(f"{seed}:{name}").random()
    return 0.05 + 0.6 * draw * draw


def boot_seconds(memory_mb, jitter):
    """Simulated boot time: firmware and kernel, plus memory to initialise."""
    return 20.0 + memory_mb / 1024 * 0.25 + 10.0 * jitter


def migration_seconds(memory_mb, load, nic_gbps, running):
    """Simulated pre-copy live migration: memory sent over the migration network, plus what
    the guest dirties meanwhile (more when busier), plus a short stop-and-copy pause. A
    stopped guest only moves its definition."""
    if not running:
        return 1.0
    megabits = memory_mb * 8 * (1.0 + load)
    return megabits / (nic_gbps * 1000) + 0.3
