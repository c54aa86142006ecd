"""The contract every network-edge driver keeps (R-I2), and how one is found.

The edge is where a network zone (政务内网, 政务外网, Internet) meets departments' private
subnets. Its driver is given the whole NAT table at once — every 1:1 pair of a floating
address and a port's address, and every network's egress address for its subnets' ranges —
and makes the edge match it, so applying the same table again changes nothing and a job
killed half-way is repaired by applying once more (design rule 5).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib.metadata import entry_points

from .base import DriverError

ENTRY_POINT_GROUP = "zhengyun.edge_drivers"


@dataclass(frozen=True, order=True)
class NatPair:
    """Traffic to ``external`` goes to ``internal`` (DNAT); traffic from ``internal`` leaves
    as ``external`` (SNAT)."""

    external: str
    internal: str


@dataclass(frozen=True, order=True)
class EgressRule:
    """Traffic from ``source`` (a CIDR) leaves as ``address`` unless a pair says otherwise."""

    source: str
    address: str


@dataclass(frozen=True)
class NatRules:
    """The edge's whole NAT table, in a stable order."""

    pairs: tuple[NatPair, ...] = ()
    egress: tuple[EgressRule, ...] = ()

    @classmethod
    def of(cls, pairs, egress):
        return cls(pairs=tuple(sorted(set(pairs))), egress=tuple(sorted(set(egress))))


class EdgeDriver(ABC):
    """One network edge, reached through ``uri``."""

    def __init__(self, uri: str):
        self.uri = uri

    @abstractmethod
    def apply(self, rules: NatRules) -> None:
        """Make the edge translate exactly as ``rules`` say, and nothing else.

        Idempotent: applying what is already applied changes nothing.

        :raises DriverError: the table was refused or could not be put in place; the edge
            keeps its previous table.
        """

    @abstractmethod
    def rules(self) -> NatRules:
        """The table the edge applies now (empty before the first ``apply``)."""


def load_edge_driver(kind: str, uri: str) -> EdgeDriver:
    """The driver registered as ``kind`` in the ``zhengyun.edge_drivers`` entry point group,
    for ``uri``.

    :raises DriverError: no driver of that kind is installed, or it cannot serve ``uri``.
    """
    found = entry_points(group=ENTRY_POINT_GROUP, name=kind)
    if not found:
        known = sorted(point.name for point in entry_points(group=ENTRY_POINT_GROUP))
        raise DriverError(
            f"No edge driver named {kind!r} is installed (installed: {', '.join(known)})."
        )
    return next(iter(found)).load()(uri)
