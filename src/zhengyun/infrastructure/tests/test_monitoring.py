"""The minute's collector samples hosts and running instances from their drivers (byte
rates differenced from counters, never negative across a restart), a provider down does
not stop the others, minutes roll up into hours and days, each
resolution is pruned past its window, and thresholds raise and clear alerts once (R-I4)."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from zhengyun.audit.models import AuditEvent
from zhengyun.infrastructure import lifecycle, services
from zhengyun.infrastructure.choices import NetworkReach, Resolution, ThresholdMetric
from zhengyun.infrastructure.drivers.simulator_model import HOST_BASELINE_BYTES_PER_S
from zhengyun.infrastructure.models import (
    ComputeProvider,
    Host,
    HostSample,
    InstanceSample,
    MetricAlert,
)
from zhengyun.infrastructure.monitoring import alerts, collector, rollup
from zhengyun.infrastructure.monitoring import services as monitoring
from zhengyun.infrastructure.tasks import collect_metrics_task
from zhengyun.notifications.models import Notification
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Asia/Shanghai")
T0 = datetime.datetime(2026, 3, 10, 10, 58, 30, tzinfo=LOCAL)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def room(world):
    return build_machine_room(world)


def running_instance(world, room, name="web-1"):
    instance = services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name=name,
        flavour=room.small,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
    )
    lifecycle.build(instance.pk)
    return instance


def minute_row(host, at, **figures):
    """A minute bucket of ``host`` as the collector writes it."""
    fields = {f"{name}_max": value for name, value in figures.items()}
    return HostSample.objects.create(
        host=host, resolution=Resolution.MINUTE, bucket=at, **figures, **fields
    )


def test_the_collector_samples_every_host_and_running_instance(world, room):
    instance = running_instance(world, room)
    room.driver(room.extranet).set_load(str(instance.uuid), 0.5)

    run = collector.collect(T0)

    assert (run.hosts, run.instances, run.failures) == (4, 1, [])
    bucket = T0.replace(second=0)
    sample = InstanceSample.objects.get(instance=instance)
    assert (sample.resolution, sample.bucket, sample.cpu_percent) == ("minute", bucket, 50.0)
    assert sample.disk_read_bps is None  # no earlier counters to difference against
    busy = HostSample.objects.get(host=instance.host)
    assert busy.cpu_percent == pytest.approx(100 * 0.5 * 2 / 8)
    assert busy.power_watts == pytest.approx(100 + 200 * 0.125, abs=0.1)
    assert busy.running_guests == 1
    idle = HostSample.objects.exclude(host=instance.host).filter(host__pool=room.intranet)
    assert {s.power_watts for s in idle} == {100.0}

    collector.collect(T0 + MINUTE)
    later = InstanceSample.objects.get(instance=instance, bucket=bucket + MINUTE)
    assert later.disk_read_bps is not None and later.disk_read_bps >= 0


def test_a_second_run_in_the_same_minute_replaces_its_rows(world, room):
    collector.collect(T0)
    collector.collect(T0 + datetime.timedelta(seconds=20))
    assert HostSample.objects.count() == 4


def test_rates_are_counter_differences_over_the_seconds_between_samples():
    before = type("Counters", (), {})()
    before.sampled_at = T0
    before.disk_read_bytes, before.disk_write_bytes = 1000, 5000
    before.net_rx_bytes, before.net_tx_bytes = 0, None
    current = {
        "disk_read_bytes": 7000,
        "disk_write_bytes": 600,  # went down: the guest restarted
        "net_rx_bytes": None,
        "net_tx_bytes": 10,
    }
    rates = collector._rates(before, current, T0 + MINUTE)
    assert rates == {
        "disk_read_bps": 100.0,
        "disk_write_bps": 10.0,
        "net_rx_bps": None,
        "net_tx_bps": None,
    }
    assert collector._rates(before, current, T0 + 11 * MINUTE)["disk_read_bps"] is None


def test_host_io_rates_come_from_its_counters_and_a_fall_leaves_its_minute_unknown(world, room):
    driver = room.driver(room.intranet)
    clock = [5000.0]
    driver.clock = lambda: clock[0]
    host = Host.objects.filter(pool=room.intranet).order_by("name").first()

    def rates(at):
        sample = HostSample.objects.get(host=host, bucket=collector.minute_of(at))
        return {c: getattr(sample, rate) for c, rate in collector.COUNTERS.items()}

    collector.collect(T0)
    assert set(rates(T0).values()) == {None}  # nothing yet to difference against
    clock[0] += 60
    collector.collect(T0 + MINUTE)
    assert rates(T0 + MINUTE) == HOST_BASELINE_BYTES_PER_S

    # A reboot starts its counters again from zero; on libvirt a sum falls too when a guest
    # stops or leaves. Neither is read as a minute's traffic (nor as a negative one).
    driver.mark_host_down(host.name)
    driver.mark_host_up(host.name)
    clock[0] += 60
    collector.collect(T0 + 2 * MINUTE)
    assert set(rates(T0 + 2 * MINUTE).values()) == {None}
    clock[0] += 60
    collector.collect(T0 + 3 * MINUTE)
    assert rates(T0 + 3 * MINUTE) == HOST_BASELINE_BYTES_PER_S


def test_a_provider_that_fails_does_not_stop_the_others(world, room):
    room.driver(room.extranet).fail_next("host_metrics", times=2)
    broken = ComputeProvider.objects.create(
        pool=room.intranet, name="gone", driver="no-such-driver", uri="x://"
    )
    Host.objects.create(
        provider=broken, pool=room.intranet, name="h", vcpus=1, memory_mb=1, disk_gb=1
    )

    run = collector.collect(T0)

    assert run.hosts == 2
    assert set(HostSample.objects.values_list("host__pool", flat=True)) == {room.intranet.pk}
    assert sorted(f.split(":")[0] for f in run.failures) == ["gone", "sim-1"]
    assert "gone" in str(run)


def test_minutes_roll_up_into_hours_and_hours_into_days_across_boundaries(world, room):
    host = Host.objects.first()
    minute_row(host, T0.replace(second=0), cpu_percent=10.0, power_watts=100.0)
    minute_row(host, T0.replace(minute=59, second=0), cpu_percent=30.0, power_watts=None)
    minute_row(host, T0.replace(hour=11, minute=0, second=0), cpu_percent=80.0, power_watts=200.0)

    rollup.roll_up(T0.replace(hour=11, minute=1))

    hours = {
        s.bucket.astimezone(LOCAL).hour: s
        for s in HostSample.objects.filter(resolution=Resolution.HOUR)
    }
    assert set(hours) == {10, 11}
    assert (hours[10].samples, hours[10].cpu_percent, hours[10].cpu_percent_max) == (2, 20.0, 30.0)
    assert hours[10].power_watts == 100.0  # the minute without power does not count
    assert hours[11].cpu_percent == 80.0
    day = HostSample.objects.get(resolution=Resolution.DAY)
    assert day.bucket == T0.replace(hour=0, minute=0, second=0)
    assert (day.samples, day.cpu_percent, day.cpu_percent_max) == (3, 40.0, 80.0)

    # Run again after another minute: the rows are recomputed, not added to.
    minute_row(host, T0.replace(hour=11, minute=1, second=0), cpu_percent=20.0)
    rollup.roll_up(T0.replace(hour=11, minute=2))
    assert HostSample.objects.filter(resolution=Resolution.HOUR).count() == 2
    day.refresh_from_db()
    assert (day.samples, day.cpu_percent) == (4, 35.0)


def test_a_local_midnight_starts_a_new_day(world, room):
    host = Host.objects.first()
    midnight = datetime.datetime(2026, 3, 11, 0, 0, tzinfo=LOCAL)
    minute_row(host, midnight - MINUTE, cpu_percent=10.0)
    minute_row(host, midnight, cpu_percent=50.0)
    rollup.roll_up(midnight + MINUTE)
    days = HostSample.objects.filter(resolution=Resolution.DAY).order_by("bucket")
    assert [(d.bucket, d.cpu_percent) for d in days] == [
        (midnight - datetime.timedelta(days=1), 10.0),
        (midnight, 50.0),
    ]


def test_pruning_keeps_each_resolution_for_its_window(world, room):
    host = Host.objects.first()
    now = T0
    kept, gone = [], []
    for resolution, window in rollup.KEPT.items():
        kept.append(
            HostSample.objects.create(
                host=host, resolution=resolution, bucket=now - window + MINUTE
            ).pk
        )
        gone.append(
            HostSample.objects.create(
                host=host, resolution=resolution, bucket=now - window - MINUTE
            ).pk
        )
    assert rollup.prune(now) == 3
    assert sorted(HostSample.objects.values_list("pk", flat=True)) == sorted(kept)
    assert rollup.KEPT[Resolution.HOUR] == datetime.timedelta(days=90)


def test_a_threshold_raises_one_alert_while_it_holds_and_clears_it_after(world, room):
    host = Host.objects.first()
    threshold = monitoring.create_threshold(
        actor=world.operator, name="hot", metric=ThresholdMetric.HOST_CPU, limit=70, minutes=2
    )
    start = T0.replace(second=0)
    minute_row(host, start, cpu_percent=90.0)
    assert alerts.evaluate(start) == (0, 0)  # one minute is not yet two

    minute_row(host, start + MINUTE, cpu_percent=95.0)
    assert alerts.evaluate(start + MINUTE) == (1, 0)
    minute_row(host, start + 2 * MINUTE, cpu_percent=99.0)
    assert alerts.evaluate(start + 2 * MINUTE) == (0, 0)  # still the same alert
    alert = MetricAlert.objects.get()
    assert (alert.threshold, alert.host, alert.value, alert.cleared_at) == (
        threshold,
        host,
        95.0,
        None,
    )

    # The people who keep the platform's thresholds are told, once.
    told = Notification.objects.filter(kind="metric_alert.raised")
    assert {n.recipient for n in told} == {world.operator, world.sysadmin}
    assert all(host.name in n.text for n in told)

    minute_row(host, start + 3 * MINUTE, cpu_percent=20.0)
    assert alerts.evaluate(start + 3 * MINUTE) == (0, 1)
    assert alerts.evaluate(start + 4 * MINUTE) == (0, 0)
    alert.refresh_from_db()
    assert alert.cleared_at == start + 3 * MINUTE
    assert (
        AuditEvent.objects.filter(
            action__in=["infrastructure.raise_metric_alert", "infrastructure.clear_metric_alert"],
            object_id=str(alert.pk),
        ).count()
        == 2
    )

    minute_row(host, start + 4 * MINUTE, cpu_percent=90.0)
    minute_row(host, start + 5 * MINUTE, cpu_percent=90.0)
    assert alerts.evaluate(start + 5 * MINUTE) == (1, 0)  # a new episode, a new record
    assert MetricAlert.objects.count() == 2


def test_an_instance_alert_belongs_to_its_department(world, room):
    instance = running_instance(world, room)
    room.driver(room.extranet).set_load(str(instance.uuid), 0.9)
    monitoring.create_threshold(
        actor=world.operator,
        name="busy vm",
        metric=ThresholdMetric.INSTANCE_CPU,
        limit=80,
        minutes=1,
    )
    collector.collect(T0)
    assert alerts.evaluate(T0) == (1, 0)
    alert = MetricAlert.objects.get()
    assert (alert.instance, alert.department, alert.host) == (instance, world.department_a, None)
    # The threshold's keepers and the people who look after the instance are told.
    told = {n.recipient for n in Notification.objects.filter(kind="metric_alert.raised")}
    assert {world.operator, world.sysadmin, world.staff_a, world.admin_a} <= told
    assert not told & {world.staff_b, world.admin_b, world.leader_a}


def test_department_administrators_set_no_host_thresholds(world):
    from zhengyun.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        monitoring.create_threshold(
            actor=world.admin_a, name="x", metric=ThresholdMetric.HOST_CPU, limit=1
        )


def test_the_minute_task_collects_rolls_up_and_checks(world, room):
    running_instance(world, room)
    result = collect_metrics_task.call_local()
    assert result.startswith("hosts=4 instances=1")
    assert HostSample.objects.filter(resolution=Resolution.HOUR).count() == 4
    assert InstanceSample.objects.filter(resolution=Resolution.DAY).count() == 1


def test_collecting_costs_the_same_few_queries_for_many_hosts(
    world, room, django_assert_max_num_queries
):
    services.register_provider(
        actor=world.operator,
        pool=room.extranet,
        name="sim-big",
        driver="simulator",
        uri="sim://memory?hosts=300&seed=9",
    )
    # Seven reads and writes, plus the extra INSERT batches SQLite needs for 304 hosts'
    # rows at its 999 parameters a statement (PostgreSQL takes each table in one).
    with django_assert_max_num_queries(16):
        run = collector.collect(T0)
    assert run.hosts == 304
