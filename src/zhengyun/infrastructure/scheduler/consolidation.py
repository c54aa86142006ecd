"""Server consolidation (R-I4, R-G3): live-migrations that empty hosts so they can be powered
down — the goal OpenStack Watcher calls server consolidation.

The planner works on copies of the host states and never changes the caller's. It empties the
least used hosts of each ``pack`` pool first, moving every guest of a host through the same
filters and weigher as a new placement, within the host's own pool (a live migration keeps the
guest's networks and certification); a host whose guests cannot all move keeps them all, so a
plan never leaves a host half-emptied. ``spread`` pools are left alone: their hosts are spread
on purpose. When and whether a plan runs (a maintenance window, an approval, a durable job) is
the database layer's business.
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace

from .core import Scheduler
from .model import PACK
from .weighers import share


@dataclass(frozen=True, slots=True)
class Migration:
    """Move ``guest`` from ``source`` to ``target``."""

    guest: str
    source: str
    target: str
    vcpus: int
    memory_mb: int


@dataclass(slots=True)
class ConsolidationPlan:
    """The migrations, the hosts they empty, the memory they copy and the power they save.

    ``watts_saved`` is the idle draw of the emptied hosts: by the linear power model the
    load-dependent part moves with the guests, so powering a host down saves its idle watts.
    """

    migrations: list = field(default_factory=list)
    released_hosts: list = field(default_factory=list)
    memory_moved_mb: int = 0
    watts_saved: float = 0.0

    def energy_saved_kwh(self, hours):
        """Energy saved over ``hours`` with the emptied hosts powered down."""
        return self.watts_saved * hours / 1000

    def as_dict(self):
        return {
            "migrations": [
                {
                    "guest": m.guest,
                    "source": m.source,
                    "target": m.target,
                    "vcpus": m.vcpus,
                    "memory_mb": m.memory_mb,
                }
                for m in self.migrations
            ],
            "released_hosts": list(self.released_hosts),
            "memory_moved_mb": self.memory_moved_mb,
            "watts_saved": self.watts_saved,
        }


def plan_consolidation(hosts, guests, max_migrations=None):
    """A plan that empties as many hosts as it can.

    ``hosts`` are host states; ``guests`` maps a host's name to its guests as
    ``(guest id, PlacementRequest)`` pairs, the requests carrying each guest's department,
    networks, level and server group. ``max_migrations`` bounds the plan's length.
    """
    plan = ConsolidationPlan()
    by_pool = defaultdict(list)
    for host in hosts:
        if host.policy == PACK and host.enabled:
            by_pool[host.pool].append(_copy(host))
    budget = max_migrations if max_migrations is not None else float("inf")
    for pool_hosts in by_pool.values():
        budget -= _consolidate_pool(pool_hosts, guests, budget, plan)
    return plan


def _copy(host):
    return replace(host, groups=host.groups.copy())


def _consolidate_pool(pool_hosts, guests, budget, plan):
    """Empty hosts of one pool, least used first; how many migrations were planned."""
    # Empty hosts are already off and receivers are what the plan fills: neither is emptied,
    # and an empty host is never a target (filling it would release nothing).
    for host in pool_hosts:
        host.enabled = not host.is_empty
    scheduler = Scheduler(pool_hosts)
    receivers = set()
    planned = 0
    for source in sorted(pool_hosts, key=_utilisation):
        moving = guests.get(source.name, ())
        if source.is_empty or source.name in receivers or not moving:
            continue
        if planned + len(moving) > budget:
            break
        source.enabled = False
        scheduler.update(source)
        moves = _move_all(scheduler, source, moving)
        if moves is None:
            source.enabled = True
            scheduler.update(source)
            continue
        planned += len(moves)
        plan.migrations.extend(moves)
        plan.released_hosts.append(source.name)
        plan.memory_moved_mb += sum(m.memory_mb for m in moves)
        plan.watts_saved += source.idle_watts
        receivers.update(m.target for m in moves)
    return planned


def _move_all(scheduler, source, moving):
    """Claim every guest of ``source`` elsewhere, largest first; the migrations, or ``None``
    with every tentative claim undone when one guest finds no host."""
    claimed = []
    for guest, request in sorted(moving, key=lambda pair: -pair[1].memory_mb):
        if request.group is not None:
            # The guest leaves its own host: it neither keeps its group there nor avoids it.
            others = frozenset(
                h.name for h in scheduler if h.groups.get(request.group) and h is not source
            )
            request = replace(request, group_hosts=others)
        decision = scheduler.select(request)
        if decision.host is None:
            for _guest, target, taken in claimed:
                scheduler.release(target, taken)
            return None
        scheduler.claim(decision.host, request)
        claimed.append((guest, decision.host, request))
    for _guest, _target, request in claimed:
        scheduler.release(source, request)
    return [
        Migration(guest, source.name, target.name, request.vcpus, request.memory_mb)
        for guest, target, request in claimed
    ]


def _utilisation(host):
    return (
        max(
            share(host.used_vcpus, host.usable_vcpus),
            share(host.used_memory_mb, host.usable_memory_mb),
            share(host.used_disk_gb, host.usable_disk_gb),
        ),
        host.used_memory_mb,
    )
