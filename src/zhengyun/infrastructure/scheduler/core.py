"""The scheduler (R-I4): filters, then weighers, over in-memory host states, with its own
capacity accounting.

Which pools may take a request depends only on what a pool's hosts share (zone, networks,
protection level, dedication), so those filters run once per pool, and their answer is kept
for the next request with the same zone, networks, level and department. Within a pool the
hosts are kept ranked by their policy (``ranking``), so the capacity filter and the weigher
look only at the hosts they need.

A request some ``pack`` pools and some ``spread`` pools could take goes to the ``pack`` pools
while one of them has room: the policy says how a pool uses its own hosts, and between pools
the scheduler saves energy, the platform's default aim (R-G3). A spread pool takes what only it
may take (its zone, networks, level or department) or what no pack pool has room for. Among
pools of the same policy the hosts compete on one weight, so pack consolidates across pack
pools and spread spreads across spread pools. Before either, a running host is chosen over a
host in standby: a standby host of a pack pool is woken only when no running host of any
eligible pool has room.
"""

from dataclasses import replace

from .decision import REASON_POOLS, SAMPLE_POOLS, Decision, FilterOutcome, PoolReason
from .filters import (
    POOL_FILTERS,
    AffinityFilter,
    AntiAffinityFilter,
    CapacityFilter,
    EnabledFilter,
)
from .model import AFFINITY, ANTI_AFFINITY, PACK
from .ranking import SAMPLE, RankedHosts
from .weighers import MULTIPLIERS, UtilisationWeigher, share, weight

TOP_WEIGHTS = 3
SHARED_BY_POOL = ("zone", "networks", "protection_level", "dedicated_to", "policy")

ENABLED = EnabledFilter()
AFFINITY_FILTER = AffinityFilter()
ANTI_AFFINITY_FILTER = AntiAffinityFilter()
CAPACITY = CapacityFilter()


class NoRoom(ValueError):
    """A claim that does not fit in what the host has free."""


class _Pool:
    """The hosts of one pool: enabled ones ranked, those in maintenance aside."""

    __slots__ = ("name", "template", "ranked", "disabled")

    def __init__(self, template):
        self.name = template.pool
        self.template = template
        self.ranked = RankedHosts()
        self.disabled = {}

    def __len__(self):
        return len(self.ranked) + len(self.disabled)


class Scheduler:
    """Chooses hosts for placement requests and accounts for what they take.

    Keep one per process and tell it what changes (``claim``, ``release``, ``update``,
    ``add``, ``remove``) rather than building it for every decision: at 10,000 hosts building
    costs about as much as a thousand decisions.
    """

    def __init__(self, hosts=()):
        self.weigher = UtilisationWeigher()
        self.load(hosts)

    def load(self, hosts):
        """Forget every host and take ``hosts`` instead (for example rebuilt from rows)."""
        self._hosts = {}
        self._order = {}
        self._pools = {}
        self._group_hosts = {}
        self._eligible = {}
        self._next_order = 0
        for host in hosts:
            self.add(host)

    def __len__(self):
        return len(self._hosts)

    def __iter__(self):
        return iter(self._hosts.values())

    def host(self, name):
        """The state of the host called ``name``."""
        return self._hosts[name]

    def add(self, host):
        """Take ``host`` into account. Its pool's shared attributes must match the pool's
        other hosts'."""
        if host.name in self._hosts:
            raise ValueError(f"host {host.name} is already known")
        pool = self._pools.get(host.pool)
        if pool is None:
            pool = self._pools[host.pool] = _Pool(host)
        else:
            for attribute in SHARED_BY_POOL:
                if getattr(host, attribute) != getattr(pool.template, attribute):
                    raise ValueError(
                        f"host {host.name} differs from pool {host.pool} in its {attribute}"
                    )
        self._hosts[host.name] = host
        if host.name not in self._order:
            self._order[host.name] = self._next_order
            self._next_order += 1
        for group, members in host.groups.items():
            if members > 0:
                self._group_hosts.setdefault(group, set()).add(host.name)
        self._index(pool, host)
        self._eligible.clear()

    def remove(self, name):
        """Forget the host called ``name``."""
        host = self._hosts.pop(name)
        pool = self._pools[host.pool]
        self._unindex(pool, host)
        for group in host.groups:
            self._forget_member(group, name)
        if not len(pool):
            del self._pools[host.pool]
        self._eligible.clear()
        return host

    def update(self, host):
        """Re-index ``host`` after its figures, maintenance flag or groups changed (the same
        object changed in place, or a fresh state of the same name). It keeps its place among
        equally weighted hosts."""
        self.remove(host.name)
        self.add(host)

    def set_use(self, name, vcpus, memory_mb, disk_gb):
        """Take what the host called ``name`` uses as known elsewhere (for example read back
        from the database), keeping its place among equally weighted hosts."""
        host = self._hosts[name]
        pool = self._pools[host.pool]
        self._unindex(pool, host)
        host.used_vcpus, host.used_memory_mb, host.used_disk_gb = vcpus, memory_mb, disk_gb
        self._index(pool, host)

    def claim(self, host, request):
        """Account ``request`` on ``host`` (a state or a name), which is no longer in standby;
        ``NoRoom`` if it does not fit."""
        host = self._resolve(host)
        if not host.fits(request):
            raise NoRoom(f"{host.name} has no room for {request.as_dict()}")
        self._change(host, request, 1, wake=True)
        if request.group is not None:
            host.groups[request.group] += 1
            self._group_hosts.setdefault(request.group, set()).add(host.name)
        return host

    def release(self, host, request):
        """Give back what ``request`` took on ``host`` (a state or a name)."""
        host = self._resolve(host)
        if (
            request.vcpus > host.used_vcpus
            or request.memory_mb > host.used_memory_mb
            or request.disk_gb > host.used_disk_gb
            or (request.group is not None and host.groups[request.group] < 1)
        ):
            raise ValueError(f"{host.name} holds less than {request.as_dict()}")
        self._change(host, request, -1)
        if request.group is not None:
            host.groups[request.group] -= 1
            if not host.groups[request.group]:
                del host.groups[request.group]
                self._forget_member(request.group, host.name)
        return host

    def place(self, request):
        """Select a host and claim the request on it; the decision either way."""
        decision = self.select(request)
        if decision.host is not None:
            self.claim(decision.host, request)
        return decision

    def select(self, request, hosts=None):
        """Choose a host for ``request``: the ``Decision``, its ``host`` ``None`` when no host
        can take it. With ``hosts``, decide over exactly those (replacing the known ones)."""
        if hosts is not None:
            self.load(hosts)
        if request.group is not None and request.group_hosts is None:
            request = replace(
                request, group_hosts=frozenset(self._group_hosts.get(request.group, ()))
            )
        eligible, pool_outcomes, refusals = self._eligible_pools(request)
        group_hosts = request.group_hosts or frozenset()
        affinity = request.group_policy == AFFINITY and bool(group_hosts)
        excluded = group_hosts if request.group_policy == ANTI_AFFINITY else frozenset()

        disabled = [name for pool in eligible for name in pool.disabled]
        enabled_count = sum(len(pool.ranked) for pool in eligible)
        group_rejected, group_sample, candidates = 0, [], None
        if affinity:
            candidates = [
                self._hosts[name]
                for name in group_hosts
                if name in self._hosts and self._hosts[name].enabled and self._is_in(name, eligible)
            ]
            group_rejected = enabled_count - len(candidates)
            group_sample = self._sample_outside(eligible, group_hosts)
        elif excluded:
            members = sorted(
                n
                for n in excluded
                if n in self._hosts and self._hosts[n].enabled and self._is_in(n, eligible)
            )
            group_rejected, group_sample = len(members), members[:SAMPLE]

        found, too_full, full_sample = self._search(request, eligible, excluded, candidates)
        outranked = enabled_count - group_rejected - too_full - min(len(found), TOP_WEIGHTS)
        filters = [
            *pool_outcomes,
            FilterOutcome(ENABLED.name, len(disabled), tuple(disabled[:SAMPLE])),
            FilterOutcome(
                AFFINITY_FILTER.name,
                group_rejected if affinity else 0,
                tuple(group_sample) if affinity else (),
            ),
            FilterOutcome(
                ANTI_AFFINITY_FILTER.name,
                group_rejected if excluded else 0,
                tuple(group_sample) if excluded else (),
            ),
            FilterOutcome(CAPACITY.name, too_full, tuple(full_sample)),
        ]
        decision = Decision(request, None, len(self._hosts), filters, outranked)
        if found:
            decision.host = found[0][1]
            decision.weights = [
                {"host": host.name, "pool": host.pool, **self.weigher.components(host)}
                for _key, host in found[:TOP_WEIGHTS]
            ]
        else:
            decision.reasons, decision.reasons_omitted = self._reasons(
                request, eligible, refusals, excluded, candidates
            )
        return decision

    # The decision's parts.

    def _eligible_pools(self, request):
        """The pools every per-pool filter lets through, the per-pool filters' outcomes, and
        for each refused pool the filter that refused it — kept per kind of request until the
        hosts known change."""
        signature = (request.zone, request.networks, request.protection_level, request.department)
        cached = self._eligible.get(signature)
        if cached is None:
            eligible, refusals = [], []
            refused = {f.name: [] for f in POOL_FILTERS}
            for pool in self._pools.values():
                failing = next(
                    (f for f in POOL_FILTERS if not f.host_passes(pool.template, request)), None
                )
                if failing is None:
                    eligible.append(pool)
                else:
                    refused[failing.name].append(pool)
                    refusals.append((pool, failing))
            outcomes = tuple(
                FilterOutcome(
                    f.name,
                    sum(len(pool) for pool in refused[f.name]),
                    rejected_pools=len(refused[f.name]),
                    pools=tuple(pool.name for pool in refused[f.name][:SAMPLE_POOLS]),
                )
                for f in POOL_FILTERS
            )
            cached = self._eligible[signature] = (tuple(eligible), outcomes, tuple(refusals))
        return cached

    def _search(self, request, eligible, excluded, candidates):
        """The best hosts that fit, ``(key, host)`` best first, from the first policy class
        whose best host is running, else from the first with any; how many hosts were too
        full and a few of their names."""
        too_full, sample, woken = 0, [], []
        for policy_pools in self._by_policy(eligible):
            found = []
            for pool in policy_pools:
                if candidates is None:
                    fits, full, names = pool.ranked.search(request, TOP_WEIGHTS, excluded)
                else:
                    fits, full, names = self._search_among(request, pool, candidates)
                found.extend(fits)
                too_full += full
                sample.extend(names[: SAMPLE - len(sample)])
            found.sort(key=lambda pair: pair[0])
            if found and not found[0][1].standby:
                return found, too_full, sample
            woken = woken or found  # standby hosts only: another class may have a running one
        return woken, too_full, sample

    def _search_among(self, request, pool, candidates):
        """The affinity case: only the hosts already running the group's members, few."""
        fits, full, names = [], 0, []
        for host in candidates:
            if host.pool != pool.name:
                continue
            if host.fits(request):
                fits.append((pool.ranked.key(host), host))
            else:
                full += 1
                names.append(host.name)
        return fits, full, names

    def _reasons(self, request, eligible, refusals, excluded, candidates):
        """Why each pool could not take the request, for at most REASON_POOLS pools."""
        reasons = [
            PoolReason(pool.name, f.name, f.reason_params(pool.template, request))
            for pool, f in refusals
        ]
        for pool in eligible:
            if not pool.ranked:
                reasons.append(PoolReason(pool.name, ENABLED.name, {}))
                continue
            if candidates is not None:
                members = [h for h in candidates if h.pool == pool.name]
                if not members:
                    reasons.append(self._group_reason(pool, AFFINITY_FILTER, request))
                    continue
                most_free = tuple(
                    max(values)
                    for values in zip(
                        *((h.free_vcpus, h.free_memory_mb, h.free_disk_gb) for h in members),
                        strict=True,
                    )
                )
            elif excluded and all(host.name in excluded for host in pool.ranked):
                reasons.append(self._group_reason(pool, ANTI_AFFINITY_FILTER, request))
                continue
            else:
                most_free = pool.ranked.most_free()
            params = {
                "vcpus": request.vcpus,
                "memory_mb": request.memory_mb,
                "disk_gb": request.disk_gb,
                "free_vcpus": most_free[0],
                "free_memory_mb": most_free[1],
                "free_disk_gb": most_free[2],
            }
            reasons.append(PoolReason(pool.name, CAPACITY.name, params))
        return reasons[:REASON_POOLS], max(0, len(reasons) - REASON_POOLS)

    @staticmethod
    def _group_reason(pool, group_filter, request):
        return PoolReason(pool.name, group_filter.name, {"group": request.group})

    @staticmethod
    def _by_policy(eligible):
        pack = [pool for pool in eligible if pool.template.policy == PACK]
        spread = [pool for pool in eligible if pool.template.policy != PACK]
        return (pack, spread)

    def _is_in(self, name, pools):
        pool_name = self._hosts[name].pool
        return any(pool.name == pool_name for pool in pools)

    @staticmethod
    def _sample_outside(pools, names):
        sample = []
        for pool in pools:
            for host in pool.ranked:
                if host.name not in names:
                    sample.append(host.name)
                    if len(sample) == SAMPLE:
                        return sample
        return sample

    # Accounting.

    def _resolve(self, host):
        return self._hosts[host if isinstance(host, str) else host.name]

    def _rank_key(self, host):
        """Smaller is better: minus the host's weight, then the order it became known in."""
        utilisation = max(
            share(host.used_vcpus, host.usable_vcpus),
            share(host.used_memory_mb, host.usable_memory_mb),
            share(host.used_disk_gb, host.usable_disk_gb),
        )
        return (
            -weight(MULTIPLIERS[host.policy], utilisation, host.standby),
            self._order[host.name],
        )

    def _index(self, pool, host):
        if host.enabled:
            pool.ranked.add(host, self._rank_key(host))
        else:
            pool.disabled[host.name] = host

    def _unindex(self, pool, host):
        if host.name in pool.disabled:
            del pool.disabled[host.name]
        else:
            pool.ranked.discard(host)

    def _change(self, host, request, sign, wake=False):
        pool = self._pools[host.pool]
        self._unindex(pool, host)
        host.used_vcpus += sign * request.vcpus
        host.used_memory_mb += sign * request.memory_mb
        host.used_disk_gb += sign * request.disk_gb
        if wake:
            host.standby = False
        self._index(pool, host)

    def _forget_member(self, group, name):
        names = self._group_hosts.get(group)
        if names is not None:
            names.discard(name)
            if not names:
                del self._group_hosts[group]
