"""Placing an instance: the pooled hosts as the scheduler sees them, its decision, and the
claim of capacity on the chosen host in the database (R-I4).

Reading every host and building a scheduler for each order costs more than a thousand
decisions at 10,000 hosts, so each process keeps one ``PlacementCache``: the scheduler with
its hosts, brought up to date before each decision by reading only the rows stamped since it
last looked (``generations``) and the few pool rows. Why that can never over-commit, with any
number of web and worker processes:

- The claim is a conditional UPDATE that succeeds only while the host, as the database has it
  now, is out of maintenance and still has the room the decision counted on, computed from
  the pool's ratios read in the same call. Two orders deciding at once for the same last room
  cannot both take it, whatever either process believed; the loser reads that host again and
  decides again.
- A stale view errs one of two ways. A host it believes emptier than it is (a claim it did not
  see, a maintenance flag) loses its claim, which refreshes that host. A host it believes
  fuller (a release it did not see, a host not yet seen or back from maintenance) is only
  passed over; before saying that no host can take an order the cache reads everything
  again, so a refusal is never based on a stale view.

A claim gives back the host's use, stamp and standby flag as it left them, and a refresh
that reads a row as the cache already has it leaves the host alone: an order costs three
statements (the pools, what changed, the claim) and re-ranks only the hosts whose use
changed.

Reading "what changed since" relies on stamps. A stamp can be missed: two PostgreSQL
transactions may take the same one or commit in the other order, and a transaction that read
its own uncommitted rows may roll them back. Rows carrying the highest stamp seen are read
again each time, which covers equal stamps; a read that finds not even those rows means that
what the cache saw was rolled back or deleted, and it reads everything again; anything else
missed is caught by reading everything every ``RESYNC_SECONDS``, and so is a write of hosts
that takes no stamp (a queryset ``update``, a save whose ``update_fields`` leave out
``generation``). Pool changes (ratios, networks, dedication) are compared at every decision
and rebuild the cache.
"""

import threading
import time
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext as _

from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure import placement_sql
from zhengyun.infrastructure.choices import InstanceStatus
from zhengyun.infrastructure.models import Host, Instance, Pool
from zhengyun.infrastructure.placement_sql import HOST_FIELDS
from zhengyun.infrastructure.scheduler import HostState, NoRoom, PlacementRequest, Scheduler

# Processes with the same view choose the same best host and all but one lose the claim;
# each loss rereads the host, so a few more tries than a single process needs.
ATTEMPTS = 5
RESYNC_SECONDS = 60.0
# The model's own fields among those, in the model's order, as ``Host.from_db`` takes them.
KEPT_FIELDS = [f.attname for f in Host._meta.concrete_fields if f.attname in HOST_FIELDS]
# What a claim or a release changes of a host's row.
USE_FIELDS = frozenset({"generation", "used_vcpus", "used_memory_mb", "used_disk_gb"})


class NoValidHost(Conflict):
    """No pool the department may use has a host with room for the instance."""

    code = "no_valid_host"

    def __init__(self, decision):
        reasons = "; ".join(decision.messages(translate=_))
        super().__init__(
            _("No host can take this instance now. %(reasons)s")
            % {"reasons": reasons or _("There are no hosts.")}
        )
        self.decision = decision.as_dict()

    def extra(self):
        return {"placement": self.decision}


def scheduled_name(row):
    """A host's name for the scheduler: unique across providers, readable in a decision."""
    return f"{row['provider__name']}/{row['name']}"


def host_state(host, pool):
    """The scheduler's view of ``host`` (a row of ``HOST_FIELDS`` by name) in ``pool``."""
    return HostState(
        name=scheduled_name(host),
        pool=str(pool),
        zone=str(pool.zone_id),
        vcpus=host["vcpus"],
        memory_mb=host["memory_mb"],
        disk_gb=host["disk_gb"],
        cpu_ratio=pool.cpu_ratio,
        ram_ratio=pool.ram_ratio,
        reserved_vcpus=pool.reserved_vcpus,
        reserved_memory_mb=pool.reserved_memory_mb,
        used_vcpus=host["used_vcpus"],
        used_memory_mb=host["used_memory_mb"],
        used_disk_gb=host["used_disk_gb"],
        networks=frozenset(pool.networks),
        protection_level=pool.protection_level,
        dedicated_to=pool.dedicated_to_id,
        policy=pool.policy,
        idle_watts=host["idle_watts"],
        peak_watts=host["peak_watts"],
        enabled=not host["in_maintenance"],
        standby=host["standby"],
    )


def request_for(instance):
    group = instance.server_group
    return PlacementRequest(
        vcpus=instance.vcpus,
        memory_mb=instance.memory_mb,
        disk_gb=instance.disk_gb,
        department=instance.department_id,
        zone=str(instance.zone_id) if instance.zone_id else None,
        networks=frozenset(instance.networks),
        protection_level=instance.protection_level,
        group=f"group-{group.pk}" if group else None,
        group_policy=group.policy if group else None,
        group_hosts=_member_hosts(instance) if group else None,
    )


def _member_hosts(instance):
    """The hosts running the other living members of ``instance``'s server group, read from
    the database (an order holds its department's quota row, so two orders of one group see
    each other)."""
    rows = (
        Instance.objects.filter(server_group_id=instance.server_group_id, host__isnull=False)
        .exclude(pk=instance.pk)
        .exclude(status=InstanceStatus.DELETED)
        .values("host__provider__name", "host__name")
    )
    return frozenset(
        scheduled_name({"provider__name": r["host__provider__name"], "name": r["host__name"]})
        for r in rows
    )


class PlacementCache:
    """The pooled hosts as the scheduler sees them, kept across orders and brought up to date
    from the database before each decision. One per process; threads share it, holding its
    lock only while they touch memory, never across a query that might wait for a row."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._reset(pool_rows=None, pools={}, hosts={}, scheduler=Scheduler(), watermark=None)
        self._loaded_at = None

    def _reset(self, *, pool_rows, pools, hosts, scheduler, watermark):
        self._pool_rows = pool_rows
        self._pools = pools  # pk -> Pool, shared read-only with the hosts handed out
        self._hosts = hosts  # pk -> row of HOST_FIELDS by name
        self._by_name = {scheduled_name(row): pk for pk, row in hosts.items()}
        self.scheduler = scheduler
        self._watermark = watermark

    def place(self, instance):
        """Choose a host for ``instance`` and claim its size there: ``(host, decision)``, the
        decision as the JSON-ready record kept on the instance. ``NoValidHost`` otherwise."""
        request = request_for(instance)
        reloaded = False
        for _attempt in range(ATTEMPTS):
            reloaded = self.refresh() or reloaded
            decision, row, pool = self._select(request)
            if decision.host is None and not reloaded:
                self.reload()
                reloaded = True
                decision, row, pool = self._select(request)
            if decision.host is None:
                raise NoValidHost(decision)
            claimed = placement_sql.claim(
                row["id"],
                pool.pk,
                instance,
                _room(row["vcpus"], row["memory_mb"], row["disk_gb"], pool, instance),
            )
            if claimed is not None:
                return _host(self._claimed(row, claimed, request)), decision.as_dict()
            self.refresh_host(row["id"])
        raise Conflict(_("Other orders took the room that fitted at the same moment; try again."))

    def _select(self, request):
        """The decision and, when it names one, the chosen host's row and pool."""
        with self._lock:
            decision = self.scheduler.select(request)
            if decision.host is None:
                return decision, None, None
            row = self._hosts[self._by_name[decision.host.name]]
            return decision, row, self._pools[row["pool_id"]]

    def _claimed(self, row, claimed, request):
        """Take the host's row as the claim left it, and return it. When nothing else
        changed the host since ``row`` was chosen, the scheduler accounts the request in
        place; otherwise the row replaces the host's state, unless a later one is known.
        The watermark stays: rows others stamped before this claim are yet to be read."""
        with self._lock:
            known = self._hosts.get(row["id"], row)
            after = {**known, **claimed}
            grown = (
                row["used_vcpus"] + request.vcpus,
                row["used_memory_mb"] + request.memory_mb,
                row["used_disk_gb"] + request.disk_gb,
            )
            untouched = known is row and grown == (
                after["used_vcpus"],
                after["used_memory_mb"],
                after["used_disk_gb"],
            )
            if untouched:
                try:
                    self.scheduler.claim(scheduled_name(row), request)
                except NoRoom:  # a state that disagrees with its row: the row wins
                    self._apply(after, force=True)
                else:
                    self._hosts[row["id"]] = after
            else:
                self._apply(after)
        return after

    def refresh(self):
        """Bring the view up to date; whether that meant reading every host again."""
        pool_rows = placement_sql.pool_rows()
        stale = self._loaded_at is None or self._clock() - self._loaded_at > RESYNC_SECONDS
        if stale or pool_rows != self._pool_rows:
            self.reload()
            return True
        rows = placement_sql.changed_hosts(self._watermark)
        if not rows:
            # Not even the rows stamped highest when last read: rolled back or deleted.
            self.reload()
            return True
        with self._lock:
            for row in rows:
                self._apply(row)
            self._watermark = max(self._watermark, *(row["generation"] for row in rows))
        return False

    def refresh_host(self, pk):
        """Read one host again, after a claim on it was refused."""
        row = Host.objects.filter(pk=pk).values(*HOST_FIELDS).first()
        with self._lock:
            if row is None:
                self._forget(pk)
            elif row["pool_id"] in self._pools:
                self._apply(row, force=True)

    def reload(self):
        """Read every pool and host again and rebuild the scheduler from them."""
        loaded_at = self._clock()
        # The order rows are read in breaks ties between equally weighted hosts.
        hosts = {
            row["id"]: row for row in Host.objects.order_by("pool", "name").values(*HOST_FIELDS)
        }
        # Pools after hosts: a pool cannot be deleted while it has hosts, so every host's
        # pool is among them.
        pool_rows = placement_sql.pool_rows()
        pools = {p.pk: p for p in Pool.objects.select_related("zone")}
        scheduler = Scheduler(host_state(row, pools[row["pool_id"]]) for row in hosts.values())
        watermark = max((row["generation"] for row in hosts.values()), default=0)
        with self._lock:
            self._reset(
                pool_rows=pool_rows,
                pools=pools,
                hosts=hosts,
                scheduler=scheduler,
                watermark=watermark,
            )
            self._loaded_at = loaded_at

    def _apply(self, row, force=False):
        pk = row["id"]
        known = self._hosts.get(pk)
        if not force and known is not None:
            if known["generation"] > row["generation"]:
                return  # another thread already applied a later state of this host
            changed = {name for name, value in row.items() if known[name] != value}
            if not changed:
                return  # read again as it was: rows stamped highest are read at each refresh
            if changed <= USE_FIELDS:
                # Claims and releases, the usual change: the host's state is kept, re-ranked.
                self.scheduler.set_use(
                    scheduled_name(row),
                    row["used_vcpus"],
                    row["used_memory_mb"],
                    row["used_disk_gb"],
                )
                self._hosts[pk] = row
                return
        if row["pool_id"] not in self._pools:
            self._loaded_at = None  # a pool this view has not read: reload next time
            return
        state = host_state(row, self._pools[row["pool_id"]])
        # Forgotten and added again, it keeps its place among equally weighted hosts. A
        # host registered again under its old name is a new row: the old one goes.
        self._forget(pk)
        self._forget(self._by_name.get(state.name))
        self.scheduler.add(state)
        self._hosts[pk] = row
        self._by_name[state.name] = pk

    def _forget(self, pk):
        row = self._hosts.pop(pk, None)
        if row is not None:
            name = scheduled_name(row)
            del self._by_name[name]
            self.scheduler.remove(name)


CACHE = PlacementCache()


def place(instance):
    """Choose a host for ``instance`` and claim its size there: ``(host, decision)``, the
    decision as the JSON-ready record kept on the instance. ``NoValidHost`` otherwise."""
    return CACHE.place(instance)


def _host(row):
    """The host of a cached row as a model instance for an order to keep. Fields the cache
    does not hold are left deferred, read if ever asked for, rather than guessed."""
    return Host.from_db(DEFAULT_DB_ALIAS, KEPT_FIELDS, [row[name] for name in KEPT_FIELDS])


def _room(vcpus, memory_mb, disk_gb, pool, size):
    """The most a host of this capacity in ``pool`` may use now and still take ``size``."""
    return (
        int(vcpus * pool.cpu_ratio) - pool.reserved_vcpus - size.vcpus,
        int(memory_mb * pool.ram_ratio) - pool.reserved_memory_mb - size.memory_mb,
        disk_gb - size.disk_gb,
    )


def _claim(host, size):
    """Take ``size`` on ``host`` if it still fits under its pool's ratios; whether it did."""
    room = _room(host.vcpus, host.memory_mb, host.disk_gb, host.pool, size)
    return placement_sql.claim(host.pk, host.pool_id, size, room) is not None


def release(host, size):
    """Give ``size`` back on ``host``."""
    placement_sql.release(host.pk, size)


@dataclass(frozen=True)
class Size:
    """vCPUs, memory and disk, as claimed on a host and counted against a quota."""

    vcpus: int
    memory_mb: int
    disk_gb: int

    @classmethod
    def of(cls, sized):
        return cls(sized.vcpus, sized.memory_mb, sized.disk_gb)

    def beyond(self, other):
        """What this size has more of than ``other``, figure by figure."""
        return Size(
            max(0, self.vcpus - other.vcpus),
            max(0, self.memory_mb - other.memory_mb),
            max(0, self.disk_gb - other.disk_gb),
        )

    def quota_amounts(self):
        """The figures to count against a quota (the instance itself is counted already)."""
        return {
            name: amount
            for name, amount in (
                ("vcpus", self.vcpus),
                ("memory_mb", self.memory_mb),
                ("disk_gb", self.disk_gb),
            )
            if amount
        }

    def __bool__(self):
        return any((self.vcpus, self.memory_mb, self.disk_gb))


def claim_disk(host, disk_gb):
    """Take ``disk_gb`` of ``host``'s disk if it still has the room, whatever its vCPU and
    memory use or maintenance; whether it did."""
    return placement_sql.claim_disk(host.pk, disk_gb, host.disk_gb - disk_gb)


def release_disk(host, disk_gb):
    """Give ``disk_gb`` back on ``host``."""
    release(host, Size(0, 0, disk_gb))  # a volume or snapshot: disk alone
