"""Placement decisions per second with the claim in the database (R-I4): the per-process
placement cache against reading every host for each order, in the same run.

    python benchmarks/placement_claims.py [--hosts 10000] [--decisions 2000] [--rounds 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/placement_bench python benchmarks/...

One pool of ``--hosts`` identical hosts (``zhengyun bench scheduler``'s host type) is inserted
in bulk with the use that the trace's running population (a fifth of its instances, placed
first by the scheduler in memory) leaves on them. Then the trace's later events are replayed
through ``placement``: each arrival is an order placed and claimed in its own transaction, as
``create_instance`` does; each departure of an instance known to the run is a release in its
own transaction. Orders follow the scheduler benchmark's VM mix.

Per round, ``--decisions`` arrivals go through the cache, then ``--baseline-decisions``
through the read-everything path it replaced (every host read with its pool and provider, a
scheduler built, then the same claim). After the rounds, ``--processes`` processes, each with
its own cache, place ``--decisions`` arrivals each at once, the trace's instances dealt out
between them, as several workers would. Rates are arrivals per second of wall time, the
departures among them included; latencies are of one order's placement with its commit.
"Decisions/s of placement time" counts the placements alone, as ``zhengyun bench scheduler``
does: placements made over the time they took, each with its claim and commit. The
table gives the median of the rounds and the p99 over all of them. At the end every host's
use is checked against its capacity. On PostgreSQL the named database (its name must contain
"bench") is created afresh and dropped at the end.
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from scratch_database import scratch_database  # noqa: E402

PROVIDER = "bench"


@dataclass(frozen=True)
class Order:
    """What ``placement.place`` reads of an instance."""

    vcpus: int
    memory_mb: int
    disk_gb: int
    department_id: int | None = None
    zone_id: int | None = None
    networks: tuple = ()
    protection_level: int = 1
    server_group: object = None


def seed(hosts, trace, population):
    """One pool of ``hosts`` hosts carrying the running population; where each of its
    instances runs (host primary key, by instance number)."""
    from zhengyun.infrastructure.models import ComputeProvider, Host, Pool, Zone
    from zhengyun.infrastructure.scheduler import HostState, PlacementRequest, Scheduler
    from zhengyun.infrastructure.scheduler.bench import HOST, flavour_size
    from zhengyun.organizations.models import Region

    region = Region.objects.create(code="110000", name="北京市", level="province")
    zone = Zone.objects.create(name="bench", code="bench", region=region)
    pool = Pool.objects.create(
        zone=zone,
        name="bench",
        cpu_ratio=HOST["cpu_ratio"],
        ram_ratio=HOST["ram_ratio"],
        reserved_memory_mb=HOST["reserved_memory_mb"],
        networks=[],
        protection_level=2,
        policy="pack",
    )
    provider = ComputeProvider.objects.create(
        pool=pool, name=PROVIDER, driver="simulator", uri="sim://bench"
    )
    states = [
        HostState(name=f"{PROVIDER}/host-{i:05d}", pool=str(pool), zone=str(zone.pk), **HOST)
        for i in range(hosts)
    ]
    scheduler = Scheduler(states)
    placed = {}
    for _time, _kind, number in trace.events[:population]:
        v, m, d = flavour_size(trace.instances[number][2])
        decision = scheduler.place(PlacementRequest(vcpus=v, memory_mb=m, disk_gb=d))
        if decision.host is not None:
            placed[number] = decision.host.name
    rows = Host.objects.bulk_create(
        (
            Host(
                provider=provider,
                pool=pool,
                name=state.name.split("/", 1)[1],
                vcpus=HOST["vcpus"],
                memory_mb=HOST["memory_mb"],
                disk_gb=HOST["disk_gb"],
                idle_watts=HOST["idle_watts"],
                peak_watts=HOST["peak_watts"],
                used_vcpus=state.used_vcpus,
                used_memory_mb=state.used_memory_mb,
                used_disk_gb=state.used_disk_gb,
            )
            for state in states
        ),
        batch_size=1000,
    )
    pks = {f"{PROVIDER}/{row.name}": row.pk for row in rows}
    return {number: pks[name] for number, name in placed.items()}


def place_reading_everything(order):
    """The path the cache replaced: every host read, a scheduler built, then the claim."""
    from django.db.models import F

    from zhengyun.infrastructure import placement
    from zhengyun.infrastructure.models import Host
    from zhengyun.infrastructure.scheduler import HostState, Scheduler

    hosts = {
        f"{h.provider.name}/{h.name}": h
        for h in Host.objects.select_related("pool__zone", "provider")
    }
    states = [
        HostState(
            name=name,
            pool=str(h.pool),
            zone=str(h.pool.zone_id),
            vcpus=h.vcpus,
            memory_mb=h.memory_mb,
            disk_gb=h.disk_gb,
            cpu_ratio=h.pool.cpu_ratio,
            ram_ratio=h.pool.ram_ratio,
            reserved_vcpus=h.pool.reserved_vcpus,
            reserved_memory_mb=h.pool.reserved_memory_mb,
            used_vcpus=h.used_vcpus,
            used_memory_mb=h.used_memory_mb,
            used_disk_gb=h.used_disk_gb,
            networks=frozenset(h.pool.networks),
            protection_level=h.pool.protection_level,
            dedicated_to=h.pool.dedicated_to_id,
            policy=h.pool.policy,
            idle_watts=h.idle_watts,
            peak_watts=h.peak_watts,
            enabled=not h.in_maintenance,
        )
        for name, h in hosts.items()
    ]
    decision = Scheduler().select(placement.request_for(order), states)
    if decision.host is None:
        raise placement.NoValidHost(decision)
    host = hosts[decision.host.name]
    pool = host.pool
    claimed = Host.objects.filter(
        pk=host.pk,
        in_maintenance=False,
        used_vcpus__lte=int(host.vcpus * pool.cpu_ratio) - pool.reserved_vcpus - order.vcpus,
        used_memory_mb__lte=int(host.memory_mb * pool.ram_ratio)
        - pool.reserved_memory_mb
        - order.memory_mb,
        used_disk_gb__lte=host.disk_gb - order.disk_gb,
    ).update(
        used_vcpus=F("used_vcpus") + order.vcpus,
        used_memory_mb=F("used_memory_mb") + order.memory_mb,
        used_disk_gb=F("used_disk_gb") + order.disk_gb,
    )
    if not claimed:
        raise RuntimeError("a single-process benchmark lost a claim")
    return host, decision.as_dict()


class Replay:
    """The trace's events after the running population, in order, through ``placement``."""

    def __init__(self, trace, events, running):
        from zhengyun.infrastructure.scheduler.bench import flavour_size

        self.trace = trace
        self.events = iter(events)
        self.running = running  # instance number -> host primary key
        self.size = flavour_size
        self.refused = 0

    def split(self, parts):
        """The rest of the events dealt out by instance number to ``parts`` replays, each with
        the running instances of its own."""
        rest = list(self.events)
        return [
            Replay(
                self.trace,
                [event for event in rest if event[2] % parts == part],
                {n: pk for n, pk in self.running.items() if n % parts == part},
            )
            for part in range(parts)
        ]

    def run(self, decisions, place):
        """Replay until ``decisions`` arrivals are placed; arrivals per second and each
        placement's seconds."""
        from django.db import transaction

        from zhengyun.core.exceptions import Conflict
        from zhengyun.infrastructure import placement
        from zhengyun.infrastructure.models import Host

        latencies = []
        started = time.perf_counter()
        while len(latencies) < decisions:
            _time, kind, number = next(self.events)
            order = Order(*self.size(self.trace.instances[number][2]))
            if kind == 0:
                pk = self.running.pop(number, None)
                if pk is not None:
                    with transaction.atomic():
                        placement.release(Host(pk=pk), order)
                continue
            begun = time.perf_counter()
            try:
                with transaction.atomic():
                    host, _decision = place(order)
            except Conflict:
                # Lost to other processes every time it tried, or no room: counted, not
                # placed; the decision's time stays in the wall time but not in latencies.
                self.refused += 1
                continue
            latencies.append(time.perf_counter() - begun)
            self.running[number] = host.pk
        return decisions / (time.perf_counter() - started), latencies


def replay_at_once(replays, decisions):
    """Each replay through the cache in a process of its own, all started together: the
    decisions per second of them all, each placement's seconds, and the orders refused."""
    from django.db import connection

    from zhengyun.infrastructure import placement

    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(len(replays)), context.Queue()

    def worker(replay):
        placement.CACHE.reload()
        start.wait()
        began = time.time()
        _rate, times = replay.run(decisions, placement.place)
        results.put((began, time.time(), times, replay.refused))
        connection.close()

    connection.close()  # each process opens its own
    processes = [context.Process(target=worker, args=(replay,)) for replay in replays]
    for process in processes:
        process.start()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    wall = max(end for _, end, _, _ in outcomes) - min(began for began, _, _, _ in outcomes)
    times = [t for _, _, part, _ in outcomes for t in part]
    return decisions * len(replays) / wall, times, sum(refused for *_, refused in outcomes)


def over_committed():
    """Hosts whose claimed use exceeds what their pool lets them hold."""
    from zhengyun.infrastructure.models import Host

    return [
        h.name
        for h in Host.objects.select_related("pool")
        if h.used_vcpus > int(h.vcpus * h.pool.cpu_ratio) - h.pool.reserved_vcpus
        or h.used_memory_mb > int(h.memory_mb * h.pool.ram_ratio) - h.pool.reserved_memory_mb
        or h.used_disk_gb > h.disk_gb
    ]


def bare_transaction_ms(transactions=200):
    """The median time of a transaction updating one host row to itself: what the database
    takes to commit a write, the floor under every placement."""
    from django.db import transaction
    from django.db.models import F

    from zhengyun.infrastructure.models import Host

    pk = Host.objects.values_list("pk", flat=True).first()
    times = []
    for _ in range(transactions):
        begun = time.perf_counter()
        with transaction.atomic():
            Host.objects.filter(pk=pk).update(used_vcpus=F("used_vcpus"))
        times.append(time.perf_counter() - begun)
    return statistics.median(times) * 1000


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=2000, help="through the cache a round")
    parser.add_argument(
        "--baseline-decisions", type=int, default=20, help="reading every host, a round"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--processes", type=int, default=2, help="placing at once, after the rounds (0: none)"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with scratch_database("placement") as connection:
        from zhengyun.infrastructure import placement
        from zhengyun.infrastructure.scheduler.bench import Trace

        arrivals = (
            (args.decisions + args.baseline_decisions) * args.rounds
            + args.decisions * args.processes
        ) * 3
        population = 20_000 * args.hosts // 10_000  # the scheduler benchmark's load per host
        trace = Trace(population + arrivals, population, args.seed)
        started = time.perf_counter()
        running = seed(args.hosts, trace, population)
        seeded = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        floor = bare_transaction_ms()
        started = time.perf_counter()
        placement.CACHE.reload()
        loaded = time.perf_counter() - started

        replay = Replay(trace, trace.events[population:], running)
        rates = {"cache": [], "read everything": []}
        latencies = {"cache": [], "read everything": []}
        for _round in range(args.rounds):  # interleaved, so both see the same machine
            for path, place, decisions in (
                ("cache", placement.place, args.decisions),
                ("read everything", place_reading_everything, args.baseline_decisions),
            ):
                rate, times = replay.run(decisions, place)
                rates[path].append(rate)
                latencies[path].extend(times)
        if args.processes:
            together = f"cache, {args.processes} processes at once"
            rate, times, refused = replay_at_once(replay.split(args.processes), args.decisions)
            rates[together], latencies[together] = [rate], times
            replay.refused += refused
        problems = over_committed()

        if connection.vendor == "postgresql":
            database = f"postgresql {connection.pg_version // 10000}"
        else:
            database = f"sqlite {connection.Database.sqlite_version}"
        print(
            f"{database}; {args.hosts:,} hosts seeded in {seeded:.1f} s with "
            f"{len(running):,} running instances; cache loaded in {loaded * 1000:.0f} ms; "
            f"{args.rounds} rounds; load {os.getloadavg()[0]:.2f}; a bare one-row write "
            f"transaction takes {floor:.2f} ms"
        )
        print()
        print(
            "| path | decisions a round (all processes) | decisions/s, median "
            "| decisions/s of placement time | p50 ms | p99 ms |"
        )
        print("|---|---|---|---|---|---|")
        for path, values in rates.items():
            times = latencies[path]
            print(
                f"| {path} | {len(times) // len(values):,} | {statistics.median(values):,.0f} "
                f"| {len(times) / sum(times):,.0f} "
                f"| {percentile(times, 0.5) * 1000:.2f} | {percentile(times, 0.99) * 1000:.2f} |"
            )
        ratio = statistics.median(rates["cache"]) / statistics.median(rates["read everything"])
        print()
        print(f"cache / read everything: {ratio:,.0f}×")
        print(f"orders refused, or lost to other processes at every attempt: {replay.refused}")
        print(f"hosts over capacity: {len(problems)}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
