"""Hosts' and pools' current figures in the Prometheus text format (design rule 8).

Only hosts and pools are exported, never instances: what leaves here is the operators'
data, and only the hosts the scraping user's roles let them view (a region's operator
scrapes their region). The figures are the newest minute bucket of each host.
"""

from django.db.models import Sum
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from zhengyun.infrastructure.models import Host, HostSample, Pool
from zhengyun.infrastructure.monitoring.series import latest

HOST_LABELS = ["host", "pool", "zone"]
POOL_LABELS = ["pool", "zone"]
HOST_GAUGES = (
    ("cpu_percent", "zhengyun_host_cpu_percent", "Host CPU use over the last minute (%)"),
    ("memory_percent", "zhengyun_host_memory_percent", "Host memory in use (%)"),
    ("power_watts", "zhengyun_host_power_watts", "Host power draw (W)"),
    ("running_guests", "zhengyun_host_running_guests", "Guests running on the host"),
    ("disk_read_bps", "zhengyun_host_disk_read_bytes_per_second", "Host disk reads (bytes/s)"),
    ("disk_write_bps", "zhengyun_host_disk_write_bytes_per_second", "Host disk writes (bytes/s)"),
    ("net_rx_bps", "zhengyun_host_network_receive_bytes_per_second", "Host network in (bytes/s)"),
    ("net_tx_bps", "zhengyun_host_network_transmit_bytes_per_second", "Host network out (bytes/s)"),
)


class _Snapshot:
    """A one-off prometheus_client collector over the rows read for one scrape."""

    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def exposition(user):
    """The text exposition of what ``user`` may view."""
    hosts = list(Host.objects.restrict(user, "view").select_related("pool__zone"))
    newest = latest(HostSample.objects.restrict(user, "view"), "host")
    families = [_host_up(hosts, newest)]
    for figure, name, documentation in HOST_GAUGES:
        family = GaugeMetricFamily(name, documentation, labels=HOST_LABELS)
        for host in hosts:
            value = getattr(newest.get(host.pk), figure, None)
            if value is not None:
                family.add_metric(_host_labels(host), value)
        families.append(family)
    families.extend(_pools(user, hosts, newest))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(families))
    return generate_latest(registry)


def _host_labels(host):
    return [host.name, host.pool.name, host.pool.zone.code]


def _host_up(hosts, newest):
    family = GaugeMetricFamily(
        "zhengyun_host_up", "1 when the host answered in the last minutes", labels=HOST_LABELS
    )
    for host in hosts:
        family.add_metric(_host_labels(host), 1.0 if host.pk in newest else 0.0)
    return family


def _pools(user, hosts, newest):
    capacity = GaugeMetricFamily(
        "zhengyun_pool_vcpus", "Physical CPUs of the pool's hosts", labels=POOL_LABELS
    )
    claimed = GaugeMetricFamily(
        "zhengyun_pool_vcpus_claimed", "vCPUs claimed by instances", labels=POOL_LABELS
    )
    power = GaugeMetricFamily(
        "zhengyun_pool_power_watts", "Power drawn by the pool's sampled hosts", labels=POOL_LABELS
    )
    watts = {}
    for host in hosts:
        sample = newest.get(host.pk)
        if sample is not None and sample.power_watts is not None:
            watts[host.pool_id] = watts.get(host.pool_id, 0.0) + sample.power_watts
    pools = (
        Pool.objects.restrict(user, "view")
        .select_related("zone")
        .annotate(vcpus=Sum("hosts__vcpus"), used=Sum("hosts__used_vcpus"))
    )
    for pool in pools:
        labels = [pool.name, pool.zone.code]
        capacity.add_metric(labels, pool.vcpus or 0)
        claimed.add_metric(labels, pool.used or 0)
        if pool.pk in watts:
            power.add_metric(labels, watts[pool.pk])
    return [capacity, claimed, power]
