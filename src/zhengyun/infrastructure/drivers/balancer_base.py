"""The contract every load-balancer driver keeps (R-I3), and how one is found.

A balancer driver realises the whole desired configuration of one load balancer at a time:
``apply`` is given everything (address, listeners, pools, members, health checks) and makes
the balancer match it, so applying the same configuration again changes nothing and a job
killed half-way is repaired by applying once more (design rule 5). Load balancers are named
by the platform's UUID, members by a name the platform gives them (unique in the balancer).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import entry_points

from .base import DriverError

ENTRY_POINT_GROUP = "zhengyun.balancer_drivers"


class BalancerNotFound(DriverError):
    """The driver runs no load balancer of that name."""


class MemberHealth(StrEnum):
    """What the balancer's health checks say of a member."""

    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"  # not checked (no monitor) or not checked yet


@dataclass(frozen=True)
class GuestRef:
    """Where a member's guest lives: the compute driver and connection that run it. Only a
    balancer that can ask the hypervisor (the simulator) uses it."""

    driver: str
    uri: str
    name: str


@dataclass(frozen=True)
class MemberSpec:
    name: str
    address: str
    port: int
    weight: int = 1
    guest: GuestRef | None = None


@dataclass(frozen=True)
class MonitorSpec:
    """``type`` is "tcp" or "http"; ``expected_codes`` the accepted HTTP status codes."""

    type: str
    interval_s: int
    timeout_s: int
    max_retries: int
    http_path: str = "/"
    expected_codes: tuple[int, ...] = (200,)


@dataclass(frozen=True)
class ListenerSpec:
    """A port of the virtual address, its ``protocol`` ("tcp", "http" or "https") and its
    pool's ``algorithm`` ("round_robin", "least_connections" or "source_ip"). An "https"
    listener ends TLS with ``certificate`` (PEM chain, server's first) and ``private_key``."""

    protocol: str
    port: int
    algorithm: str
    members: tuple[MemberSpec, ...] = ()
    monitor: MonitorSpec | None = None
    certificate: str = ""
    private_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class BalancerSpec:
    name: str
    vip: str
    listeners: tuple[ListenerSpec, ...] = field(default=())


class BalancerDriver(ABC):
    """One balancer back end, reached through ``uri``."""

    def __init__(self, uri: str):
        self.uri = uri

    @abstractmethod
    def apply(self, spec: BalancerSpec) -> None:
        """Make the balancer ``spec.name`` carry exactly ``spec``, creating it if needed.

        Idempotent: applying what is already applied changes nothing.

        :raises DriverError: the configuration was refused or could not be put in place;
            a balancer already running keeps its previous configuration.
        """

    @abstractmethod
    def remove(self, name: str) -> None:
        """Stop and forget the balancer ``name``; removing a missing one succeeds."""

    @abstractmethod
    def health(self, name: str) -> dict[str, MemberHealth]:
        """Each member's health by member name, as the balancer's checks see it now.

        :raises BalancerNotFound: no balancer of that name runs.
        """


def load_balancer_driver(kind: str, uri: str) -> BalancerDriver:
    """The driver registered as ``kind`` in the ``zhengyun.balancer_drivers`` entry point
    group, for ``uri``.

    :raises DriverError: no driver of that kind is installed, or it cannot serve ``uri``.
    """
    found = entry_points(group=ENTRY_POINT_GROUP, name=kind)
    if not found:
        known = sorted(point.name for point in entry_points(group=ENTRY_POINT_GROUP))
        raise DriverError(
            f"No balancer driver named {kind!r} is installed (installed: {', '.join(known)})."
        )
    return next(iter(found)).load()(uri)
