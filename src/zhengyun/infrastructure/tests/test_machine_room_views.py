"""Operators run the machine room from the console (R-I3, R-I4): zones, pools and their
settings, flavours, images and hosts' power models — with the same permission, promise
checks and audit trail as the API; department members are refused."""

import pytest

from zhengyun.audit.models import AuditEvent
from zhengyun.infrastructure import lifecycle
from zhengyun.infrastructure.choices import NetworkReach
from zhengyun.infrastructure.models import Flavour, Host, Image, Pool, Zone
from zhengyun.infrastructure.tests.test_instances import order
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db
CONSOLE = "/infrastructure"
CURVE = [110, 150, 180, 205, 225, 243, 260, 275, 290, 302, 315]


@pytest.fixture
def room(world):
    return build_machine_room(world)


@pytest.fixture
def operator(world, client):
    client.force_login(world.operator)
    return client


def audited(action, actor):
    return AuditEvent.objects.filter(action=action, actor=actor, result="success").exists()


def curve_fields(curve):
    return {f"load_{load}": watts for load, watts in zip(range(0, 101, 10), curve, strict=True)}


def pool_post(pool, **changes):
    """The edit form as the browser sends it: every setting, some of them changed."""
    data = {
        "name": pool.name,
        "cpu_ratio": pool.cpu_ratio,
        "ram_ratio": pool.ram_ratio,
        "reserved_vcpus": pool.reserved_vcpus,
        "reserved_memory_mb": pool.reserved_memory_mb,
        "networks": list(pool.networks),
        "protection_level": pool.protection_level,
        "dedicated_to": pool.dedicated_to_id or "",
        "policy": pool.policy,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "url",
    [
        "/zones/new/",
        "/pools/new/",
        "/flavours/new/",
        "/images/new/",
        "/pools/{pool}/edit/",
        "/hosts/{host}/power/",
        "/hosts/{host}/bmc/",
    ],
)
def test_department_members_are_refused_every_machine_room_form(world, room, client, url):
    host = Host.objects.filter(pool=room.extranet).first()
    url = CONSOLE + url.format(pool=room.extranet.pk, host=host.pk)
    client.force_login(world.staff_a)
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "mine", "idle_watts": 1, "peak_watts": 2}).status_code == 403
    assert AuditEvent.objects.filter(actor=world.staff_a, result="denied").exists()
    assert not Zone.objects.filter(name="mine").exists()
    assert not Flavour.objects.filter(name="mine").exists()
    assert Pool.objects.get(pk=room.extranet.pk).name == room.extranet.name
    assert Host.objects.get(pk=host.pk).idle_watts == 100
    assert Host.objects.get(pk=host.pk).bmc_url == ""


def test_department_members_see_no_machine_room_links(world, room, client):
    client.force_login(world.staff_a)
    page = client.get(f"{CONSOLE}/pools/").content.decode()
    assert "/zones/new/" not in page and "/edit/" not in page and "/power/" not in page
    assert "/bmc/" not in page


def test_an_operator_adds_a_zone(world, operator):
    page = operator.get(f"{CONSOLE}/zones/new/").content.decode()
    assert "新增可用区" in page  # Chinese by default
    response = operator.post(
        f"{CONSOLE}/zones/new/", {"name": "二号机房", "code": "room-2", "region": world.province.pk}
    )
    assert response.status_code == 302
    assert Zone.objects.get(code="room-2").region == world.province
    assert audited("infrastructure.create_zone", world.operator)


def test_a_zone_with_a_code_taken_is_refused_on_the_form(world, room, operator):
    response = operator.post(
        f"{CONSOLE}/zones/new/",
        {"name": "另一机房", "code": room.zone.code, "region": world.province.pk},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert not Zone.objects.filter(name="另一机房").exists()


def test_an_operator_adds_a_pool_with_its_settings(world, room, operator):
    response = operator.post(
        f"{CONSOLE}/pools/new/",
        {
            "zone": room.zone.pk,
            "name": "专属池",
            "cpu_ratio": 2.0,
            "ram_ratio": 1.5,
            "reserved_vcpus": 2,
            "reserved_memory_mb": 2048,
            "networks": [NetworkReach.GOV_INTERNAL, NetworkReach.GOV_EXTRANET],
            "protection_level": 3,
            "dedicated_to": world.department_a.pk,
            "policy": "spread",
        },
    )
    assert response.status_code == 302
    pool = Pool.objects.get(name="专属池")
    assert (pool.cpu_ratio, pool.ram_ratio, pool.reserved_vcpus, pool.reserved_memory_mb) == (
        2.0,
        1.5,
        2,
        2048,
    )
    assert set(pool.networks) == {"gov_internal", "gov_extranet"}
    assert (pool.protection_level, pool.dedicated_to, pool.policy) == (
        3,
        world.department_a,
        "spread",
    )
    assert audited("infrastructure.create_pool", world.operator)
    page = operator.get(f"{CONSOLE}/pools/").content.decode()
    assert "专属池" in page and "vCPU ×2.0" in page


def test_a_pool_that_overcommits_below_one_is_refused_on_the_form(world, room, operator):
    response = operator.post(
        f"{CONSOLE}/pools/new/",
        {"zone": room.zone.pk, "name": "坏池", "cpu_ratio": 0.5, "ram_ratio": 1,
         "reserved_vcpus": 0, "reserved_memory_mb": 0, "protection_level": 2, "policy": "pack"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.context["form"].errors["cpu_ratio"]
    assert not Pool.objects.filter(name="坏池").exists()


def test_an_operator_changes_a_pools_overcommit(world, room, operator):
    pool = room.extranet
    response = operator.post(f"{CONSOLE}/pools/{pool.pk}/edit/", pool_post(pool, cpu_ratio=6))
    assert response.status_code == 302
    pool.refresh_from_db()
    assert pool.cpu_ratio == 6.0
    event = AuditEvent.objects.get(action="infrastructure.update_pool", actor=world.operator)
    assert event.changes["cpu_ratio"] == [4.0, 6.0]


def test_a_pool_change_its_instances_could_not_live_with_is_refused_with_the_reason(
    world, room, operator
):
    instance = order(world, room, protection_level=3, networks=[NetworkReach.GOV_INTERNAL])
    lifecycle.build(instance.pk)
    pool = room.intranet
    response = operator.post(
        f"{CONSOLE}/pools/{pool.pk}/edit/",
        pool_post(pool, protection_level=2, cpu_ratio=8),
    )
    assert response.status_code == 200
    assert instance.name in response.context["form"].errors["protection_level"][0]
    assert instance.name in response.content.decode()
    pool.refresh_from_db()
    assert (pool.protection_level, pool.cpu_ratio) == (3, 4.0)
    assert not AuditEvent.objects.filter(action="infrastructure.update_pool").exists()


def test_the_edit_form_starts_from_the_pools_settings(world, room, operator):
    form = operator.get(f"{CONSOLE}/pools/{room.intranet.pk}/edit/").context["form"]
    assert form["name"].value() == "内网三级池"
    assert form["networks"].value() == ["gov_internal"] and form["protection_level"].value() == 3


def test_an_operator_adds_a_flavour_and_an_image(world, operator):
    flavour = operator.post(
        f"{CONSOLE}/flavours/new/",
        {"name": "c8.large", "vcpus": 8, "memory_mb": 16384, "disk_gb": 80},
    )
    image = operator.post(
        f"{CONSOLE}/images/new/",
        {"name": "Kylin V10", "os_family": "kylin", "version": "V10", "min_disk_gb": 20},
    )
    assert flavour.status_code == image.status_code == 302
    assert Flavour.objects.get(name="c8.large").memory_mb == 16384
    assert Image.objects.get(name="Kylin V10").min_disk_gb == 20
    assert audited("infrastructure.create_flavour", world.operator)
    assert audited("infrastructure.create_image", world.operator)
    page = operator.get(f"{CONSOLE}/pools/").content.decode()
    assert "c8.large" in page and "Kylin V10" in page


def test_a_bad_flavour_or_image_is_refused_on_the_form(world, room, operator):
    flavour = operator.post(
        f"{CONSOLE}/flavours/new/", {"name": "tiny", "vcpus": 1, "memory_mb": 64, "disk_gb": 1}
    )
    assert flavour.status_code == 200 and flavour.context["form"].errors["memory_mb"]
    image = operator.post(
        f"{CONSOLE}/images/new/",
        {"name": room.image.name, "os_family": "kylin", "version": "V10", "min_disk_gb": 1},
    )
    assert image.status_code == 200 and image.context["form"].errors["name"]
    assert not Flavour.objects.filter(name="tiny").exists()
    assert Image.objects.filter(name=room.image.name).count() == 1


def test_an_operator_sets_a_hosts_power_curve(world, room, operator):
    host = Host.objects.filter(pool=room.extranet).first()
    url = f"{CONSOLE}/hosts/{host.pk}/power/"
    response = operator.post(url, {"idle_watts": 110, "peak_watts": 315, **curve_fields(CURVE)})
    assert response.status_code == 302
    host.refresh_from_db()
    assert (host.idle_watts, host.peak_watts, host.power_curve) == (110, 315, CURVE)
    event = AuditEvent.objects.get(action="infrastructure.set_host_power_model")
    assert event.actor == world.operator and event.changes["power_curve"] == [[], CURVE]
    assert "110 · 150 · 180" in operator.get(f"{CONSOLE}/pools/").content.decode()

    # All eleven figures emptied: back to the linear model of idle and peak.
    assert operator.post(url, {"idle_watts": 90, "peak_watts": 280}).status_code == 302
    host.refresh_from_db()
    assert (host.idle_watts, host.peak_watts, host.power_curve) == (90, 280, [])


@pytest.mark.parametrize(
    "post, field",
    [
        ({"idle_watts": 300, "peak_watts": 200}, "peak_watts"),
        ({"idle_watts": -5, "peak_watts": 200}, "idle_watts"),
        ({"idle_watts": 100, "peak_watts": 300, **curve_fields(CURVE[::-1])}, None),
        ({"idle_watts": 100, "peak_watts": 300, "load_0": 100, "load_50": 200}, None),
    ],
    ids=["peak-below-idle", "negative", "falling-curve", "curve-incomplete"],
)
def test_a_bad_power_model_is_refused_on_the_form_and_changes_nothing(
    world, room, operator, post, field
):
    host = Host.objects.filter(pool=room.extranet).first()
    response = operator.post(f"{CONSOLE}/hosts/{host.pk}/power/", post)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors[field or "__all__"]
    host.refresh_from_db()
    assert (host.idle_watts, host.peak_watts, host.power_curve) == (100, 300, [])
    assert not AuditEvent.objects.filter(action="infrastructure.set_host_power_model").exists()


def test_the_forms_speak_english_on_request(world, room, operator):
    operator.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = operator.get(f"{CONSOLE}/hosts/{room.extranet.hosts.first().pk}/power/")
    text = page.content.decode()
    assert "Watts at 50 % load" in text and "负载" not in text


def test_an_overcommit_beyond_any_use_is_refused_on_the_form_and_by_the_service(
    world, room, operator
):
    from django.core.exceptions import ValidationError

    from zhengyun.infrastructure import pool_admin

    pool = room.extranet
    response = operator.post(f"{CONSOLE}/pools/{pool.pk}/edit/", pool_post(pool, cpu_ratio=1e308))
    assert response.status_code == 200 and response.context["form"].errors["cpu_ratio"]
    with pytest.raises(ValidationError) as refused:
        pool_admin.update_pool(pool, actor=world.operator, changes={"ram_ratio": 1e308})
    assert "ram_ratio" in refused.value.message_dict
    pool.refresh_from_db()
    assert (pool.cpu_ratio, pool.ram_ratio) == (room.extranet.cpu_ratio, room.extranet.ram_ratio)
