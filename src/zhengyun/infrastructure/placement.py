"""Placing an instance: the pooled hosts as the scheduler sees them, its decision, and the
claim of capacity on the chosen host in the database (R-I4).

The scheduler decides in memory; the claim is a conditional UPDATE that succeeds only while
the host still has the room the decision counted on, so two orders deciding at once for
the same last room cannot both take it — the loser decides again with fresh figures.
"""

from dataclasses import dataclass

from django.db.models import F
from django.utils.translation import gettext as _

from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure.models import Host
from zhengyun.infrastructure.scheduler import HostState, PlacementRequest, Scheduler

ATTEMPTS = 3


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


def scheduled_name(host):
    """A host's name for the scheduler: unique across providers, readable in a decision."""
    return f"{host.provider.name}/{host.name}"


def host_states(hosts):
    """The scheduler's view of ``hosts`` (with their pools and providers selected)."""
    return [
        HostState(
            name=scheduled_name(host),
            pool=str(host.pool),
            zone=str(host.pool.zone_id),
            vcpus=host.vcpus,
            memory_mb=host.memory_mb,
            disk_gb=host.disk_gb,
            cpu_ratio=host.pool.cpu_ratio,
            ram_ratio=host.pool.ram_ratio,
            reserved_vcpus=host.pool.reserved_vcpus,
            reserved_memory_mb=host.pool.reserved_memory_mb,
            used_vcpus=host.used_vcpus,
            used_memory_mb=host.used_memory_mb,
            used_disk_gb=host.used_disk_gb,
            networks=frozenset(host.pool.networks),
            protection_level=host.pool.protection_level,
            dedicated_to=host.pool.dedicated_to_id,
            policy=host.pool.policy,
            idle_watts=host.idle_watts,
            peak_watts=host.peak_watts,
            enabled=not host.in_maintenance,
        )
        for host in hosts
    ]


def request_for(instance):
    return PlacementRequest(
        vcpus=instance.vcpus,
        memory_mb=instance.memory_mb,
        disk_gb=instance.disk_gb,
        department=instance.department_id,
        zone=str(instance.zone_id) if instance.zone_id else None,
        networks=frozenset(instance.networks),
        protection_level=instance.protection_level,
    )


def place(instance):
    """Choose a host for ``instance`` and claim its size there: ``(host, decision)``, the
    decision as the JSON-ready record kept on the instance. ``NoValidHost`` otherwise."""
    request = request_for(instance)
    for _attempt in range(ATTEMPTS):
        hosts = {
            scheduled_name(h): h for h in Host.objects.select_related("pool__zone", "provider")
        }
        decision = Scheduler().select(request, host_states(hosts.values()))
        if decision.host is None:
            raise NoValidHost(decision)
        host = hosts[decision.host.name]
        if _claim(host, instance):
            return host, decision.as_dict()
    raise Conflict(_("Other orders took the room that fitted at the same moment; try again."))


def _claim(host, size):
    """Take ``size`` on ``host`` if it still fits under the pool's ratios; whether it did."""
    pool = host.pool
    room_vcpus = int(host.vcpus * pool.cpu_ratio) - pool.reserved_vcpus - size.vcpus
    room_memory = int(host.memory_mb * pool.ram_ratio) - pool.reserved_memory_mb - size.memory_mb
    room_disk = host.disk_gb - size.disk_gb
    return bool(
        Host.objects.filter(
            pk=host.pk,
            in_maintenance=False,
            used_vcpus__lte=room_vcpus,
            used_memory_mb__lte=room_memory,
            used_disk_gb__lte=room_disk,
        ).update(
            used_vcpus=F("used_vcpus") + size.vcpus,
            used_memory_mb=F("used_memory_mb") + size.memory_mb,
            used_disk_gb=F("used_disk_gb") + size.disk_gb,
        )
    )


def release(host, size):
    """Give ``size`` back on ``host``."""
    Host.objects.filter(pk=host.pk).update(
        used_vcpus=F("used_vcpus") - size.vcpus,
        used_memory_mb=F("used_memory_mb") - size.memory_mb,
        used_disk_gb=F("used_disk_gb") - size.disk_gb,
    )


@dataclass(frozen=True)
class DiskOnly:
    """A claim of disk alone, such as a volume or snapshot on a host's local storage."""

    disk_gb: int
    vcpus: int = 0
    memory_mb: int = 0


def claim_disk(host, disk_gb):
    """Take ``disk_gb`` of ``host``'s disk if it still has the room; whether it did."""
    return _claim(host, DiskOnly(disk_gb))


def release_disk(host, disk_gb):
    """Give ``disk_gb`` back on ``host``."""
    release(host, DiskOnly(disk_gb))
