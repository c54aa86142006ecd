"""Each day's figures per pool and per department, recomputed every hour (R-G3, R-I4).

Pools: every hour the claims and usable capacity of its hosts are read once and folded
into the day's means; the energy is the sum over its hosts' hourly samples of the day.

Departments: the day is recomputed from the hourly samples of hosts and instances. In each
host-hour, the host's draw up to its idle power is shared among the instances on it by the
vCPUs each holds (the share of the host's usable vCPUs nobody holds stays the platform's),
and the draw above idle by the vCPUs each kept busy (vCPUs × CPU %). An instance counts on
the host it is on now: a migration within the day moves its share to its new host.
"""

import datetime
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from zhengyun.infrastructure.choices import Resolution
from zhengyun.infrastructure.models import DepartmentDay, Host, HostSample, InstanceSample, PoolDay
from zhengyun.infrastructure.monitoring.rollup import day_of, hour_of
from zhengyun.infrastructure.scheduler.model import usable

_DAY = datetime.timedelta(days=1)


def account(now=None):
    """Read the pools now and recompute today's (and, just after midnight, yesterday's)
    figures. Returns how many day rows were written."""
    now = now or timezone.now()
    today = day_of(now)
    written = _read_pools(now)
    # In the first hour of a day, yesterday's last hour has just been rolled up.
    days = [today] if now - today > datetime.timedelta(hours=1) else [today - _DAY, today]
    for start in days:
        written += _pool_energy(start) + _department_days(start)
    return written


@transaction.atomic
def _read_pools(now):
    hour = hour_of(now)
    figures = defaultdict(lambda: defaultdict(float))
    for host in Host.objects.select_related("pool"):
        pool = host.pool
        row = figures[pool]
        row["vcpus_claimed"] += host.used_vcpus
        row["vcpus_usable"] += usable(host.vcpus, pool.cpu_ratio, pool.reserved_vcpus)
        row["memory_mb_claimed"] += host.used_memory_mb
        row["memory_mb_usable"] += usable(host.memory_mb, pool.ram_ratio, pool.reserved_memory_mb)
        row["active_hosts"] += 1 if host.used_vcpus else 0
        row["hosts"] += 1
    written = 0
    for pool, reading in figures.items():
        day, _ = PoolDay.objects.select_for_update().get_or_create(pool=pool, day=hour.date())
        if day.last_hour == hour.hour:
            continue
        n = day.readings
        for name, value in reading.items():
            setattr(day, name, (getattr(day, name) * n + value) / (n + 1))
        day.readings, day.last_hour = n + 1, hour.hour
        day.save()
        written += 1
    return written


def _hour_samples(model, start):
    return model.objects.filter(
        resolution=Resolution.HOUR, bucket__gte=start, bucket__lt=start + _DAY
    )


@transaction.atomic
def _pool_energy(start):
    energy = defaultdict(float)
    for pool_id, watts in _hour_samples(HostSample, start).values_list(
        "host__pool_id", "power_watts"
    ):
        energy[pool_id] += (watts or 0.0) / 1000  # one hour at the mean draw
    for pool_id, kwh in energy.items():
        PoolDay.objects.update_or_create(
            pool_id=pool_id, day=start.date(), defaults={"energy_kwh": kwh}
        )
    return len(energy)


@transaction.atomic
def _department_days(start):
    power = {
        (host_id, bucket): watts
        for host_id, bucket, watts in _hour_samples(HostSample, start).values_list(
            "host_id", "bucket", "power_watts"
        )
    }
    hosts = Host.objects.select_related("pool").in_bulk({host_id for host_id, _ in power})
    on_host = defaultdict(list)  # (host, hour) -> [(department, vcpus, busy vcpus)]
    for host_id, department_id, vcpus, bucket, cpu in (
        _hour_samples(InstanceSample, start)
        .exclude(instance__host=None)
        .values_list(
            "instance__host_id",
            "instance__department_id",
            "instance__vcpus",
            "bucket",
            "cpu_percent",
        )
    ):
        on_host[host_id, bucket].append((department_id, vcpus, vcpus * (cpu or 0.0) / 100))

    totals = defaultdict(lambda: [0.0, 0.0, 0.0])  # department -> held, busy, Wh
    for (host_id, bucket), guests in on_host.items():
        host = hosts.get(host_id)
        watts = power.get((host_id, bucket))
        shares = attribute(host, watts, guests) if host and watts is not None else {}
        for department_id, vcpus, busy in guests:
            totals[department_id][0] += vcpus
            totals[department_id][1] += busy
        for department_id, wh in shares.items():
            totals[department_id][2] += wh

    for department_id, (held, busy, wh) in totals.items():
        DepartmentDay.objects.update_or_create(
            department_id=department_id,
            day=start.date(),
            defaults={"vcpu_hours": held, "busy_vcpu_hours": busy, "energy_kwh": wh / 1000},
        )
    return len(totals)


def attribute(host, watts, guests):
    """``{department: Wh}`` of one host-hour drawing ``watts`` on average, shared among
    ``guests`` — ``[(department, vcpus held, vcpus busy)]``."""
    idle = min(watts, host.idle_watts)
    above_idle = max(watts - idle, 0.0)
    held = sum(vcpus for _, vcpus, _ in guests)
    capacity = max(usable(host.vcpus, host.pool.cpu_ratio, host.pool.reserved_vcpus), held, 1)
    busy_total = sum(busy for _, _, busy in guests)
    shares = defaultdict(float)
    for department_id, vcpus, busy in guests:
        shares[department_id] += idle * vcpus / capacity
        if busy_total > 0:
            shares[department_id] += above_idle * busy / busy_total
    return dict(shares)
