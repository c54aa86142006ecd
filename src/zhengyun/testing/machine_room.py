"""A small machine room for tests: a zone in the province, a shared extranet pool
(level 2, pack), an intranet pool certified for level 3, simulated hosts in memory, two
flavours and an image — created through the services."""

from dataclasses import dataclass

from zhengyun.infrastructure import connections
from zhengyun.infrastructure import services as infrastructure
from zhengyun.infrastructure.choices import NetworkReach, OsFamily

HOST = "vcpus=8&memory_mb=16384&disk_gb=500&idle_watts=100&peak_watts=300"


@dataclass
class MachineRoom:
    zone: object
    extranet: object
    intranet: object
    small: object
    huge: object
    image: object

    def driver(self, pool):
        provider = pool.providers.get()
        return connections.driver_for(provider.driver, provider.uri)


def build_machine_room(world, hosts=2):
    operator = world.operator
    connections.driver_for.cache_clear()  # in-memory hypervisors start empty in every test
    zone = infrastructure.create_zone(
        actor=operator, name="主机房", code="main", region=world.province
    )
    extranet = infrastructure.create_pool(
        actor=operator,
        zone=zone,
        name="外网池",
        networks=[NetworkReach.GOV_EXTRANET, NetworkReach.INTERNET],
        protection_level=2,
    )
    intranet = infrastructure.create_pool(
        actor=operator,
        zone=zone,
        name="内网三级池",
        networks=[NetworkReach.GOV_INTERNAL],
        protection_level=3,
    )
    for number, pool in enumerate((extranet, intranet), 1):
        infrastructure.register_provider(
            actor=operator,
            pool=pool,
            name=f"sim-{number}",
            driver="simulator",
            uri=f"sim://memory?hosts={hosts}&{HOST}&seed={number}",
        )
    small = infrastructure.create_flavour(
        actor=operator, name="s2.medium", vcpus=2, memory_mb=4096, disk_gb=40
    )
    huge = infrastructure.create_flavour(
        actor=operator, name="m16.huge", vcpus=16, memory_mb=32768, disk_gb=100
    )
    image = infrastructure.create_image(
        actor=operator, name="openEuler 22.03", os_family=OsFamily.OPENEULER, version="22.03"
    )
    return MachineRoom(zone, extranet, intranet, small, huge, image)
