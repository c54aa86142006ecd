"""Capacity the pools cannot use and when they will be full (R-G3, R-I4).

Stranded capacity: on each host, what is free after the most useful single flavour has been
packed into it as many times as it fits — the vCPUs left when memory runs out first, and the
memory left when vCPUs do. Summed per pool.

Forecast: a least-squares line through a pool's daily mean of claimed vCPUs and memory over
the last weeks, extended to the pool's usable capacity. Fewer than a week of days, or no
growth, gives no date.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from zhengyun.infrastructure.scheduler.model import usable

MIN_DAYS = 7


@dataclass
class Stranded:
    pool: object
    free_vcpus: int = 0
    free_memory_mb: int = 0
    stranded_vcpus: int = 0
    stranded_memory_mb: int = 0

    @property
    def vcpu_percent(self):
        return 100 * self.stranded_vcpus / self.free_vcpus if self.free_vcpus else 0.0

    @property
    def memory_percent(self):
        return 100 * self.stranded_memory_mb / self.free_memory_mb if self.free_memory_mb else 0.0


def stranded(hosts, flavours):
    """``[Stranded]`` per pool of ``hosts`` (rows with their pool), for the ``flavours``
    offered; hosts in maintenance take no new guests and are left out."""
    sizes = [(f.vcpus, f.memory_mb, f.disk_gb) for f in flavours if f.vcpus and f.memory_mb]
    pools = {}
    for host in hosts:
        if host.in_maintenance:
            continue
        pool = host.pool
        free_v = max(usable(host.vcpus, pool.cpu_ratio, pool.reserved_vcpus) - host.used_vcpus, 0)
        free_m = max(
            usable(host.memory_mb, pool.ram_ratio, pool.reserved_memory_mb) - host.used_memory_mb,
            0,
        )
        free_d = max(host.disk_gb - host.used_disk_gb, 0)
        used_v = used_m = 0
        for vcpus, memory_mb, disk_gb in sizes:
            copies = min(free_v // vcpus, free_m // memory_mb)
            if disk_gb:
                copies = min(copies, free_d // disk_gb)
            used_v, used_m = max(used_v, copies * vcpus), max(used_m, copies * memory_mb)
        row = pools.setdefault(pool.pk, Stranded(pool))
        row.free_vcpus += free_v
        row.free_memory_mb += free_m
        row.stranded_vcpus += free_v - used_v
        row.stranded_memory_mb += free_m - used_m
    return list(pools.values())


@dataclass
class Forecast:
    pool: object
    days: int
    vcpus_per_day: float
    memory_mb_per_day: float
    full_on: datetime.date | None  # None: not within the horizon, or no growth


def forecast(pool_days, horizon_days=365):
    """``{pool: Forecast}`` from ``PoolDay`` rows (any order)."""
    by_pool = defaultdict(list)
    for row in pool_days:
        by_pool[row.pool].append(row)
    found = {}
    for pool, rows in by_pool.items():
        rows.sort(key=lambda r: r.day)
        if len(rows) < MIN_DAYS:
            found[pool] = Forecast(pool, len(rows), 0.0, 0.0, None)
            continue
        first, last = rows[0].day, rows[-1]
        x = [(r.day - first).days for r in rows]
        cpu_slope, cpu_at = _line(x, [r.vcpus_claimed for r in rows])
        mem_slope, mem_at = _line(x, [r.memory_mb_claimed for r in rows])
        days_left = [
            (capacity - at(x[-1])) / slope
            for slope, at, capacity in (
                (cpu_slope, cpu_at, last.vcpus_usable),
                (mem_slope, mem_at, last.memory_mb_usable),
            )
            if slope > 0
        ]
        full_on = None
        if days_left:
            soonest = max(min(days_left), 0)
            if soonest <= horizon_days:
                full_on = last.day + datetime.timedelta(days=int(soonest))
        found[pool] = Forecast(pool, len(rows), cpu_slope, mem_slope, full_on)
    return found


def _line(x, y):
    """Slope and the fitted line (a function of x) of the least-squares fit."""
    n = len(x)
    mean_x, mean_y = sum(x) / n, sum(y) / n
    spread = sum((a - mean_x) ** 2 for a in x)
    slope = sum((a - mean_x) * (b - mean_y) for a, b in zip(x, y, strict=True)) / spread
    return slope, lambda at: mean_y + slope * (at - mean_x)
