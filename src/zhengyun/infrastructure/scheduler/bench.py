"""The placement scheduler against its peers on one placement trace (R-I4, R-G3).

A trace of arrivals and departures, generated with a fixed seed, is replayed on identical
hosts by the platform's scheduler (``pack`` and ``spread``) and by re-implementations of the
peers' policies, each on the same trace:

- Nova's weighers: RAM, CPU and disk weighers, each normalised min-max over the hosts that
  passed, multiplier +1 (``nova_spread``, the default) or -1 (``nova_stack``);
- Kubernetes' NodeResourcesFit scores ``LeastAllocated`` and ``MostAllocated`` and the
  ``BalancedAllocation`` score, CPU and memory weighted 1, integer scores 0-100, ties broken
  at random as kube-scheduler's selectHost does;
- CloudStack's ``firstfit`` (the first host, in the order hosts were added, that fits) and
  ``firstfitleastconsumed`` (hosts ordered by least memory allocated, then first fit);
- offline first-fit-decreasing (``ffd``) as a reference: every sample time, the live
  instances sorted by their dominant share and packed afresh.

Every policy sees the same capacity: cpu_allocation_ratio 4.0 and ram_allocation_ratio 1.0
as in Nova (Kubernetes has no overcommit of requests; giving it the same allocatable keeps the
comparison about the choice of host). The peers are plain scans over the distinct host states
(hosts with the same use are interchangeable, so one representative of each is weighed); their
decision rates are stated but are not what they would reach in their own code. The platform's
figure is its scheduler core: ``place`` (filters, weighers, claim) and the JSON-ready decision
record, without the database.

Per policy: active hosts relative to the lower bound max(ceil(sum vCPU / capacity),
ceil(sum memory / capacity)), as a time-weighted mean over the second half of the trace (the
steady state); energy by the linear power model over the whole trace, a host with no guest
counted as powered down; decisions per second and the 99th-percentile decision time; and
fragmentation, the share of the memory of active hosts left free on hosts where no flavour of
the mix fits any more.

    zhengyun bench scheduler --hosts 10000 --arrivals 100000 --seed 1 [--json]
    python benchmarks/scheduler.py ...      (the same, from a checkout)
"""

import argparse
import json
import math
import random
import sys
import time

from zhengyun.infrastructure.scheduler import HostState, PlacementRequest, Scheduler
from zhengyun.infrastructure.scheduler.ranking import RankedHosts

GIB = 1024

# Azure's standard sizes (vCPUs, memory in MiB) with this benchmark's shares. The Azure public
# VM traces (Cortez et al., "Resource Central", SOSP 2017, and the 2019 dataset's analysis
# notebook) publish their size mix as bucketed bar charts — most VMs have one or two virtual
# cores and at most about 4 GB; few have 8 or more cores — not as a table. The shares below are
# this benchmark's rounding of that shape onto Azure's A- and D-series sizes, not numbers
# quoted from the trace, which is not downloaded.
FLAVOURS = (
    ("A1", 1, 1792, 0.20),
    ("D1", 1, 3584, 0.15),
    ("A2", 2, 3584, 0.20),
    ("D2", 2, 7168, 0.15),
    ("A3", 4, 7168, 0.12),
    ("D3", 4, 14336, 0.08),
    ("A4", 8, 14336, 0.05),
    ("D4", 8, 28672, 0.03),
    ("D5", 16, 57344, 0.02),
)
SYSTEM_DISK_GB = 40

# One host type: two 16-core sockets, 256 GiB, 6 TB of local disk, 8 GiB kept for the
# hypervisor; idle and peak draw of a two-socket server of that class. Memory is what runs out
# first (CPU is overcommitted four times); disk never does, as the lower bound assumes.
HOST = {
    "vcpus": 32,
    "memory_mb": 256 * GIB,
    "disk_gb": 6000,
    "cpu_ratio": 4.0,
    "ram_ratio": 1.0,
    "reserved_memory_mb": 8 * GIB,
    "idle_watts": 120.0,
    "peak_watts": 320.0,
}

# Lifetimes: half the instances are short-lived (mean 1 hour: tests, batch jobs), half live for
# days (mean 48 hours), each exponential — the Azure traces' finding that most VMs are short
# while most VM-hours belong to long-lived ones, in its simplest form.
LIFETIME_CLASSES = ((0.5, 1.0), (0.5, 48.0))
MEAN_LIFETIME_H = sum(share * mean for share, mean in LIFETIME_CLASSES)
FRAGMENTATION_SAMPLES = 20


class Trace:
    """Instances with arrival and departure times (hours) and a flavour.

    It starts in the steady state: ``population`` instances are running at time 0 (drawn as
    the steady state holds them: long-lived ones in proportion to their lifetime, with
    exponential residual lifetimes), then the rest arrive as a Poisson process whose rate keeps
    that population on average.
    """

    def __init__(self, arrivals, population, seed):
        rng = random.Random(seed)
        weights = [f[3] for f in FLAVOURS]
        rate = population / MEAN_LIFETIME_H
        steady = [share * mean / MEAN_LIFETIME_H for share, mean in LIFETIME_CLASSES]
        means = [mean for _share, mean in LIFETIME_CLASSES]
        self.instances = []
        now = 0.0
        for number in range(arrivals):
            if number < population:
                mean = rng.choices(means, steady)[0]
            else:
                now += rng.expovariate(rate)
                mean = rng.choices(means, [share for share, _ in LIFETIME_CLASSES])[0]
            flavour = rng.choices(range(len(FLAVOURS)), weights)[0]
            self.instances.append((now, now + rng.expovariate(1 / mean), flavour))
        self.end = now
        self.steady_from = now / 2
        events = [(start, 1, number) for number, (start, _, _) in enumerate(self.instances)]
        events += [
            (stop, 0, number)
            for number, (_, stop, _) in enumerate(self.instances)
            if stop < self.end
        ]
        events.sort()  # at equal times departures (0) before arrivals (1)
        self.events = events


def flavour_size(number):
    _name, vcpus, memory, _share = FLAVOURS[number]
    return vcpus, memory, SYSTEM_DISK_GB


def host_capacity():
    probe = HostState(name="probe", pool="p", zone="z", **HOST)
    return probe.usable_vcpus, probe.usable_memory_mb, probe.usable_disk_gb


class Platform:
    """The platform's scheduler with one pool of identical hosts under ``policy``."""

    def __init__(self, hosts, policy):
        self.name = policy
        self.states = [
            HostState(name=f"host-{i:05d}", pool="pool", zone="zone", policy=policy, **HOST)
            for i in range(hosts)
        ]
        self.scheduler = Scheduler(self.states)
        self.requests = [
            PlacementRequest(vcpus=v, memory_mb=m, disk_gb=d)
            for v, m, d in map(flavour_size, range(len(FLAVOURS)))
        ]

    def place(self, flavour):
        decision = self.scheduler.place(self.requests[flavour])
        decision.as_dict()
        return decision.host

    def remove(self, host, flavour):
        self.scheduler.release(host, self.requests[flavour])

    def free_of_active(self):
        return [
            (h.free_vcpus, h.free_memory_mb, h.free_disk_gb) for h in self.states if not h.is_empty
        ]


class CloudStack:
    """CloudStack's first-fit allocators, kept in rank order by the platform's block index so
    that the replay is quick; the host chosen is the one CloudStack's list order gives."""

    def __init__(self, hosts, name, least_consumed):
        self.name = name
        self.least_consumed = least_consumed
        self.states = [HostState(name=f"{i:05d}", pool="p", zone="z", **HOST) for i in range(hosts)]
        self.ranked = RankedHosts()
        for number, state in enumerate(self.states):
            self.ranked.add(state, self._key(state, number))
        self.requests = [
            PlacementRequest(vcpus=v, memory_mb=m, disk_gb=d)
            for v, m, d in map(flavour_size, range(len(FLAVOURS)))
        ]

    def _key(self, state, number):
        return (state.used_memory_mb if self.least_consumed else 0, number)

    def _move(self, state, request, sign):
        number = int(state.name)
        self.ranked.discard(state)
        state.used_vcpus += sign * request.vcpus
        state.used_memory_mb += sign * request.memory_mb
        state.used_disk_gb += sign * request.disk_gb
        self.ranked.add(state, self._key(state, number))

    def place(self, flavour):
        request = self.requests[flavour]
        found, _full, _names = self.ranked.search(request, 1)
        if not found:
            return None
        state = found[0][1]
        self._move(state, request, 1)
        return state

    def remove(self, state, flavour):
        self._move(state, self.requests[flavour], -1)

    def free_of_active(self):
        return [
            (h.free_vcpus, h.free_memory_mb, h.free_disk_gb) for h in self.states if not h.is_empty
        ]


class Scan:
    """A peer that weighs every host for every decision. Hosts with the same use are
    interchangeable, so hosts are grouped by their use and one of each group is weighed."""

    def __init__(self, hosts, name, choose, rng=None):
        self.name = name
        self.choose = choose
        self.rng = rng
        self.capacity = host_capacity()
        self.groups = {(0, 0, 0): set(range(hosts))}
        self.use = [(0, 0, 0)] * hosts

    def place(self, flavour):
        size = flavour_size(flavour)
        cap_v, cap_m, cap_d = self.capacity
        v, m, d = size
        fitting = [
            (state, len(members))
            for state, members in self.groups.items()
            if state[0] + v <= cap_v and state[1] + m <= cap_m and state[2] + d <= cap_d
        ]
        if not fitting:
            return None
        state = self.choose(fitting, size, self.capacity, self.rng)
        host = self.groups[state].pop()
        if not self.groups[state]:
            del self.groups[state]
        self._move(host, (state[0] + v, state[1] + m, state[2] + d))
        return host

    def remove(self, host, flavour):
        v, m, d = flavour_size(flavour)
        state = self.use[host]
        self.groups[state].discard(host)
        if not self.groups[state]:
            del self.groups[state]
        self._move(host, (state[0] - v, state[1] - m, state[2] - d))

    def _move(self, host, state):
        self.use[host] = state
        self.groups.setdefault(state, set()).add(host)

    def free_of_active(self):
        cap_v, cap_m, cap_d = self.capacity
        return [
            (cap_v - v, cap_m - m, cap_d - d)
            for (v, m, d), members in self.groups.items()
            if (v, m, d) != (0, 0, 0)
            for _ in members
        ]


def nova(multiplier):
    """Nova's RAM, CPU and disk weighers on free capacity, each normalised min-max across the
    hosts that passed, times ``multiplier`` (+1 spreads, -1 stacks); the first best wins."""

    def choose(fitting, size, capacity, rng):
        cap_v, cap_m, cap_d = capacity
        free = [(cap_m - s[1], cap_v - s[0], cap_d - s[2]) for s, _ in fitting]
        lows = [min(column) for column in zip(*free, strict=True)]
        spans = [
            max(column) - low for column, low in zip(zip(*free, strict=True), lows, strict=True)
        ]
        best, best_weight = None, None
        for (state, _count), values in zip(fitting, free, strict=True):
            weight = multiplier * sum(
                (value - low) / span if span else 0.0
                for value, low, span in zip(values, lows, spans, strict=True)
            )
            if best_weight is None or weight > best_weight:
                best, best_weight = state, weight
        return best

    return choose


def kubernetes(score):
    """A kube-scheduler score plugin over CPU and memory; ties broken uniformly at random
    among hosts (selectHost's reservoir sampling)."""

    def choose(fitting, size, capacity, rng):
        best, tied = None, []
        for state, count in fitting:
            value = score(state, size, capacity)
            if best is None or value > best:
                best, tied = value, [(state, count)]
            elif value == best:
                tied.append((state, count))
        states, counts = zip(*tied, strict=True)
        return rng.choices(states, counts)[0]

    return choose


def least_allocated(state, size, capacity):
    cpu = (capacity[0] - state[0] - size[0]) * 100 // capacity[0]
    memory = (capacity[1] - state[1] - size[1]) * 100 // capacity[1]
    return (cpu + memory) // 2


def most_allocated(state, size, capacity):
    cpu = (state[0] + size[0]) * 100 // capacity[0]
    memory = (state[1] + size[1]) * 100 // capacity[1]
    return (cpu + memory) // 2


def balanced_allocation(state, size, capacity):
    cpu = min(1.0, (state[0] + size[0]) / capacity[0])
    memory = min(1.0, (state[1] + size[1]) / capacity[1])
    return int((1 - abs(cpu - memory) / 2) * 100)


def first_fit_decreasing(live, capacity):
    """Hosts offline first-fit-decreasing needs for ``live`` flavours, and the free capacity of
    each host it used."""
    cap_v, cap_m, cap_d = capacity
    order = sorted(
        live,
        key=lambda f: max(flavour_size(f)[0] / cap_v, flavour_size(f)[1] / cap_m),
        reverse=True,
    )
    ranked = RankedHosts()
    states = []
    for flavour in order:
        v, m, d = flavour_size(flavour)
        request = PlacementRequest(vcpus=v, memory_mb=m, disk_gb=d)
        found, _full, _names = ranked.search(request, 1)
        if found:
            state = found[0][1]
            ranked.discard(state)
        else:
            state = HostState(name=str(len(states)), pool="p", zone="z", **HOST)
            states.append(state)
        state.used_vcpus += v
        state.used_memory_mb += m
        state.used_disk_gb += d
        ranked.add(state, (0, int(state.name)))
    return [(h.free_vcpus, h.free_memory_mb, h.free_disk_gb) for h in states]


def stranded_share(free_of_active, capacity):
    """The share of active hosts' memory left free on hosts where no flavour fits."""
    if not free_of_active:
        return 0.0
    sizes = [flavour_size(f) for f in range(len(FLAVOURS))]
    stranded = sum(
        m
        for v, m, d in free_of_active
        if not any(fv <= v and fm <= m and fd <= d for fv, fm, fd in sizes)
    )
    return stranded / (len(free_of_active) * capacity[1])


def lower_bound(vcpus, memory, capacity):
    return max(math.ceil(vcpus / capacity[0]), math.ceil(memory / capacity[1]), 1)


class Progress:
    """A progress bar on standard error."""

    def __init__(self, total):
        self.total = total
        self.done = 0

    def step(self, label, count=1):
        self.done += count
        filled = 30 * self.done // self.total
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {label:<24}")
        sys.stderr.flush()

    def close(self):
        sys.stderr.write("\n")


def replay(policy, trace, capacity, progress):
    """Run ``trace`` through ``policy``: its figures."""
    cap_v = capacity[0]
    idle, peak = HOST["idle_watts"], HOST["peak_watts"]
    samples = {
        trace.steady_from + (trace.end - trace.steady_from) * (i + 0.5) / FRAGMENTATION_SAMPLES
        for i in range(FRAGMENTATION_SAMPLES)
    }
    sample_times = sorted(samples)
    placed = {}
    hosts_used = {}
    active = 0
    vcpus = memory = 0
    previous = 0.0
    ratio_time = 0.0
    watt_hours = 0.0
    timings = []
    fragmentation = []
    refused = 0
    report_every = max(1, len(trace.events) // 200)
    for count, (now, arrival, number) in enumerate(trace.events):
        span = now - previous
        if span > 0:
            watt_hours += span * (idle * active + (peak - idle) * vcpus / cap_v)
            if now > trace.steady_from:
                steady_span = now - max(previous, trace.steady_from)
                ratio_time += steady_span * active / lower_bound(vcpus, memory, capacity)
            while sample_times and sample_times[0] <= now:
                sample_times.pop(0)
                fragmentation.append(stranded_share(policy.free_of_active(), capacity))
        previous = now
        flavour = trace.instances[number][2]
        v, m, _d = flavour_size(flavour)
        if arrival:
            started = time.perf_counter()
            host = policy.place(flavour)
            timings.append(time.perf_counter() - started)
            if host is None:
                refused += 1
                continue
            placed[number] = host
            key = id(host) if not isinstance(host, int) else host
            hosts_used[key] = hosts_used.get(key, 0) + 1
            active += hosts_used[key] == 1
            vcpus += v
            memory += m
        elif number in placed:
            host = placed.pop(number)
            policy.remove(host, flavour)
            key = id(host) if not isinstance(host, int) else host
            hosts_used[key] -= 1
            active -= hosts_used[key] == 0
            vcpus -= v
            memory -= m
        if count % report_every == 0:
            progress.step(policy.name, report_every)
    timings.sort()
    return {
        "active_hosts_ratio_to_lower_bound": ratio_time / (trace.end - trace.steady_from),
        "energy_kwh": watt_hours / 1000,
        "decisions_per_s": len(timings) / sum(timings),
        "p99_decision_ms": timings[int(0.99 * (len(timings) - 1))] * 1000,
        "fragmentation": sum(fragmentation) / len(fragmentation),
        "refused": refused,
    }


def reference(trace, capacity, progress):
    """Offline first-fit-decreasing at sample times across the trace."""
    cap_v = capacity[0]
    idle, peak = HOST["idle_watts"], HOST["peak_watts"]
    points = 2 * FRAGMENTATION_SAMPLES
    times = [trace.end * (i + 0.5) / points for i in range(points)]
    ratios, fragmentation, watt_hours = [], [], 0.0
    for when in times:
        live = [f for start, stop, f in trace.instances if start <= when < stop]
        free = first_fit_decreasing(live, capacity)
        vcpus = sum(flavour_size(f)[0] for f in live)
        memory = sum(flavour_size(f)[1] for f in live)
        watt_hours += (trace.end / points) * (idle * len(free) + (peak - idle) * vcpus / cap_v)
        if when >= trace.steady_from:
            ratios.append(len(free) / lower_bound(vcpus, memory, capacity))
            fragmentation.append(stranded_share(free, capacity))
        progress.step("ffd (offline)", len(trace.events) // points)
    return {
        "active_hosts_ratio_to_lower_bound": sum(ratios) / len(ratios),
        "energy_kwh": watt_hours / 1000,
        "decisions_per_s": None,
        "p99_decision_ms": None,
        "fragmentation": sum(fragmentation) / len(fragmentation),
        "refused": 0,
    }


def policies(hosts, seed):
    rng = random.Random(seed)
    return [
        lambda: Platform(hosts, "pack"),
        lambda: Platform(hosts, "spread"),
        lambda: Scan(hosts, "nova_stack", nova(-1.0)),
        lambda: Scan(hosts, "nova_spread", nova(1.0)),
        lambda: Scan(hosts, "k8s_least_allocated", kubernetes(least_allocated), rng),
        lambda: Scan(hosts, "k8s_most_allocated", kubernetes(most_allocated), rng),
        lambda: Scan(hosts, "k8s_balanced_allocation", kubernetes(balanced_allocation), rng),
        lambda: CloudStack(hosts, "cloudstack_firstfit", least_consumed=False),
        lambda: CloudStack(hosts, "cloudstack_firstfitleastconsumed", least_consumed=True),
    ]


PLATFORM = ("pack", "spread")


def compare_energy(results):
    """Each policy's energy relative to the best peer's (the platform's and the offline
    reference excluded from "peer")."""
    best = min(r["energy_kwh"] for name, r in results.items() if name not in (*PLATFORM, "ffd"))
    for r in results.values():
        r["energy_vs_best_peer"] = r["energy_kwh"] / best


def table(results):
    lines = [
        "| policy | active hosts / lower bound | energy (kWh) | energy vs best peer "
        "| decisions/s | p99 decision (ms) | fragmentation |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        rate = f"{r['decisions_per_s']:,.0f}" if r["decisions_per_s"] else "— (offline)"
        p99 = f"{r['p99_decision_ms']:.3f}" if r["p99_decision_ms"] is not None else "—"
        lines.append(
            f"| {name} | {r['active_hosts_ratio_to_lower_bound']:.4f} | {r['energy_kwh']:,.0f} "
            f"| {r['energy_vs_best_peer'] * 100:.1f} % | {rate} | {p99} "
            f"| {r['fragmentation'] * 100:.2f} % |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--arrivals", type=int, default=100_000)
    parser.add_argument(
        "--population",
        type=int,
        help="instances running at the start and on average (default: a fifth of the arrivals)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    population = args.population or args.arrivals // 5
    trace = Trace(args.arrivals, population, args.seed)
    capacity = host_capacity()
    makers = policies(args.hosts, args.seed)
    progress = Progress((len(makers) + 1) * len(trace.events))
    results = {}
    for make in makers:
        policy = make()
        results[policy.name] = replay(policy, trace, capacity, progress)
    results["ffd"] = reference(trace, capacity, progress)
    progress.close()
    compare_energy(results)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"{args.hosts:,} hosts, {args.arrivals:,} arrivals ({population:,} running at the "
            f"start), {trace.end:,.1f} simulated hours, seed {args.seed}; steady state from "
            f"hour {trace.steady_from:,.1f}\n"
        )
        print(table(results))


if __name__ == "__main__":
    main()
