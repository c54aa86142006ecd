"""What a killed worker must never leave behind (design rule 5) — no orphan or misplaced guest,
no guest of another size than its instance, with other interfaces than its ports, or running
when it should be stopped (or the other way round), no network of a deleted one, no quota or
claim counted wrong, no resize or migration left open — checked against the database and the
hypervisors, and a one-pool machine room on any driver to check it on.

Used by the in-process crash tests and, through ``zhengyun shell``, by the one that kills a
real worker process."""

from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from zhengyun.infrastructure import connections, guest_networks
from zhengyun.infrastructure import services as infrastructure
from zhengyun.infrastructure.choices import (
    InstanceStatus,
    MigrationStatus,
    NetworkReach,
    OsFamily,
    ResizeStatus,
)
from zhengyun.infrastructure.drivers.base import GuestState
from zhengyun.infrastructure.models import (
    ComputeProvider,
    FloatingAddress,
    Host,
    Instance,
    InstanceMigration,
    InstanceResize,
    Network,
    Port,
    Quota,
)

QUOTA_FIGURES = ("instances", "vcpus", "memory_mb", "disk_gb", "addresses")
# The states an instance may be left in, and how its guest must be then.
SETTLED = {InstanceStatus.ACTIVE: GuestState.RUNNING, InstanceStatus.STOPPED: GuestState.STOPPED}


@dataclass
class CrashRoom:
    pool: object
    flavour: object
    image: object
    subnet: object


def build_crash_room(world, *, driver, uri):
    """One pool on the hypervisor at ``uri``, a flavour small enough for libvirt's test
    host, and a subnet of department A's to hand out addresses."""
    operator = world.operator
    connections.driver_for.cache_clear()
    zone = infrastructure.create_zone(
        actor=operator, name="主机房", code="main", region=world.province
    )
    pool = infrastructure.create_pool(
        actor=operator,
        zone=zone,
        name="外网池",
        networks=[NetworkReach.GOV_EXTRANET],
        protection_level=2,
    )
    infrastructure.register_provider(actor=operator, pool=pool, name="hv", driver=driver, uri=uri)
    flavour = infrastructure.create_flavour(
        actor=operator, name="s1.tiny", vcpus=1, memory_mb=128, disk_gb=1
    )
    image = infrastructure.create_image(
        actor=operator, name="openEuler 22.03", os_family=OsFamily.OPENEULER, version="22.03"
    )
    network = infrastructure.create_network(
        actor=world.staff_a,
        department=world.department_a,
        name="甲网",
        reach=NetworkReach.GOV_EXTRANET,
    )
    subnet = infrastructure.create_subnet(
        actor=world.staff_a, network=network, name="甲段", cidr="10.9.0.0/24"
    )
    return CrashRoom(pool, flavour, image, subnet)


def order(world, room, name):
    """Department A orders an instance with an address of the room's subnet."""
    return infrastructure.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name=name,
        flavour=room.flavour,
        image=room.image,
        subnet=room.subnet,
    )


def guests_by_provider(info=False):
    """``{provider pk: {guest name: host}}`` as the hypervisors report them now (with
    ``info``, the whole ``GuestInfo`` rather than the host)."""
    return {
        provider.pk: {
            guest.name: guest if info else guest.host
            for guest in connections.driver_for(provider.driver, provider.uri).guests()
        }
        for provider in ComputeProvider.objects.all()
    }


def violations(ignored_guests=frozenset()):
    """Every way the platform is not as an uninterrupted run would have left it: an empty
    list when all is well. ``ignored_guests``: guests the hypervisor had before the test
    (libvirt's test driver comes with one)."""
    found = []
    live = Instance.objects.exclude(status=InstanceStatus.DELETED).select_related("host__provider")
    for instance in Instance.objects.exclude(status__in=[*SETTLED, InstanceStatus.DELETED]):
        found.append(f"instance {instance.name} left {instance.status}")
    for resize in InstanceResize.objects.filter(
        status__in=[ResizeStatus.RESIZING, ResizeStatus.REVERTING]
    ):
        found.append(f"resize of {resize.instance_id} left {resize.status}")
    for migration in InstanceMigration.objects.filter(
        status__in=[MigrationStatus.PENDING, MigrationStatus.MIGRATING]
    ):
        found.append(f"migration of {migration.instance_id} left {migration.status}")
    guests = guests_by_provider(info=True)
    expected = {}
    for instance in live:
        expected.setdefault(instance.host.provider_id, {})[str(instance.uuid)] = instance
    for provider, reported in guests.items():
        reported = {n: g for n, g in reported.items() if n not in ignored_guests}
        wanted = expected.get(provider, {})
        for name in reported.keys() - wanted.keys():
            found.append(f"orphan guest {name}")
        for name in wanted.keys() - reported.keys():
            found.append(f"instance {name} has no guest")
        for name in reported.keys() & wanted.keys():
            guest, instance = reported[name], wanted[name]
            if guest.host != instance.host.name:
                found.append(f"guest {name} on {guest.host}, instance on {instance.host.name}")
            if instance.status in SETTLED and guest.state != SETTLED[instance.status]:
                found.append(f"guest {name} {guest.state}, instance {instance.status}")
            if (guest.vcpus, guest.memory_mb) != (instance.vcpus, instance.memory_mb):
                found.append(
                    f"guest {name} has {guest.vcpus} vCPUs and {guest.memory_mb} MB, "
                    f"instance {instance.vcpus} and {instance.memory_mb}"
                )
            driver = connections.driver_for(
                instance.host.provider.driver, instance.host.provider.uri
            )
            disk = driver.grow_disk(name, 0)  # asking for less reads the size
            if disk and disk != instance.disk_gb:
                found.append(f"guest {name} has a {disk} GB disk, instance {instance.disk_gb}")
            plugged = driver.guest_nics(name)
            if plugged != list(guest_networks.nics(instance)):
                found.append(f"guest {name} has interfaces {plugged}, its ports others")
    found += _network_violations()
    found += _quota_violations(live)
    found += _host_violations(live)
    for port in Port.objects.filter(instance__status=InstanceStatus.DELETED):
        found.append(f"address {port.address} kept by deleted instance {port.instance_id}")
    return found


def _network_violations():
    known = {str(uuid) for uuid in Network.objects.values_list("uuid", flat=True)}
    return [
        f"network {network} of no platform network left on provider {provider.name}"
        for provider in ComputeProvider.objects.all()
        for network in connections.driver_for(provider.driver, provider.uri).networks()
        if network not in known
    ]


def _quota_violations(live):
    found = []
    for quota in Quota.objects.all():
        mine = live.filter(department=quota.department_id).aggregate(
            instances=Count("pk"),
            vcpus=Sum("vcpus", default=0),
            memory_mb=Sum("memory_mb", default=0),
            disk_gb=Sum("disk_gb", default=0),
        )
        # Load balancers' virtual addresses and floating addresses count as addresses too.
        mine["addresses"] = (
            Port.objects.filter(
                Q(instance__in=live) | Q(load_balancer__isnull=False),
                department=quota.department_id,
            ).count()
            + FloatingAddress.objects.filter(department=quota.department_id).count()
        )
        for figure in QUOTA_FIGURES:
            used = getattr(quota, f"used_{figure}")
            if used != mine[figure]:
                found.append(f"quota of {quota.department_id}: {figure} {used} != {mine[figure]}")
    return found


def _host_violations(live):
    found = []
    for host in Host.objects.all():
        mine = live.filter(host=host).aggregate(
            vcpus=Sum("vcpus", default=0),
            memory_mb=Sum("memory_mb", default=0),
            disk_gb=Sum("disk_gb", default=0),
        )
        used = {
            "vcpus": host.used_vcpus,
            "memory_mb": host.used_memory_mb,
            "disk_gb": host.used_disk_gb,
        }
        if used != mine:
            found.append(f"host {host.name} claims {used}, its instances {mine}")
    return found
