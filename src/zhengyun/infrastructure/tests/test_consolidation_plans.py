"""An operator proposes a plan that empties hosts of a pool; someone else approves it; it
runs only inside the pool's maintenance window, as a durable job that skips moves gone
stale and resumes after a crash without moving an instance twice; the emptied hosts go into
standby, and the active hosts and the power drawn fall (R-I4, R-G3)."""

import datetime
import inspect
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict, PermissionDenied
from zhengyun.infrastructure import consolidation, consolidation_runs, lifecycle, services
from zhengyun.infrastructure.choices import (
    InstanceStatus,
    MoveStatus,
    NetworkReach,
    PlacementPolicy,
    PlanStatus,
    Resolution,
    WindowDays,
)
from zhengyun.infrastructure.models import (
    ConsolidationPlan,
    Host,
    HostSample,
    Instance,
    InstanceMigration,
    MaintenanceWindow,
    Pool,
)
from zhengyun.infrastructure.monitoring import collector
from zhengyun.infrastructure.power import curve_power, validate_power_curve
from zhengyun.infrastructure.windows import next_window_start, open_window
from zhengyun.jobs.crash_points import Crash, crashing_at
from zhengyun.notifications.models import Notification
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
# National Day 2026 (a holiday) and the working day before it, in Beijing time.
HOLIDAY_NIGHT = datetime.datetime(2026, 10, 1, 2, 0, tzinfo=BEIJING)
WORKDAY_NIGHT = datetime.datetime(2026, 9, 30, 2, 0, tzinfo=BEIJING)


@pytest.fixture
def room(world):
    room = build_machine_room(world, hosts=3)
    # Spread three instances over the three hosts, then let the pool pack again: the state a
    # pool is in after a busy period, with each host a third used.
    Pool.objects.filter(pk=room.extranet.pk).update(policy=PlacementPolicy.SPREAD)
    room.instances = [built(world, room, f"web-{n}") for n in range(3)]
    Pool.objects.filter(pk=room.extranet.pk).update(policy=PlacementPolicy.PACK)
    assert len({i.host_id for i in room.instances}) == 3
    consolidation.create_maintenance_window(
        actor=world.operator,
        pool=room.extranet,
        days=WindowDays.NON_WORKDAYS,
        starts=datetime.time(0, 0),
        ends=datetime.time(6, 0),
    )
    return room


def built(world, room, name):
    instance = services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name=name,
        image=room.image,
        flavour=room.small,
        networks=[NetworkReach.GOV_EXTRANET],
    )
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE
    return Instance.objects.get(pk=instance.pk)


def approved(world, room):
    plan = consolidation.propose_consolidation(actor=world.operator, pool=room.extranet)
    return consolidation.approve_consolidation(plan, actor=world.sysadmin)


def hosts_of(room):
    return list(Host.objects.filter(pool=room.extranet).order_by("name"))


def pool_power(room, moment):
    collector.collect(now=moment)
    return sum(
        HostSample.objects.filter(
            host__pool=room.extranet,
            resolution=Resolution.MINUTE,
            bucket=collector.minute_of(moment),
        ).values_list("power_watts", flat=True)
    )


def test_the_window_opens_on_non_working_days_only(room):
    assert open_window(room.extranet, HOLIDAY_NIGHT) is not None
    assert open_window(room.extranet, WORKDAY_NIGHT) is None
    assert next_window_start(room.extranet, WORKDAY_NIGHT) == datetime.datetime(
        2026, 10, 1, tzinfo=BEIJING
    )
    # 2026-10-10 is a Saturday worked in lieu of the holiday: no window that night.
    worked_saturday = datetime.datetime(2026, 10, 10, 3, 0, tzinfo=BEIJING)
    assert open_window(room.extranet, worked_saturday) is None


def test_a_window_past_midnight_belongs_to_the_day_it_starts(world, room):
    consolidation.create_maintenance_window(
        actor=world.operator,
        pool=room.extranet,
        days=WindowDays.WORKDAYS,
        starts=datetime.time(23, 0),
        ends=datetime.time(1, 0),
    )
    # Wednesday 30 September is a working day, so its window runs into the holiday.
    just_after_midnight = datetime.datetime(2026, 10, 1, 0, 30, tzinfo=BEIJING)
    opening = open_window(room.extranet, just_after_midnight)
    assert opening.end == datetime.datetime(2026, 10, 1, 6, 0, tzinfo=BEIJING)  # the longer
    late = datetime.datetime(2026, 10, 1, 23, 30, tzinfo=BEIJING)  # a holiday's evening
    assert open_window(room.extranet, late) is None


def test_the_plan_empties_two_hosts_and_estimates_the_saving(world, room):
    plan = consolidation.propose_consolidation(actor=world.operator, pool=room.extranet)
    assert plan.status == PlanStatus.PROPOSED
    # The person who may approve it is told; the one who proposed it may not approve it.
    told = Notification.objects.get(kind="consolidation.proposed")
    assert told.recipient == world.sysadmin and room.extranet.name in told.text
    assert plan.moves.count() == 2 and plan.released_hosts.count() == 2
    assert (plan.hosts_before, plan.hosts_after) == (3, 1)
    assert plan.memory_moved_mb == 2 * 4096
    # Linear model, 100 W idle and 300 W peak: the same load on fewer hosts saves the idle
    # draw of the two emptied hosts.
    assert plan.watts_saved == pytest.approx(200.0)
    assert plan.kwh_saved_per_day == pytest.approx(4.8)


def test_a_measured_curve_gives_a_different_and_correct_saving(world, room):
    # A concave curve: most of the climb at low load, as real servers draw.
    curve = [100, 160, 190, 210, 225, 240, 255, 265, 280, 290, 300]
    Host.objects.filter(pool=room.extranet).update(power_curve=curve)
    plan = consolidation.propose_consolidation(actor=world.operator, pool=room.extranet)
    # Each host has 2 of 8 physical CPUs claimed (25 %): 190 + (210 - 190) / 2 = 200 W.
    assert plan.watts_before == pytest.approx(3 * 200.0)
    # Afterwards one host carries 6 of 8 (75 %): 265 + (280 - 265) / 2 = 272.5 W.
    assert plan.watts_after == pytest.approx(272.5)
    assert plan.watts_saved == pytest.approx(327.5)  # not the linear model's 200 W


def test_approval_is_required_and_not_by_the_proposer(world, room):
    plan = consolidation.propose_consolidation(actor=world.sysadmin, pool=room.extranet)
    with pytest.raises(PermissionDenied):
        consolidation.approve_consolidation(plan, actor=world.sysadmin)  # their own
    with pytest.raises(PermissionDenied):
        consolidation.approve_consolidation(plan, actor=world.operator)  # no approval right
    assert consolidation_runs.tick(HOLIDAY_NIGHT) == {}  # a proposal never runs
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED
    assert AuditEvent.objects.filter(
        action="infrastructure.consolidationplan.approve", result="denied"
    ).exists()
    # Someone else proposes, so the system administrator may approve.
    consolidation.cancel_consolidation(plan, actor=world.operator)
    assert approved(world, room).status == PlanStatus.APPROVED


def test_a_rejection_says_why(world, room):
    plan = consolidation.propose_consolidation(actor=world.operator, pool=room.extranet)
    with translation.override("en"), pytest.raises(ValidationError, match="why"):
        consolidation.reject_consolidation(plan, actor=world.sysadmin, reason=" ")
    plan = consolidation.reject_consolidation(plan, actor=world.sysadmin, reason="国庆保障期间")
    assert (plan.status, plan.reason) == (PlanStatus.REJECTED, "国庆保障期间")
    with pytest.raises(Conflict):
        consolidation.approve_consolidation(plan, actor=world.sysadmin)


def test_an_approved_plan_does_not_run_outside_the_window(world, room):
    plan = approved(world, room)
    before = [(i.pk, i.host_id) for i in room.instances]
    consolidation_runs.tick(WORKDAY_NIGHT)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPROVED
    assert [(i.pk, i.host_id) for i in Instance.objects.order_by("pk")] == sorted(before)
    assert not InstanceMigration.objects.exists()


def test_inside_the_window_it_runs_and_active_hosts_and_power_fall(world, room):
    plan = approved(world, room)
    driver = room.driver(room.extranet)
    watts_before = pool_power(room, HOLIDAY_NIGHT - datetime.timedelta(minutes=5))

    assert consolidation_runs.tick(HOLIDAY_NIGHT) == {plan.pk: PlanStatus.DONE}

    plan.refresh_from_db()
    assert set(plan.moves.values_list("status", flat=True)) == {MoveStatus.DONE}
    hosts = {i.host_id for i in Instance.objects.all()}
    assert len(hosts) == 1
    for instance in Instance.objects.select_related("host"):
        assert driver.guest(str(instance.uuid)).host == instance.host.name
    standby = [h for h in hosts_of(room) if h.standby]
    assert {h.pk for h in standby} == set(plan.released_hosts.values_list("pk", flat=True))
    assert sum(not h.standby for h in hosts_of(room)) == 1
    watts_after = pool_power(room, HOLIDAY_NIGHT + datetime.timedelta(minutes=5))
    assert watts_after < watts_before - 150  # two idle hosts of 100 W powered down
    assert AuditEvent.objects.filter(action="infrastructure.finish_consolidation").exists()


def test_placement_takes_a_standby_host_back_when_needed(world, room):
    approved(world, room)
    consolidation_runs.tick(HOLIDAY_NIGHT)
    # The one host in use has 4 of its 16 GB free: an 8 GB order needs another.
    large = services.create_flavour(
        actor=world.operator, name="m2.large", vcpus=2, memory_mb=8192, disk_gb=40
    )
    big = services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name="big",
        image=room.image,
        flavour=large,
        networks=[NetworkReach.GOV_EXTRANET],
    )
    big.refresh_from_db()
    assert big.host.standby is False
    assert sum(not h.standby for h in hosts_of(room)) == 2


def test_a_stale_move_is_skipped_and_never_overfills_a_host(world, room):
    plan = approved(world, room)
    first = plan.moves.order_by("position").first()
    # Other orders took the target's memory after the plan was made.
    Host.objects.filter(pk=first.target_id).update(used_memory_mb=16384 - 1024)

    with translation.override("en"):
        consolidation_runs.tick(HOLIDAY_NIGHT)

    first.refresh_from_db()
    assert first.status == MoveStatus.SKIPPED
    assert "no longer has room" in first.detail
    target = Host.objects.get(pk=first.target_id)
    assert target.used_memory_mb == 16384 - 1024
    # Its source kept its instance, so it stays on.
    source = Host.objects.get(pk=first.source_id)
    assert not source.standby and source.instances.count() == 1
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DONE


def test_it_stops_at_the_window_end_and_resumes_in_the_next(world, room):
    plan = approved(world, room)
    ends = HOLIDAY_NIGHT.replace(hour=6)
    clock = iter([HOLIDAY_NIGHT, ends, ends])
    assert consolidation_runs.run_plan(plan.pk, HOLIDAY_NIGHT, clock=lambda: next(clock)) == (
        PlanStatus.APPROVED
    )
    assert list(plan.moves.values_list("status", flat=True)) == [
        MoveStatus.DONE,
        MoveStatus.PENDING,
    ]
    consolidation_runs.tick(HOLIDAY_NIGHT + datetime.timedelta(hours=12))  # window closed
    assert plan.moves.filter(status=MoveStatus.PENDING).count() == 1
    consolidation_runs.tick(HOLIDAY_NIGHT + datetime.timedelta(days=1))  # 2 October
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DONE


def test_an_unfinished_plan_expires(world, room):
    plan = approved(world, room)
    consolidation_runs.tick(plan.expires_at + datetime.timedelta(minutes=1))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.EXPIRED
    assert set(plan.moves.values_list("status", flat=True)) == {MoveStatus.SKIPPED}


def test_a_worker_killed_mid_plan_resumes_without_moving_twice(world, room):
    plan = approved(world, room)
    driver = room.driver(room.extranet)
    first, second = plan.moves.order_by("position")
    consolidation_runs._open(plan.pk, HOLIDAY_NIGHT)
    # The worker claimed the first move's target and died; it claimed the second's and
    # live-migrated the guest, and died before recording it.
    consolidation_runs.claim_move(first.pk)
    consolidation_runs.claim_move(second.pk)
    driver.live_migrate(str(second.instance.uuid), second.target.name)

    consolidation_runs.tick(HOLIDAY_NIGHT + datetime.timedelta(minutes=1))

    plan.refresh_from_db()
    assert plan.status == PlanStatus.DONE
    assert set(plan.moves.values_list("status", flat=True)) == {MoveStatus.DONE}
    for move in (first, second):
        assert InstanceMigration.objects.filter(instance=move.instance).count() == 1
        move.instance.refresh_from_db()
        assert move.instance.host_id == move.target_id
    hosts = {h.pk: h.used_vcpus for h in hosts_of(room)}
    assert sorted(hosts.values()) == [0, 0, 6]


# Every crash point of the job, read from its source so a new one is tested too.
CRASH_POINTS = re.findall(r'crash_point\("([\w.]+)"\)', inspect.getsource(consolidation_runs))


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_worker_killed_at_any_step_finishes_the_plan_once(world, room, point):
    plan = approved(world, room)
    driver = room.driver(room.extranet)
    # The second time for a move's step: the first move done, the second half-way.
    passes = 2 if point in ("consolidation.claimed", "consolidation.migrated") else 1
    with crashing_at(point, passes=passes), pytest.raises(Crash):
        consolidation_runs.tick(HOLIDAY_NIGHT)

    consolidation_runs.tick(HOLIDAY_NIGHT + datetime.timedelta(minutes=1))

    plan.refresh_from_db()
    assert plan.status == PlanStatus.DONE
    assert set(plan.moves.values_list("status", flat=True)) == {MoveStatus.DONE}
    for move in plan.moves.select_related("instance__host"):
        assert InstanceMigration.objects.filter(instance=move.instance).count() == 1
        assert move.instance.host_id == move.target_id
        assert driver.guest(str(move.instance.uuid)).host == move.instance.host.name
    assert sorted(h.used_vcpus for h in hosts_of(room)) == [0, 0, 6]
    assert sum(h.standby for h in hosts_of(room)) == 2


def test_one_open_plan_per_pool_and_nothing_to_do_is_said(world, room):
    consolidation.propose_consolidation(actor=world.operator, pool=room.extranet)
    with pytest.raises(Conflict):
        consolidation.propose_consolidation(actor=world.operator, pool=room.extranet)
    with translation.override("en"), pytest.raises(Conflict, match="nothing to consolidate"):
        consolidation.propose_consolidation(actor=world.operator, pool=room.intranet)
    with pytest.raises(PermissionDenied):
        consolidation.propose_consolidation(actor=world.staff_a, pool=room.extranet)


def test_the_api_proposes_approves_and_sets_power_curves(world, room, api_as):
    operator, sysadmin = api_as(world.operator), api_as(world.sysadmin)
    url = "/api/v1/infrastructure/consolidation-plans/"
    proposed = operator.post(url, {"pool": room.extranet.pk}, format="json")
    assert proposed.status_code == 201, proposed.content
    plan = proposed.json()
    assert (plan["hosts_before"], plan["hosts_after"], plan["watts_saved"]) == (3, 1, 200.0)
    assert len(plan["moves"]) == 2
    assert operator.post(f"{url}{plan['id']}/approve/").status_code == 403
    assert sysadmin.post(f"{url}{plan['id']}/reject/", {}, format="json").status_code == 400
    approved = sysadmin.post(f"{url}{plan['id']}/approve/")
    assert approved.json()["status"] == PlanStatus.APPROVED
    assert api_as(world.staff_a).get(url).json()["results"] == []

    host = hosts_of(room)[0]
    curve_url = f"/api/v1/infrastructure/hosts/{host.pk}/power-curve/"
    falling = {"power_curve": [100, 90, 120, 130, 140, 150, 160, 170, 180, 190, 200]}
    assert operator.put(curve_url, falling, format="json").status_code == 400
    assert operator.put(curve_url, {"power_curve": [100, 200]}, format="json").status_code == 400
    rising = {"power_curve": [100, 120, 130, 140, 150, 160, 170, 180, 190, 200, 210]}
    assert (
        operator.put(curve_url, rising, format="json").json()["power_curve"]
        == rising["power_curve"]
    )
    host.refresh_from_db()
    assert host.power_curve == rising["power_curve"]


def test_the_console_proposes_from_the_pools_page_and_shows_the_figures(world, room, client):
    client.force_login(world.operator)
    pools = client.get("/infrastructure/pools/").content.decode()
    assert f"/infrastructure/pools/{room.extranet.pk}/consolidate/" in pools
    page = client.post(
        f"/infrastructure/pools/{room.extranet.pk}/consolidate/", follow=True
    ).content.decode()
    plan = ConsolidationPlan.objects.get()
    assert f'data-plan="{plan.pk}" data-status="proposed"' in page
    assert "/approve/" not in page  # neither theirs to approve nor their role's

    client.force_login(world.sysadmin)
    refused = client.post(
        f"/infrastructure/consolidation/{plan.pk}/reject/", {"reason": ""}, follow=True
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PROPOSED and refused.status_code == 200
    page = client.post(f"/infrastructure/consolidation/{plan.pk}/approve/", follow=True)
    assert f'data-plan="{plan.pk}" data-status="approved"' in page.content.decode()

    consolidation_runs.tick(HOLIDAY_NIGHT)
    page = client.get("/infrastructure/consolidation/").content.decode()
    assert 'data-status="done"' in page
    assert '<td data-testid="active-now">1</td>' in page
    assert '<td data-testid="watts-now">250.0</td>' in page  # 100 W + 200 W × 6/8
    pools = client.get("/infrastructure/pools/").content.decode()
    assert pools.count("data-standby") == 2


def test_the_console_adds_and_removes_a_window(world, room, client):
    client.force_login(world.operator)
    bad = client.post(
        "/infrastructure/maintenance-windows/new/",
        {"pool": room.intranet.pk, "days": "any", "starts": "01:00", "ends": "01:00"},
    )
    assert bad.status_code == 200
    assert not MaintenanceWindow.objects.filter(pool=room.intranet).exists()
    client.post(
        "/infrastructure/maintenance-windows/new/",
        {"pool": room.intranet.pk, "days": "workdays", "starts": "01:00", "ends": "05:00"},
    )
    window = MaintenanceWindow.objects.get(pool=room.intranet)
    assert window.days == WindowDays.WORKDAYS
    client.post(f"/infrastructure/maintenance-windows/{window.pk}/delete/")
    assert not MaintenanceWindow.objects.filter(pool=room.intranet).exists()


def test_a_power_curve_is_validated_and_interpolated():
    curve = [100, 160, 190, 210, 225, 240, 255, 265, 280, 290, 300]
    validate_power_curve(curve)
    validate_power_curve([])
    assert curve_power(curve, 0) == 100 and curve_power(curve, 1) == 300
    assert curve_power(curve, 0.05) == pytest.approx(130)
    assert curve_power(curve, 1.5) == 300  # a load past 100 % draws the peak
    for bad in ([100] * 10, [100] * 10 + [90], [0] * 11, [100] * 10 + ["x"], [100] * 10 + [True]):
        with pytest.raises(ValidationError):
            validate_power_curve(bad)


def test_monitoring_reads_power_off_the_curve_and_standby_hosts_at_zero(world, room):
    curve = [100, 160, 190, 210, 225, 240, 255, 265, 280, 290, 300]
    Host.objects.filter(pool=room.extranet).update(power_curve=curve)
    driver = room.driver(room.extranet)
    for instance in room.instances:
        driver.set_load(str(instance.uuid), 0.5)  # 1 of its host's 8 CPUs busy: 12.5 %
    standby = hosts_of(room)[0]
    Host.objects.filter(pk=standby.pk).update(standby=True)
    collector.collect(now=HOLIDAY_NIGHT)
    samples = HostSample.objects.filter(host__pool=room.extranet, resolution=Resolution.MINUTE)
    assert samples.count() == 3
    for sample in samples:
        if sample.host_id == standby.pk:
            assert sample.power_watts == 0
        else:
            # 160 + (190 - 160) × 0.25, where the linear model says 100 + 200 × 0.125.
            assert sample.power_watts == pytest.approx(167.5)


def test_a_host_running_a_server_group_member_is_not_emptied(world, room):
    from zhengyun.infrastructure import server_groups

    apart = server_groups.create_server_group(
        actor=world.staff_a, department=world.department_a, name="ha", policy="anti-affinity"
    )
    Instance.objects.filter(pk=room.instances[0].pk).update(server_group=apart)
    plan = consolidation.propose_consolidation(actor=world.operator, pool=room.extranet)
    assert room.instances[0].host not in plan.released_hosts.all()
    assert not plan.moves.filter(instance=room.instances[0]).exists()
    assert (plan.hosts_before, plan.hosts_after) == (3, 1)


def test_an_instances_volumes_move_with_it_in_a_plan(world, room):
    from zhengyun.infrastructure import volumes
    from zhengyun.infrastructure.models import Volume
    from zhengyun.infrastructure.volume_lifecycle import advance_volume

    made = [
        volumes.create_volume(
            actor=world.staff_a,
            department=world.department_a,
            name=f"data-{n}",
            size_gb=20,
            instance=instance,
        )
        for n, instance in enumerate(room.instances)
    ]
    for volume in made:
        assert advance_volume(volume.pk) == "in_use"
    plan = approved(world, room)
    assert (plan.hosts_before, plan.hosts_after) == (3, 1)

    assert consolidation_runs.tick(HOLIDAY_NIGHT) == {plan.pk: PlanStatus.DONE}

    driver = room.driver(room.extranet)
    for volume in Volume.objects.select_related("host", "instance__host"):
        assert volume.host == volume.instance.host
        assert driver.volume(str(volume.uuid)).host == volume.host.name
    assert set(InstanceMigration.objects.values_list("volumes_gb", flat=True)) == {20}
    for host in hosts_of(room):
        here = Instance.objects.filter(host=host)
        expected = sum(i.disk_gb for i in here) + 20 * here.count()
        assert host.used_disk_gb == expected
