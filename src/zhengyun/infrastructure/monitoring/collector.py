"""One minute's sample of every host and every running instance, from their drivers.

A provider that cannot be reached, or a host or guest that does not answer, leaves a gap
in its own figures and is named in the result; the others are sampled all the same. Rows
are written in bulk, a few queries per minute whatever the number of hosts, and a second
run in the same minute replaces its rows rather than doubling them.
"""

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from zhengyun.infrastructure.choices import InstanceStatus, Resolution
from zhengyun.infrastructure.connections import driver_for
from zhengyun.infrastructure.drivers.base import DriverError
from zhengyun.infrastructure.models import (
    ComputeProvider,
    Host,
    HostCounters,
    HostSample,
    Instance,
    InstanceCounters,
    InstanceSample,
)
from zhengyun.infrastructure.power import curve_power

logger = logging.getLogger(__name__)

BATCH = 1000
# Counters older than this say nothing about the rate now (the collector was stopped, or
# the guest was off): the first sample after such a gap has no rates.
MAX_GAP = datetime.timedelta(minutes=10)
# Host and guest counters and the rate each becomes.
COUNTERS = {
    "disk_read_bytes": "disk_read_bps",
    "disk_write_bytes": "disk_write_bps",
    "net_rx_bytes": "net_rx_bps",
    "net_tx_bytes": "net_tx_bps",
}


@dataclass
class Collection:
    """What one run sampled, and what failed (provider names with the error)."""

    hosts: int = 0
    instances: int = 0
    failures: list[str] = field(default_factory=list)

    def __str__(self):
        text = f"hosts={self.hosts} instances={self.instances}"
        return text + (f" failed: {'; '.join(self.failures)}" if self.failures else "")


def minute_of(moment):
    """The start of the minute bucket ``moment`` falls in."""
    return moment.replace(second=0, microsecond=0)


def collect(now=None):
    """Sample every host and running instance into this minute's bucket."""
    now = now or timezone.now()
    bucket = minute_of(now)
    run = Collection()
    hosts = defaultdict(list)
    for host in Host.objects.only("pk", "provider_id", "name", "standby", "power_curve"):
        hosts[host.provider_id].append(host)
    guests = defaultdict(list)
    for instance_id, provider_id, uuid in Instance.objects.filter(
        status=InstanceStatus.ACTIVE, host__isnull=False
    ).values_list("pk", "host__provider_id", "uuid"):
        guests[provider_id].append((instance_id, str(uuid)))
    previous = {
        c.instance_id: c
        for c in InstanceCounters.objects.filter(instance__status=InstanceStatus.ACTIVE)
    }
    previous_hosts = {c.host_id: c for c in HostCounters.objects.all()}

    host_rows, instance_rows, host_counters, counters = [], [], [], []
    for provider in ComputeProvider.objects.all():
        try:
            driver = driver_for(provider.driver, provider.uri)
            failed = _sample_hosts(
                driver, hosts[provider.pk], now, bucket, previous_hosts, host_rows, host_counters
            )
            failed += _sample_guests(
                driver, guests[provider.pk], now, bucket, previous, instance_rows, counters
            )
        except DriverError as exc:
            run.failures.append(f"{provider.name}: {exc}")
            continue
        except Exception as exc:  # a faulty driver must not blind us to every other provider
            logger.exception("metrics from provider %s failed", provider.name)
            run.failures.append(f"{provider.name}: {exc!r}")
            continue
        if failed:
            run.failures.append(f"{provider.name}: {failed} without figures")
    _save(host_rows, instance_rows, host_counters, counters)
    run.hosts, run.instances = len(host_rows), len(instance_rows)
    if run.failures:
        logger.warning("metrics collection incomplete: %s", run)
    return run


def _sample_hosts(driver, hosts, now, bucket, previous, rows, counters):
    failed = 0
    for host in hosts:
        try:
            m = driver.host_metrics(host.name)
        except DriverError:
            failed += 1
            continue
        gone = set(m.unavailable)
        memory = (
            None
            if {"memory_used_mb", "memory_total_mb"} & gone or not m.memory_total_mb
            else round(100.0 * m.memory_used_mb / m.memory_total_mb, 2)
        )
        figures = {
            "cpu_percent": None if "cpu_percent" in gone else m.cpu_percent,
            "memory_percent": memory,
            "power_watts": _power(host, m, gone),
            "running_guests": None if "running_guests" in gone else float(m.running_guests),
        }
        current = {c: None if c in gone else getattr(m, c) for c in COUNTERS}
        figures.update(_rates(previous.get(host.pk), current, now, fall_is_restart=False))
        rows.append(HostSample(host_id=host.pk, **minute_fields(bucket, figures)))
        counters.append(HostCounters(host_id=host.pk, sampled_at=now, **current))
    return failed


def _power(host, m, gone):
    """A host's watts: none in standby (consolidation powered it down), read off its
    measured curve at the sampled load where it has one, else as the driver reports."""
    if host.standby:
        return 0.0
    if host.power_curve and "cpu_percent" not in gone:
        return round(curve_power(host.power_curve, m.cpu_percent / 100), 1)
    return None if "power_watts" in gone else m.power_watts


def _sample_guests(driver, guests, now, bucket, previous, rows, counters):
    failed = 0
    for instance_id, name in guests:
        try:
            m = driver.guest_metrics(name)
        except DriverError:
            failed += 1
            continue
        gone = set(m.unavailable)
        current = {c: None if c in gone else getattr(m, c) for c in COUNTERS}
        figures = {
            "cpu_percent": None if "cpu_percent" in gone else m.cpu_percent,
            "memory_used_mb": None if "memory_used_mb" in gone else float(m.memory_used_mb),
        }
        figures.update(_rates(previous.get(instance_id), current, now))
        rows.append(InstanceSample(instance_id=instance_id, **minute_fields(bucket, figures)))
        counters.append(InstanceCounters(instance_id=instance_id, sampled_at=now, **current))
    return failed


def _rates(before, current, now, fall_is_restart=True):
    """Bytes per second since the last sample; unknown on the first sample. A guest's
    counter that went down means the guest restarted, and counts from zero (as Prometheus'
    rate does), so a rate is never negative. A host's counters may be sums over its guests
    (libvirt has no host-wide figure), which also fall when a guest stops or moves away:
    there a fall leaves the minute unknown rather than counting every remaining guest's
    lifetime bytes as one minute's traffic."""
    recent = before is not None and now - before.sampled_at <= MAX_GAP
    seconds = (now - before.sampled_at).total_seconds() if recent else 0
    rates = {}
    for counter, rate in COUNTERS.items():
        old, new = getattr(before, counter, None), current[counter]
        if seconds <= 0 or old is None or new is None or (new < old and not fall_is_restart):
            rates[rate] = None
        else:
            rates[rate] = round((new - old if new >= old else new) / seconds, 1)
    return rates


def minute_fields(bucket, figures):
    """A minute bucket's fields: one sample, so each figure is its own maximum."""
    fields = {"resolution": Resolution.MINUTE, "bucket": bucket, "samples": 1}
    for name, value in figures.items():
        fields[name] = fields[f"{name}_max"] = value
    return fields


def _save(host_rows, instance_rows, host_counters, counters):
    with transaction.atomic():
        for model, rows, owner in (
            (HostSample, host_rows, "host"),
            (InstanceSample, instance_rows, "instance"),
        ):
            model.objects.bulk_create(
                rows,
                batch_size=BATCH,
                update_conflicts=True,
                unique_fields=[owner, "resolution", "bucket"],
                update_fields=[*model.FIGURES, *(f"{f}_max" for f in model.FIGURES), "samples"],
            )
        for model, rows, owner in (
            (HostCounters, host_counters, "host"),
            (InstanceCounters, counters, "instance"),
        ):
            model.objects.bulk_create(
                rows,
                batch_size=BATCH,
                update_conflicts=True,
                unique_fields=[owner],
                update_fields=["sampled_at", *COUNTERS],
            )
