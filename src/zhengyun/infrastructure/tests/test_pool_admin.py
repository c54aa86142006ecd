"""Operators run the machine room through the API (R-I1, R-I3, R-I4): zones, pools, flavours
and images are added, changed and retired, a pool's settings never change in a way that
breaks what its instances were placed under, and hosts' power figures stay consistent."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import PermissionDenied
from zhengyun.infrastructure import lifecycle, pool_admin
from zhengyun.infrastructure.choices import NetworkReach
from zhengyun.infrastructure.models import Flavour, Host, Pool, Zone
from zhengyun.infrastructure.placement import NoValidHost
from zhengyun.infrastructure.tests.test_instances import order
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db
API = "/api/v1/infrastructure"


@pytest.fixture
def room(world):
    return build_machine_room(world)


def test_operators_add_a_zone_a_pool_a_flavour_and_an_image(world, api_as):
    operator = api_as(world.operator)
    zone = operator.post(
        f"{API}/zones/", {"name": "二号机房", "code": "room-2", "region": world.province.pk}
    )
    assert zone.status_code == 201, zone.json()
    pool = operator.post(
        f"{API}/pools/",
        {
            "zone": zone.json()["id"],
            "name": "内网池",
            "networks": ["gov_internal"],
            "protection_level": 3,
            "cpu_ratio": 2.0,
        },
        format="json",
    )
    assert pool.status_code == 201, pool.json()
    assert Pool.objects.get(pk=pool.json()["id"]).cpu_ratio == 2.0
    flavour = operator.post(
        f"{API}/flavours/", {"name": "c8.large", "vcpus": 8, "memory_mb": 16384, "disk_gb": 80}
    )
    assert flavour.status_code == 201
    image = operator.post(
        f"{API}/images/",
        {"name": "Kylin V10", "os_family": "kylin", "version": "V10", "reference": "/i/k.qcow2"},
    )
    assert image.status_code == 201 and "reference" not in image.json()

    staff = api_as(world.staff_a)
    refused = staff.post(f"{API}/zones/", {"name": "x", "code": "x", "region": world.county_a.pk})
    assert refused.status_code == 403
    assert staff.post(f"{API}/flavours/", {"name": "x", "vcpus": 1}).status_code == 403
    assert not Zone.objects.filter(code="x").exists()


def test_a_zone_keeps_its_code_and_goes_only_when_empty(world, room, api_as):
    operator = api_as(world.operator)
    url = f"{API}/zones/{room.zone.pk}/"
    moved = operator.patch(url, {"code": "elsewhere"}, format="json")
    assert moved.status_code == 400 and moved.json()["errors"][0]["field"] == "code"
    renamed = operator.put(
        url, {"name": "一号机房", "code": room.zone.code, "region": world.province.pk}
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "一号机房"
    assert operator.delete(url).status_code == 409  # its pools are still there


def test_a_pool_never_changes_under_its_instances(world, room):
    instance = order(world, room, protection_level=3, networks=[NetworkReach.GOV_INTERNAL])
    lifecycle.build(instance.pk)
    pool = room.intranet

    def refused(**changes):
        with pytest.raises(ValidationError) as caught:
            pool_admin.update_pool(pool, actor=world.operator, changes=changes)
        return caught.value.message_dict

    assert instance.name in refused(protection_level=2)["protection_level"][0]
    assert instance.name in refused(networks=[NetworkReach.GOV_EXTRANET])["networks"][0]
    assert instance.name in refused(dedicated_to=world.department_b)["dedicated_to"][0]
    host = instance.host
    host.refresh_from_db()
    assert host.name in refused(reserved_vcpus=4 * host.vcpus - 1)["cpu_ratio"][0]
    other_zone = Zone.objects.create(name="二号机房", code="room-2", region=world.province)
    assert "zone" in refused(zone=other_zone)
    pool.refresh_from_db()
    assert (pool.protection_level, pool.reserved_vcpus, pool.dedicated_to) == (3, 0, None)

    changed = pool_admin.update_pool(
        pool, actor=world.operator, changes={"policy": "spread", "dedicated_to": world.department_a}
    )
    assert (changed.policy, changed.dedicated_to) == ("spread", world.department_a)


def test_placement_follows_a_pools_new_settings(world, room):
    pool_admin.update_pool(
        room.extranet, actor=world.operator, changes={"dedicated_to": world.department_b}
    )
    theirs = order(world, room, actor=world.staff_b, name="b-1")
    assert theirs.host.pool == room.extranet
    with translation.override("en"), pytest.raises(NoValidHost) as caught:
        order(world, room, name="a-1")  # A's only extranet pool is now B's
    assert "外网池: The pool is dedicated to another department" in caught.value.message


def test_what_an_instance_used_is_not_deleted(world, room, api_as):
    order(world, room)
    operator = api_as(world.operator)
    assert operator.delete(f"{API}/flavours/{room.small.pk}/").status_code == 409
    assert operator.delete(f"{API}/images/{room.image.pk}/").status_code == 409
    assert operator.delete(f"{API}/pools/{room.extranet.pk}/").status_code == 409
    assert operator.delete(f"{API}/flavours/{room.huge.pk}/").status_code == 204
    assert not Flavour.objects.filter(pk=room.huge.pk).exists()


def test_operators_set_a_hosts_power_figures_never_below_idle_and_department_members_cannot(
    world, room
):
    host = Host.objects.filter(pool=room.extranet).first()
    with pytest.raises(PermissionDenied):
        pool_admin.set_host_power_model(
            host, actor=world.staff_a, idle_watts=1, peak_watts=2, power_curve=[]
        )
    assert AuditEvent.objects.filter(
        actor=world.staff_a, action="infrastructure.host.change", result="denied"
    ).exists()
    with pytest.raises(ValidationError):
        pool_admin.set_host_power_model(
            host, actor=world.sysadmin, idle_watts=200, peak_watts=100, power_curve=[]
        )
    changed = pool_admin.set_host_power_model(
        host, actor=world.sysadmin, idle_watts=120, peak_watts=330, power_curve=[]
    )
    assert (changed.idle_watts, changed.peak_watts) == (120, 330)
    assert AuditEvent.objects.filter(
        action="infrastructure.set_host_power_model", actor=world.sysadmin
    ).exists()
