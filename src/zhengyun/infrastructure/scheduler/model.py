"""What the scheduler sees: a host's capacity and use, and what a placement asks for (R-I3,
R-I4).

Pure Python on purpose: the database layer builds these from its rows and persists claims;
the benchmark builds 10,000 of them without a database.
"""

from collections import Counter
from dataclasses import dataclass, field

GOV_INTERNAL = "gov_internal"  # 政务内网
GOV_EXTRANET = "gov_extranet"  # 政务外网
INTERNET = "internet"
NETWORKS = frozenset({GOV_INTERNAL, GOV_EXTRANET, INTERNET})

PACK = "pack"
SPREAD = "spread"
POLICIES = (PACK, SPREAD)

AFFINITY = "affinity"
ANTI_AFFINITY = "anti-affinity"
GROUP_POLICIES = (AFFINITY, ANTI_AFFINITY)


def usable(capacity, ratio, reserved):
    """What a pool may allocate on a host: physical capacity times the overcommit ratio, less
    what is reserved for the host itself.

    Reserved counts as already used, as in Nova's RamFilter and CoreFilter before Placement;
    the database claim uses the same arithmetic, so both agree on the last unit of room.
    """
    return int(capacity * ratio) - reserved


@dataclass(slots=True, eq=False)
class HostState:
    """A hypervisor host as the scheduler sees it.

    Zone, networks, protection level, dedication and policy belong to the host's pool and must
    be the same for every host of a pool; the scheduler decides them once per pool. Change
    the used figures through ``Scheduler.claim``/``release``, or call ``Scheduler.update``
    after changing them yourself, so that the scheduler's index follows.
    """

    name: str
    pool: str
    zone: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    cpu_ratio: float = 4.0
    ram_ratio: float = 1.0
    disk_ratio: float = 1.0
    reserved_vcpus: int = 0
    reserved_memory_mb: int = 0
    reserved_disk_gb: int = 0
    used_vcpus: int = 0
    used_memory_mb: int = 0
    used_disk_gb: int = 0
    networks: frozenset = frozenset()
    protection_level: int = 1
    dedicated_to: int | None = None
    policy: str = PACK
    idle_watts: float = 0.0
    peak_watts: float = 0.0
    enabled: bool = True
    # Emptied by a consolidation and powered down, or about to be: woken only for want of room.
    standby: bool = False
    # Members of each server group running here: group name -> count (R-I4 affinity).
    groups: Counter = field(default_factory=Counter)

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"unknown placement policy {self.policy!r}")
        if not self.networks <= NETWORKS:
            raise ValueError(f"unknown networks {sorted(self.networks - NETWORKS)}")
        self.networks = frozenset(self.networks)
        self.groups = Counter(self.groups)

    @property
    def usable_vcpus(self):
        return usable(self.vcpus, self.cpu_ratio, self.reserved_vcpus)

    @property
    def usable_memory_mb(self):
        return usable(self.memory_mb, self.ram_ratio, self.reserved_memory_mb)

    @property
    def usable_disk_gb(self):
        return usable(self.disk_gb, self.disk_ratio, self.reserved_disk_gb)

    @property
    def free_vcpus(self):
        return self.usable_vcpus - self.used_vcpus

    @property
    def free_memory_mb(self):
        return self.usable_memory_mb - self.used_memory_mb

    @property
    def free_disk_gb(self):
        return self.usable_disk_gb - self.used_disk_gb

    def fits(self, request):
        """Whether ``request`` fits in what is still free, ratios and reservations counted."""
        return (
            request.vcpus <= self.free_vcpus
            and request.memory_mb <= self.free_memory_mb
            and request.disk_gb <= self.free_disk_gb
        )

    @property
    def is_empty(self):
        """No guest runs here: the host could be powered down."""
        return not (self.used_vcpus or self.used_memory_mb or self.used_disk_gb)


@dataclass(frozen=True, slots=True)
class PlacementRequest:
    """What one instance needs: its size, whose it is, where it may run.

    ``protection_level`` is the graded-protection (等保) level of the system the instance
    belongs to; ``networks`` the networks it must reach. ``group``/``group_policy`` name a
    server group and whether its members share a host or never do. ``group_hosts`` are the
    hosts already running members of that group; left ``None``, the scheduler finds them in
    its own states.
    """

    vcpus: int
    memory_mb: int
    disk_gb: int = 0
    department: int | None = None
    zone: str | None = None
    networks: frozenset = frozenset()
    protection_level: int = 1
    group: str | None = None
    group_policy: str | None = None
    group_hosts: frozenset | None = None

    def __post_init__(self):
        if min(self.vcpus, self.memory_mb, self.disk_gb) < 0:
            raise ValueError("a request cannot ask for negative capacity")
        if not frozenset(self.networks) <= NETWORKS:
            raise ValueError(f"unknown networks {sorted(frozenset(self.networks) - NETWORKS)}")
        if (self.group is None) != (self.group_policy is None):
            raise ValueError("a server group needs a policy, and a policy a group")
        if self.group_policy is not None and self.group_policy not in GROUP_POLICIES:
            raise ValueError(f"unknown group policy {self.group_policy!r}")
        object.__setattr__(self, "networks", frozenset(self.networks))

    def as_dict(self):
        """The request as JSON-ready data, for the decision record."""
        return {
            "vcpus": self.vcpus,
            "memory_mb": self.memory_mb,
            "disk_gb": self.disk_gb,
            "department": self.department,
            "zone": self.zone,
            "networks": sorted(self.networks),
            "protection_level": self.protection_level,
            "group": self.group,
            "group_policy": self.group_policy,
        }
