"""The demo region's machine room: one zone, three pools of simulated hosts (an extranet
pool shared by all, an intranet pool certified for level 3, and a pool dedicated to the
provincial public security department), the flavours and images of the catalogue — and a
workload to consolidate: six portal instances of the public security department spread over
the extranet pool's hosts, and a maintenance window open all day so that a consolidation
plan, once approved, runs while someone watches.

Each simulated hypervisor keeps its state in a file of its own under the data directory,
so the web and worker processes see the same guests and a restart forgets none.
"""

import datetime

from django.conf import settings

from zhengyun.infrastructure import consolidation, pool_admin
from zhengyun.infrastructure import services as infrastructure
from zhengyun.infrastructure.choices import NetworkReach, OsFamily, PlacementPolicy, WindowDays
from zhengyun.infrastructure.models import (
    ComputeProvider,
    Flavour,
    Image,
    Instance,
    MaintenanceWindow,
    Pool,
    Zone,
)
from zhengyun.organizations.models import Department

WORKLOAD_POOL = "政务外网通用资源池"
WORKLOAD = [f"portal-{n}" for n in range(1, 7)]

ZONE = ("示范省政务云主机房", "main-room")
# (name, networks, certified level, policy, dedicated department or None, hosts)
POOLS = [
    (
        "政务外网通用资源池",
        [NetworkReach.GOV_EXTRANET, NetworkReach.INTERNET],
        2,
        PlacementPolicy.PACK,
        None,
        6,
    ),
    ("政务内网等保三级资源池", [NetworkReach.GOV_INTERNAL], 3, PlacementPolicy.PACK, None, 4),
    (
        "公安专属资源池",
        [NetworkReach.GOV_INTERNAL],
        3,
        PlacementPolicy.SPREAD,
        "示范省公安厅",
        3,
    ),
]
HOST_SIZE = "vcpus=32&memory_mb=131072&disk_gb=2000&idle_watts=110&peak_watts=320"
FLAVOURS = [
    ("s1.small", 1, 2048, 20),
    ("s2.medium", 2, 4096, 40),
    ("s4.large", 4, 8192, 80),
    ("s8.xlarge", 8, 16384, 160),
    ("m4.large", 4, 32768, 100),
]
IMAGES = [
    ("openEuler 22.03 LTS SP3", OsFamily.OPENEULER, "22.03-LTS-SP3", 20),
    ("银河麒麟高级服务器 V10 SP3", OsFamily.KYLIN, "V10-SP3", 40),
    ("统信 UOS 服务器版 20", OsFamily.UOS, "20-1070", 40),
]


def simulator_uri(name, hosts):
    path = settings.DATA_DIR / "simulator" / f"{name}.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sim://{path}?hosts={hosts}&{HOST_SIZE}"


def ensure_infrastructure(operator, province):
    """Create what is missing of the demo's machine room, as ``operator``."""
    zone = Zone.objects.filter(code=ZONE[1]).first() or infrastructure.create_zone(
        actor=operator, name=ZONE[0], code=ZONE[1], region=province
    )
    for number, (name, networks, level, policy, dedicated, hosts) in enumerate(POOLS, 1):
        pool = Pool.objects.filter(zone=zone, name=name).first()
        if pool is None:
            pool = infrastructure.create_pool(
                actor=operator,
                zone=zone,
                name=name,
                networks=networks,
                protection_level=level,
                policy=policy,
                dedicated_to=Department.objects.filter(name=dedicated).first()
                if dedicated
                else None,
            )
        provider_name = f"sim-{number}"
        if not ComputeProvider.objects.filter(name=provider_name).exists():
            infrastructure.register_provider(
                actor=operator,
                pool=pool,
                name=provider_name,
                driver="simulator",
                uri=simulator_uri(provider_name, hosts),
            )
    for name, vcpus, memory_mb, disk_gb in FLAVOURS:
        if not Flavour.objects.filter(name=name).exists():
            infrastructure.create_flavour(
                actor=operator, name=name, vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb
            )
    for name, family, version, min_disk in IMAGES:
        if not Image.objects.filter(name=name).exists():
            infrastructure.create_image(
                actor=operator,
                name=name,
                os_family=family,
                version=version,
                min_disk_gb=min_disk,
            )


def ensure_workload(operator, staff):
    """Six running portals spread over the shared extranet pool — ordered while the pool
    spreads, which it then stops doing — so that a consolidation plan has hosts to empty;
    and an all-day window on every day for that pool. Once only."""
    pool = Pool.objects.get(name=WORKLOAD_POOL)
    if not MaintenanceWindow.objects.filter(pool=pool).exists():
        consolidation.create_maintenance_window(
            actor=operator,
            pool=pool,
            days=WindowDays.ANY,
            starts=datetime.time(0, 0),
            ends=datetime.time(23, 59),
        )
    if Instance.objects.filter(department=staff.department, name__in=WORKLOAD).exists():
        return
    pool_admin.update_pool(pool, actor=operator, changes={"policy": PlacementPolicy.SPREAD})
    flavour = Flavour.objects.get(name="s2.medium")
    image = Image.objects.get(name=IMAGES[0][0])
    for name in WORKLOAD:
        infrastructure.create_instance(
            actor=staff,
            department=staff.department,
            name=name,
            flavour=flavour,
            image=image,
            networks=[NetworkReach.GOV_EXTRANET],
        )
    pool_admin.update_pool(pool, actor=operator, changes={"policy": PlacementPolicy.PACK})
