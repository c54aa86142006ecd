"""Reading the figures back: the operators' monitoring page, an instance's CPU on its detail
page, the API restricted like every other, and the Prometheus export (R-I4)."""

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from zhengyun.accounts import services as accounts
from zhengyun.infrastructure import lifecycle, services
from zhengyun.infrastructure.choices import NetworkReach
from zhengyun.infrastructure.monitoring import aggregates, collector, rollup
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(world):
    return build_machine_room(world)


@pytest.fixture
def sampled(world, room):
    """One running instance of department A, sampled and rolled up just now."""
    instance = services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name="web-1",
        flavour=room.small,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
    )
    lifecycle.build(instance.pk)
    room.driver(room.extranet).set_load(str(instance.uuid), 0.4)
    now = timezone.now()
    collector.collect(now)
    aggregates.sum_up_minute(collector.minute_of(now))
    rollup.roll_up(now)
    return instance


def scrape(client, user=None):
    headers = {}
    if user is not None:
        secret = accounts.create_api_token(actor=user, name="prometheus", scope="read")[1]
        headers["Authorization"] = f"Bearer {secret}"
    return client.get("/infrastructure/metrics", headers=headers)


def test_prometheus_exports_hosts_and_pools_to_an_operator_token(world, client, sampled):
    response = scrape(client, world.operator)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    cpu = families["zhengyun_host_cpu_percent"].samples
    assert len(cpu) == 4 and {s.labels["zone"] for s in cpu} == {"main"}
    busy = next(s for s in cpu if s.labels["host"] == sampled.host.name and s.value > 0)
    assert busy.value == pytest.approx(100 * 0.4 * 2 / 8)
    assert {s.value for s in families["zhengyun_host_up"].samples} == {1.0}
    assert len(families["zhengyun_pool_vcpus"].samples) == 2
    # Department data never leaves: no instance, no department in the export.
    assert str(sampled.uuid) not in text and "web-1" not in text
    assert world.department_a.name not in text


def test_prometheus_exports_hosts_disk_and_network_rates(world, client, sampled):
    collector.collect(timezone.now())  # a second sample: rates from the counters' change
    families = {
        f.name: f
        for f in text_string_to_metric_families(scrape(client, world.operator).content.decode())
    }
    for name in (
        "zhengyun_host_disk_read_bytes_per_second",
        "zhengyun_host_disk_write_bytes_per_second",
        "zhengyun_host_network_receive_bytes_per_second",
        "zhengyun_host_network_transmit_bytes_per_second",
    ):
        assert len(families[name].samples) == 4
        assert all(s.value >= 0 for s in families[name].samples)


def test_prometheus_refuses_strangers_and_departments(world, client, sampled):
    assert scrape(client).status_code == 401
    assert scrape(client, world.staff_a).status_code == 403
    assert scrape(client, world.supervisor_a).status_code == 403
    bad = client.get("/infrastructure/metrics", headers={"Authorization": "Bearer zy_x_y"})
    assert bad.status_code == 401


def test_the_monitoring_page_shows_pools_and_departments(world, client, sampled):
    client.force_login(world.operator)
    page = client.get("/infrastructure/monitoring/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-pool="{sampled.host.pool_id}"' in html and "<polyline" in html
    assert world.department_a.name in html
    pool = client.get(f"/infrastructure/monitoring/pools/{sampled.host.pool_id}/")
    assert pool.status_code == 200
    assert f'data-host="{sampled.host.name}"' in pool.content.decode()


def test_the_instance_page_shows_its_cpu_to_its_department(world, client, sampled):
    client.force_login(world.staff_a)
    html = client.get(f"/infrastructure/instances/{sampled.pk}/").content.decode()
    assert 'data-testid="instance-cpu"' in html and "40.0 %" in html


def test_another_department_never_sees_an_instances_figures(world, api_as, sampled):
    mine = api_as(world.staff_a).get(
        "/api/v1/infrastructure/instance-samples/", {"instance": sampled.pk}
    )
    assert {row["resolution"] for row in mine.json()["results"]} == {"minute", "hour", "day"}
    theirs = api_as(world.staff_b).get(
        "/api/v1/infrastructure/instance-samples/", {"instance": sampled.pk}
    )
    assert theirs.status_code == 200 and theirs.json()["results"] == []
    assert api_as(world.staff_b).get("/api/v1/infrastructure/host-samples/").status_code in (
        200,
        403,
    )
    hosts = api_as(world.staff_a).get("/api/v1/infrastructure/host-samples/")
    assert hosts.status_code == 403 or hosts.json()["results"] == []


def test_operators_set_thresholds_through_the_api(world, api_as):
    client = api_as(world.operator)
    created = client.post(
        "/api/v1/infrastructure/metric-thresholds/",
        {"name": "hot host", "metric": "host_cpu", "limit": 90, "minutes": 5},
        format="json",
    )
    assert created.status_code == 201, created.content
    refused = api_as(world.admin_a).post(
        "/api/v1/infrastructure/metric-thresholds/",
        {"name": "mine", "metric": "host_cpu", "limit": 1},
        format="json",
    )
    assert refused.status_code == 403
