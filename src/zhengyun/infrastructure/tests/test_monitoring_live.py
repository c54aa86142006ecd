"""Live views per pool and per department (R-I4, R-G3): each minute's host and instance
figures are summed up per pool and department and rolled up like them; the monitoring
pages read those rows, and a department's people see their own department only. The
console adds, changes and removes thresholds through the services."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhengyun.infrastructure import services
from zhengyun.infrastructure.choices import NetworkReach, Resolution
from zhengyun.infrastructure.models import (
    DepartmentSample,
    Host,
    HostSample,
    InstanceSample,
    MetricAlert,
    MetricThreshold,
    PoolSample,
)
from zhengyun.infrastructure.monitoring import aggregates, collector, rollup
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def room(world):
    return build_machine_room(world)


def minute(model, at, **fields):
    figures = {name: value for name, value in fields.items() if name not in {"host", "instance"}}
    maxima = {f"{name}_max": value for name, value in figures.items()}
    return model.objects.create(resolution=Resolution.MINUTE, bucket=at, **fields, **maxima)


def instance_of(room, staff, department, name):
    return services.create_instance(
        actor=staff,
        department=department,
        name=name,
        flavour=room.small,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
    )


@pytest.fixture
def figures(world, room):
    """Two minutes of figures: the extranet pool's two hosts, two instances of department A
    and one of B, summed up per pool and department and rolled up."""
    now = collector.minute_of(timezone.now())
    if now.minute == 0:  # both minutes in one hour (and day), whatever the clock says
        now -= MINUTE
    first, second = Host.objects.filter(pool=room.extranet).order_by("name")
    a1 = instance_of(room, world.staff_a, world.department_a, "a-web")
    a2 = instance_of(room, world.staff_a, world.department_a, "a-db")
    b1 = instance_of(room, world.staff_b, world.department_b, "b-web")
    for at in (now - MINUTE, now):
        minute(HostSample, at, host=first, cpu_percent=20.0, power_watts=100.0, net_rx_bps=1000.0)
        minute(HostSample, at, host=second, cpu_percent=60.0, power_watts=200.0, net_rx_bps=None)
        minute(InstanceSample, at, instance=a1, cpu_percent=10.0, memory_used_mb=512.0)
        minute(InstanceSample, at, instance=a2, cpu_percent=30.0, memory_used_mb=1024.0)
        minute(InstanceSample, at, instance=b1, cpu_percent=90.0, memory_used_mb=2048.0)
        aggregates.sum_up_minute(at)
    rollup.roll_up(now)
    return {"now": now, "a": (a1, a2), "b": b1}


def test_a_pools_figures_are_its_hosts_mean_load_and_summed_power_and_traffic(room, figures):
    pool = PoolSample.objects.get(pool=room.extranet, bucket=figures["now"])
    assert (pool.hosts, pool.cpu_percent, pool.power_watts) == (2, 40.0, 300.0)
    assert pool.net_rx_bps == 1000.0  # the host without the figure leaves it out
    assert pool.disk_read_bps is None  # no host had it
    assert not PoolSample.objects.filter(pool=room.intranet).exists()  # nothing sampled
    hour = PoolSample.objects.get(pool=room.extranet, resolution=Resolution.HOUR)
    assert hour.power_watts == 300.0 and hour.samples >= 1


def test_a_departments_figures_are_its_own_instances_only(world, figures):
    mine = DepartmentSample.objects.get(department=world.department_a, bucket=figures["now"])
    assert (mine.instances, mine.cpu_percent, mine.memory_used_mb) == (2, 20.0, 1536.0)
    theirs = DepartmentSample.objects.get(department=world.department_b, bucket=figures["now"])
    assert (theirs.instances, theirs.cpu_percent) == (1, 90.0)


def test_summing_a_minute_again_replaces_its_rows(world, figures):
    aggregates.sum_up_minute(figures["now"])
    assert DepartmentSample.objects.filter(resolution=Resolution.MINUTE).count() == 4


def test_operators_see_each_pool_and_department_with_its_last_hour(world, room, client, figures):
    client.force_login(world.operator)
    html = client.get("/infrastructure/monitoring/").content.decode()
    assert f'data-pool="{room.extranet.pk}"' in html
    assert world.department_a.name in html and world.department_b.name in html
    assert html.count("<polyline") >= 3
    pool = client.get(f"/infrastructure/monitoring/pools/{room.extranet.pk}/").content.decode()
    assert "300 W" in pool and pool.count("data-host=") == 2


def test_department_members_see_their_own_department_only(world, client, figures):
    client.force_login(world.staff_a)
    page = client.get("/infrastructure/monitoring/")
    assert page.status_code == 200
    html = page.content.decode()
    assert world.department_a.name in html and world.department_b.name not in html
    assert 'data-testid="pools"' not in html  # hosts and pools are the operators'
    own = client.get(f"/infrastructure/monitoring/departments/{world.department_a.pk}/")
    assert own.status_code == 200
    assert all(f'data-instance="{i.pk}"' in own.content.decode() for i in figures["a"])
    other = client.get(f"/infrastructure/monitoring/departments/{world.department_b.pk}/")
    assert other.status_code == 404
    pool = client.get(f"/infrastructure/monitoring/pools/{figures['b'].pk}/")
    assert pool.status_code == 403


def test_the_overview_costs_the_same_queries_however_many_hosts_answer(
    world, room, client, figures
):
    client.force_login(world.operator)
    client.get("/infrastructure/monitoring/")  # warm the session and role caches
    with CaptureQueriesContext(connection) as few:
        client.get("/infrastructure/monitoring/")
    services.register_provider(
        actor=world.operator,
        pool=room.intranet,
        name="sim-more",
        driver="simulator",
        uri="sim://memory?hosts=40&seed=7",
    )
    collector.collect(figures["now"])
    aggregates.sum_up_minute(figures["now"])
    with CaptureQueriesContext(connection) as many:
        client.get("/infrastructure/monitoring/")
    assert len(many) == len(few)


def test_a_department_admin_manages_thresholds_in_the_console(world, client):
    client.force_login(world.admin_a)
    body = {"name": "busy", "metric": "instance_cpu", "limit": "80", "minutes": "3"}
    refused = client.post(
        "/infrastructure/monitoring/thresholds/", {**body, "department": world.department_b.pk}
    )
    assert refused.status_code == 200 and 'role="alert"' in refused.content.decode()
    assert not MetricThreshold.objects.exists()
    made = client.post(
        "/infrastructure/monitoring/thresholds/", {**body, "department": world.department_a.pk}
    )
    assert made.status_code == 302
    threshold = MetricThreshold.objects.get()
    assert threshold.department == world.department_a

    edit = f"/infrastructure/monitoring/thresholds/{threshold.pk}/"
    assert client.get(edit).status_code == 200
    too_high = client.post(edit, {**body, "limit": "150", "department": world.department_a.pk})
    assert too_high.status_code == 200 and 'role="alert"' in too_high.content.decode()
    changed = client.post(edit, {**body, "limit": "85", "department": world.department_a.pk})
    assert changed.status_code == 302
    threshold.refresh_from_db()
    assert threshold.limit == 85

    client.force_login(world.staff_b)
    assert client.post(f"{edit}delete/").status_code == 404
    client.force_login(world.admin_a)
    assert client.post(f"{edit}delete/").status_code == 302
    assert not MetricThreshold.objects.exists()


def test_the_api_gives_each_department_its_own_sums_and_operators_the_pools(
    world, room, api_as, figures
):
    mine = api_as(world.staff_a).get(
        "/api/v1/infrastructure/department-samples/", {"resolution": "minute"}
    )
    assert {row["department"] for row in mine.json()["results"]} == {world.department_a.pk}
    theirs = api_as(world.staff_a).get("/api/v1/infrastructure/pool-samples/")
    assert theirs.status_code == 403 or theirs.json()["results"] == []
    pools = api_as(world.operator).get(
        "/api/v1/infrastructure/pool-samples/", {"resolution": "hour"}
    )
    assert [(row["pool"], row["power_watts"]) for row in pools.json()["results"]] == [
        (room.extranet.pk, 300.0)
    ]


def test_a_threshold_that_raised_an_alert_stays_with_a_clear_message_and_staff_see_no_form(
    world, room, client
):
    from django.contrib.messages import get_messages

    from zhengyun.infrastructure.monitoring import services as monitoring

    threshold = monitoring.create_threshold(
        actor=world.admin_a,
        name="busy",
        metric="instance_cpu",
        limit=80,
        minutes=3,
        department=world.department_a,
    )
    MetricAlert.objects.create(
        threshold=threshold,
        instance=instance_of(room, world.staff_a, world.department_a, "busy-1"),
        department=world.department_a,
        value=95,
        raised_at=timezone.now(),
    )
    client.force_login(world.admin_a)
    edit = f"/infrastructure/monitoring/thresholds/{threshold.pk}/"
    response = client.post(f"{edit}delete/")
    assert response.status_code == 302 and MetricThreshold.objects.filter(pk=threshold.pk).exists()
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]

    client.force_login(world.staff_a)  # may see thresholds, not change them
    assert client.get(edit).status_code == 403
