"""Scaling groups (R-I3, R-G2): members are ordinary instances ordered within quota and
put behind the group's load-balancer pool through the simulated balancer; target tracking
on the members' CPU with a cooldown and a gentler scale-in; scheduled actions on working
days of the Chinese calendar; refused orders logged and not retried before the cooldown;
a worker killed at any crash point never orders two instances for one slot."""

import datetime
import inspect
import re
import zoneinfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure import (
    balancer_lifecycle,
    balancers,
    connections,
    key_pairs,
    lifecycle,
    scaling,
    scaling_lifecycle,
)
from zhengyun.infrastructure import services as infrastructure
from zhengyun.infrastructure.choices import (
    ActivityCause,
    ActivityResult,
    BalancerStatus,
    InstanceStatus,
    Resolution,
    ScheduleDays,
)
from zhengyun.infrastructure.models import (
    Instance,
    InstanceSample,
    LoadBalancer,
    Member,
    Quota,
    ScalingActivity,
    ScalingGroup,
    ScalingMember,
)
from zhengyun.jobs.crash_points import Crash, crashing_at
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 10, 9, 10, 0, tzinfo=BEIJING)  # a working day
POINTS = re.findall(r'crash_point\("([\w.]+)"\)', inspect.getsource(scaling_lifecycle))
# Scaling out passes every point but the one between leaving the pool and deletion;
# scaling in every point but the one inside an order.
SCALING_OUT = [point for point in POINTS if point != "scaling.left_pool"]
SCALING_IN = [point for point in POINTS if point != "scaling.ordering"]


@pytest.fixture(autouse=True)
def simulated_balancer(settings):
    settings.ZHENGYUN_BALANCER_DRIVER = "simulator"
    settings.ZHENGYUN_BALANCER_URI = "sim://memory"
    connections._balancer_for.cache_clear()
    yield connections.balancer_driver()
    connections._balancer_for.cache_clear()


@pytest.fixture
def room(world):
    return build_machine_room(world)


@pytest.fixture
def subnet(world):
    network = infrastructure.create_network(
        actor=world.staff_a, department=world.department_a, name="web", reach="gov_extranet"
    )
    return infrastructure.create_subnet(
        actor=world.staff_a, network=network, name="web-1", cidr="10.20.1.0/24"
    )


@pytest.fixture
def pool(world, subnet):
    balancer = balancers.create_load_balancer(
        actor=world.staff_a, department=world.department_a, name="front", subnet=subnet
    )
    listener = balancers.add_listener(balancer, actor=world.staff_a, protocol="http", port=80)
    return listener.pool


def new_group(world, room, subnet, pool, **sizes):
    settings = {"min_size": 1, "max_size": 4, "target_cpu": 60, "cooldown_s": 300} | sizes
    return scaling.create_scaling_group(
        actor=world.staff_a,
        department=world.department_a,
        name="web",
        flavour=room.small,
        image=room.image,
        subnet=subnet,
        pool=pool,
        **settings,
    )


def settle(group, now=NOW):
    """The job, the instances' builds and deletions, the job again to put the new members
    in the pool, and the load balancer applying its configuration."""
    scaling_lifecycle.scale(group.pk, now)
    for instance_id, status in lifecycle.unfinished():
        (lifecycle.build if status == InstanceStatus.BUILDING else lifecycle.destroy)(instance_id)
    result = scaling_lifecycle.scale(group.pk, now)
    for balancer_id in balancer_lifecycle.unfinished():
        balancer_lifecycle.advance(balancer_id)
    return result


def members(group):
    return list(
        ScalingMember.objects.filter(group=group, leaving=False)
        .order_by("slot")
        .values_list("instance__name", flat=True)
    )


def applied_addresses(driver, pool):
    spec = driver.applied(str(LoadBalancer.objects.get(pk=pool.load_balancer_id).uuid))
    return sorted((m.address, m.port) for listener in spec.listeners for m in listener.members)


def load(group, cpu, now=NOW):
    """Minute buckets of the last five minutes at ``cpu`` % for every active member."""
    for member in ScalingMember.objects.filter(group=group, instance__status="active"):
        for minutes in range(5):
            InstanceSample.objects.update_or_create(
                instance=member.instance,
                resolution=Resolution.MINUTE,
                bucket=(now - datetime.timedelta(minutes=minutes)).replace(second=0),
                defaults={"cpu_percent": cpu},
            )


def refresh(group):
    return ScalingGroup.objects.get(pk=group.pk)


def test_the_minimum_is_ordered_at_creation_and_joins_the_pool(
    world, room, subnet, pool, simulated_balancer
):
    group = new_group(world, room, subnet, pool, min_size=2)
    assert AuditEvent.objects.filter(action="infrastructure.create_scaling_group").exists()
    assert settle(group) == 2
    assert members(group) == ["web-1", "web-2"]
    instances = Instance.objects.filter(scaling_member__group=group)
    assert {i.status for i in instances} == {InstanceStatus.ACTIVE}
    assert all(i.ports.get().subnet_id == subnet.pk for i in instances)
    pool_members = Member.objects.filter(pool=pool).order_by("address")
    assert [(m.instance.name, m.port) for m in pool_members] == [("web-1", 80), ("web-2", 80)]
    assert LoadBalancer.objects.get(pk=pool.load_balancer_id).status == BalancerStatus.ACTIVE
    assert applied_addresses(simulated_balancer, pool) == [(m.address, 80) for m in pool_members]
    # Run again: nothing more is ordered.
    assert settle(group) == 2
    assert Instance.objects.filter(department=world.department_a).count() == 2


def test_high_cpu_scales_out_within_the_maximum_and_waits_out_the_cooldown(
    world, room, subnet, pool
):
    group = new_group(world, room, subnet, pool, min_size=2)
    settle(group)
    load(group, 90)
    settle(group)  # ceil(2 × 90 / 60) = 3
    activity = ScalingActivity.objects.get(group=group, cause=ActivityCause.TARGET)
    assert (activity.desired_before, activity.desired_after, activity.mean_cpu) == (2, 3, 90.0)
    audited = AuditEvent.objects.get(action="infrastructure.track_target")
    assert audited.changes == {"desired": [2, 3]}
    assert members(group) == ["web-1", "web-2", "web-3"]
    later = NOW + datetime.timedelta(minutes=2)
    load(group, 95, later)
    settle(group, later)
    assert refresh(group).desired == 3  # within the cooldown
    after = NOW + datetime.timedelta(seconds=301)
    load(group, 95, after)
    settle(group, after)  # ceil(3 × 95 / 60) = 5, held to the maximum of 4
    assert refresh(group).desired == 4
    assert len(members(group)) == 4
    assert Member.objects.filter(pool=pool).count() == 4


def test_low_cpu_scales_in_gently_down_to_the_minimum(
    world, room, subnet, pool, simulated_balancer
):
    group = new_group(world, room, subnet, pool, min_size=1, desired=3)
    settle(group)
    load(group, 5)
    settle(group)  # the load asks for 1, but must keep asking for a cooldown
    assert refresh(group).desired == 3
    now = NOW
    seen = []
    for _step in range(6):
        now += datetime.timedelta(seconds=301)
        load(group, 5, now)
        settle(group, now)
        seen.append(refresh(group).desired)
    # One instance a step, each after the load stayed low for a cooldown, never below 1.
    assert seen[-1] == 1 and all(a - b in (0, 1) for a, b in zip([3, *seen], seen, strict=False))
    assert members(group) == ["web-1"]  # the newest left first
    left = Instance.objects.filter(name__in=["web-2", "web-3"])
    assert {i.status for i in left} == {InstanceStatus.DELETED}
    assert list(Member.objects.filter(pool=pool).values_list("instance__name", flat=True)) == [
        "web-1"
    ]
    assert len(applied_addresses(simulated_balancer, pool)) == 1
    assert not ScalingMember.objects.filter(instance__in=left).exists()


def test_a_scheduled_action_runs_on_working_days_only(world, room, subnet, pool):
    group = new_group(world, room, subnet, pool, min_size=1)
    scaling.add_scheduled_action(
        actor=world.staff_a,
        group=group,
        days=ScheduleDays.WORKDAYS,
        time_of_day=datetime.time(8, 30),
        min_size=3,
    )
    holiday = datetime.datetime(2026, 10, 1, 9, 0, tzinfo=BEIJING)
    scaling_lifecycle.scale(group.pk, holiday)
    assert (refresh(group).min_size, refresh(group).desired) == (1, 1)
    before_time = datetime.datetime(2026, 10, 9, 8, 0, tzinfo=BEIJING)
    scaling_lifecycle.scale(group.pk, before_time)
    assert refresh(group).min_size == 1
    workday = datetime.datetime(2026, 10, 9, 8, 31, tzinfo=BEIJING)
    scaling_lifecycle.scale(group.pk, workday)
    scaling_lifecycle.scale(group.pk, workday + datetime.timedelta(minutes=1))
    group = refresh(group)
    assert (group.min_size, group.desired, group.max_size) == (3, 3, 4)
    assert ScalingActivity.objects.filter(group=group, cause=ActivityCause.SCHEDULE).count() == 1
    assert AuditEvent.objects.filter(action="infrastructure.run_scheduled_action").count() == 1
    assert len(members(group)) == 3


def test_an_evening_action_lowers_the_minimum_every_day(world, room, subnet, pool):
    group = new_group(world, room, subnet, pool, min_size=4, max_size=6)
    scaling.add_scheduled_action(
        actor=world.staff_a,
        group=group,
        days=ScheduleDays.EVERY_DAY,
        time_of_day=datetime.time(18, 0),
        min_size=1,
        desired=1,
    )
    evening = datetime.datetime(2026, 10, 1, 18, 0, tzinfo=BEIJING)
    settle(group, evening)
    group = refresh(group)
    assert (group.min_size, group.desired) == (1, 1)
    assert members(group) == ["web-1"]


def test_a_refused_order_is_logged_and_not_retried_before_the_cooldown(world, room, subnet, pool):
    infrastructure.set_quota(
        Quota.objects.get(department=world.department_a),
        actor=world.operator,
        changes={"max_instances": 1},
    )
    group = new_group(world, room, subnet, pool, min_size=2, cooldown_s=120)
    for seconds in (0, 30, 60, 90):
        scaling_lifecycle.scale(group.pk, NOW + datetime.timedelta(seconds=seconds))
    failed = ScalingActivity.objects.filter(group=group, result=ActivityResult.FAILED)
    assert failed.count() == 1
    assert "web-2" in failed.get().detail
    assert len(members(group)) == 1
    scaling_lifecycle.scale(group.pk, NOW + datetime.timedelta(seconds=121))
    assert failed.count() == 2
    assert Instance.objects.filter(department=world.department_a).count() == 1


def test_another_department_cannot_use_my_pool(world, room, pool):
    network = infrastructure.create_network(
        actor=world.staff_b, department=world.department_b, name="b", reach="gov_extranet"
    )
    subnet_b = infrastructure.create_subnet(
        actor=world.staff_b, network=network, name="b-1", cidr="10.30.1.0/24"
    )
    with pytest.raises(ValidationError) as refused:
        scaling.create_scaling_group(
            actor=world.staff_b,
            department=world.department_b,
            name="thief",
            flavour=room.small,
            image=room.image,
            subnet=subnet_b,
            pool=pool,
        )
    assert "pool" in refused.value.message_dict
    assert not ScalingGroup.objects.exists()


def test_sizes_are_checked_and_bad_input_changes_nothing(world, room, subnet, pool):
    with pytest.raises(ValidationError):
        new_group(world, room, subnet, pool, min_size=3, max_size=2)
    with pytest.raises(ValidationError):
        new_group(world, room, subnet, pool, target_cpu=95)
    with pytest.raises(ValidationError):
        new_group(world, room, subnet, pool, cooldown_s=30)
    assert not ScalingGroup.objects.exists()
    group = new_group(world, room, subnet, pool)
    with pytest.raises(ValidationError):
        scaling.set_desired(group, actor=world.staff_a, desired=5)
    assert refresh(group).desired == 1
    scaling.set_desired(group, actor=world.staff_a, desired=3)
    assert refresh(group).desired == 3
    assert ScalingActivity.objects.filter(group=group, cause=ActivityCause.MANUAL).count() == 1
    assert AuditEvent.objects.filter(action="infrastructure.set_desired_capacity").exists()


def test_deleting_a_group_scales_to_zero_then_removes_it(world, room, subnet, pool):
    group = new_group(world, room, subnet, pool, min_size=2)
    settle(group)
    with pytest.raises(Conflict):
        balancers.delete_load_balancer(pool.load_balancer, actor=world.staff_a)
    scaling.delete_scaling_group(group, actor=world.staff_a)
    assert settle(group) is None
    balancers.delete_load_balancer(pool.load_balancer, actor=world.staff_a)
    with pytest.raises(ValidationError) as refused:
        new_group(world, room, subnet, pool)
    assert "pool" in refused.value.message_dict
    assert not ScalingGroup.objects.exists()
    assert not Member.objects.filter(pool=pool).exists()
    assert set(Instance.objects.values_list("status", flat=True)) == {InstanceStatus.DELETED}


def test_the_job_has_crash_points_between_its_steps():
    assert len(POINTS) == len(set(POINTS)) >= 5


@pytest.mark.parametrize("point", SCALING_OUT)
def test_a_worker_killed_at_a_crash_point_never_orders_two_instances_for_a_slot(
    world, room, subnet, pool, point
):
    group = new_group(world, room, subnet, pool, min_size=2)
    settle(group)
    load(group, 90)
    with crashing_at(point), pytest.raises(Crash):
        scaling_lifecycle.scale(group.pk, NOW)
    settle(group)  # the restarted worker
    settle(group)
    expected = refresh(group).desired
    assert expected == 3
    living = Instance.objects.exclude(status__in=scaling_lifecycle.GONE)
    assert living.count() == expected
    assert ScalingMember.objects.filter(group=group, leaving=False).count() == expected
    assert not living.filter(scaling_member__isnull=True).exists()
    assert Member.objects.filter(pool=pool).count() == expected


@pytest.mark.parametrize("point", SCALING_IN)
def test_a_worker_killed_while_scaling_in_leaves_no_member_half_removed(
    world, room, subnet, pool, point
):
    group = new_group(world, room, subnet, pool, min_size=1, desired=2)
    settle(group)
    scaling.set_desired(group, actor=world.staff_a, desired=1)
    with crashing_at(point), pytest.raises(Crash):
        scaling_lifecycle.scale(group.pk, NOW)
    settle(group)
    settle(group)
    assert members(group) == ["web-1"]
    assert list(Member.objects.filter(pool=pool).values_list("instance__name", flat=True)) == [
        "web-1"
    ]
    assert Instance.objects.get(name="web-2").status == InstanceStatus.DELETED


API = "/api/v1/infrastructure"


def test_the_api_creates_a_group_sets_desired_and_schedules(world, room, subnet, pool, api_as):
    client = api_as(world.staff_a)
    body = {
        "name": "web",
        "flavour": room.small.pk,
        "image": room.image.pk,
        "subnet": subnet.pk,
        "pool": pool.pk,
        "min_size": 1,
        "max_size": 3,
    }
    created = client.post(f"{API}/scaling-groups/", body, format="json")
    assert created.status_code == 201, created.content
    group_id = created.json()["id"]
    assert created.json()["desired"] == 1
    too_many = client.post(
        f"{API}/scaling-groups/{group_id}/set-desired/", {"desired": 4}, format="json"
    )
    assert too_many.status_code == 400
    assert too_many["Content-Type"].startswith("application/problem+json")
    assert ScalingGroup.objects.get(pk=group_id).desired == 1
    done = client.post(
        f"{API}/scaling-groups/{group_id}/set-desired/", {"desired": 3}, format="json"
    )
    assert done.status_code == 200 and done.json()["desired"] == 3
    changed = client.patch(f"{API}/scaling-groups/{group_id}/", {"target_cpu": 40}, format="json")
    assert changed.status_code == 200 and changed.json()["target_cpu"] == 40
    action = client.post(
        f"{API}/scheduled-actions/",
        {"group": group_id, "days": "workdays", "time_of_day": "08:30", "min_size": 2},
        format="json",
    )
    assert action.status_code == 201, action.content
    empty = client.post(
        f"{API}/scheduled-actions/",
        {"group": group_id, "days": "workdays", "time_of_day": "18:00"},
        format="json",
    )
    assert empty.status_code == 400
    log = client.get(f"{API}/scaling-activities/", {"group": group_id}).json()["results"]
    assert [(row["cause"], row["desired_after"]) for row in log] == [("manual", 3)]
    assert client.get(f"{API}/scaling-activities/", {"group": group_id + 1}).json()["count"] == 0


def test_the_api_refuses_another_departments_pool(world, room, pool, api_as):
    network = infrastructure.create_network(
        actor=world.staff_b, department=world.department_b, name="b", reach="gov_extranet"
    )
    subnet_b = infrastructure.create_subnet(
        actor=world.staff_b, network=network, name="b-1", cidr="10.30.1.0/24"
    )
    response = api_as(world.staff_b).post(
        f"{API}/scaling-groups/",
        {
            "name": "thief",
            "flavour": room.small.pk,
            "image": room.image.pk,
            "subnet": subnet_b.pk,
            "pool": pool.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "pool" in response.content.decode()
    assert not ScalingGroup.objects.exists()


def test_a_department_runs_a_group_in_the_console(world, room, subnet, pool, client):
    client.force_login(world.staff_a)
    page = client.get("/infrastructure/scaling-groups/").content.decode()
    assert f'value="{pool.pk}"' in page  # the department's pool is offered
    order = {
        "name": "web",
        "pool": pool.pk,
        "subnet": subnet.pk,
        "flavour": room.small.pk,
        "image": room.image.pk,
        "min_size": 3,
        "max_size": 2,
        "target_cpu": 60,
        "cooldown_s": 300,
    }
    refused = client.post("/infrastructure/scaling-groups/new/", order)
    assert refused.status_code == 200 and not ScalingGroup.objects.exists()
    created = client.post("/infrastructure/scaling-groups/new/", {**order, "min_size": 1})
    assert created.status_code == 302
    group = ScalingGroup.objects.get()
    settle(group)
    client.post(f"/infrastructure/scaling-groups/{group.pk}/desired/", {"desired": 2})
    client.post(
        f"/infrastructure/scaling-groups/{group.pk}/actions/new/",
        {"days": "workdays", "time_of_day": "08:30", "min_size": 2},
    )
    assert (refresh(group).desired, group.scheduled_actions.count()) == (2, 1)
    refused = client.post(
        f"/infrastructure/scaling-groups/{group.pk}/desired/", {"desired": 9}, follow=True
    )
    assert refresh(group).desired == 2
    assert '<li class="error">' in refused.content.decode()
    shown = client.get("/infrastructure/scaling-groups/").content.decode()
    assert 'data-scaling-group="web"' in shown and 'data-member="web-1"' in shown
    assert "1 / 2 / 2" in shown
    client.force_login(world.staff_b)
    assert b"data-scaling-group" not in client.get("/infrastructure/scaling-groups/").content
    url = f"/infrastructure/scaling-groups/{group.pk}/desired/"
    assert client.post(url, {"desired": 1}).status_code == 404
    assert client.post(f"/infrastructure/scaling-groups/{group.pk}/delete/").status_code == 404
    client.force_login(world.staff_a)
    client.post(f"/infrastructure/scaling-groups/{group.pk}/delete/")
    assert refresh(group).deleting


def test_a_member_deleted_by_hand_is_replaced_and_forgotten(world, room, subnet, pool):
    group = new_group(world, room, subnet, pool, min_size=2)
    settle(group)
    first = Instance.objects.get(name="web-1")
    infrastructure.delete_instance(first, actor=world.staff_a)
    settle(group)
    settle(group)
    assert members(group) == ["web-2", "web-3"]
    assert not ScalingMember.objects.filter(instance=first).exists()
    names = Member.objects.filter(pool=pool).values_list("instance__name", flat=True)
    assert sorted(names) == ["web-2", "web-3"]


def test_only_active_members_count_towards_the_mean(world, room, subnet, pool):
    group = new_group(world, room, subnet, pool, min_size=2)
    settle(group)
    load(group, 30)
    # web-2 stops (say, being rebooted) while its last samples were hot.
    stopped = Instance.objects.get(name="web-2")
    for minutes in range(5):
        InstanceSample.objects.filter(
            instance=stopped, bucket=(NOW - datetime.timedelta(minutes=minutes)).replace(second=0)
        ).update(cpu_percent=100)
    Instance.objects.filter(pk=stopped.pk).update(status=InstanceStatus.STOPPED)
    assert scaling_lifecycle.mean_cpu(refresh(group), NOW) == (1, 30.0)
    settle(group)
    assert refresh(group).desired == 2  # ceil(1 × 30 / 60) = 1, held at the minimum
    assert len(members(group)) == 2  # a stopped member is not replaced


def test_a_scale_in_step_removes_at_most_a_tenth(world, room, subnet, pool):
    group = new_group(world, room, subnet, pool, min_size=1, desired=2, max_size=30)
    settle(group)
    infrastructure.set_quota(
        Quota.objects.get(department=world.department_a),
        actor=world.operator,
        changes={"max_instances": 2},
    )
    scaling.set_desired(group, actor=world.staff_a, desired=20)  # orders refused by quota
    first = timezone.now() + datetime.timedelta(seconds=301)  # a cooldown after setting it
    load(group, 5, first)
    scaling_lifecycle.scale(group.pk, first)  # the load starts asking for fewer
    second = first + datetime.timedelta(seconds=301)
    load(group, 5, second)
    scaling_lifecycle.scale(group.pk, second)
    assert refresh(group).desired == 18


def test_a_disabled_group_still_reaches_the_size_set_by_hand(world, room, subnet, pool):
    group = new_group(world, room, subnet, pool, min_size=1)
    settle(group)
    scaling.update_scaling_group(group, actor=world.staff_a, changes={"enabled": False})
    scaling.set_desired(ScalingGroup.objects.get(pk=group.pk), actor=world.staff_a, desired=3)
    for _ in range(2):  # the minute's job: members built, then put in the pool
        for instance_id, status in lifecycle.unfinished():
            (lifecycle.build if status == InstanceStatus.BUILDING else lifecycle.destroy)(
                instance_id
            )
        scaling_lifecycle.tick(NOW)
    for balancer_id in balancer_lifecycle.unfinished():
        balancer_lifecycle.advance(balancer_id)
    assert len(members(group)) == 3
    in_pool = Member.objects.filter(pool=pool).values_list("instance_id", flat=True)
    assert set(in_pool) == set(
        ScalingMember.objects.filter(group=group).values_list("instance_id", flat=True)
    )


def test_scaling_in_removes_a_stopped_member_before_a_serving_one(world, room, subnet, pool):
    group = new_group(world, room, subnet, pool, min_size=1, desired=3)
    settle(group)
    Instance.objects.filter(name="web-1").update(status=InstanceStatus.STOPPED)
    scaling.set_desired(refresh(group), actor=world.staff_a, desired=2)
    settle(group)
    assert members(group) == ["web-2", "web-3"]  # the stopped oldest left, not the newest


def test_every_member_is_given_the_groups_ssh_key_and_no_other_departments(
    world, room, subnet, pool
):
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEDZkQUfgsm2wUOZshU2Lb4P6mGrI0OtXy91XawcQhyM ops"
    mine, theirs = (
        key_pairs.create_key_pair(actor=actor, department=department, name="ops", public_key=key)
        for actor, department in (
            (world.staff_a, world.department_a),
            (world.staff_b, world.department_b),
        )
    )
    with pytest.raises(ValidationError) as refused:
        new_group(world, room, subnet, pool, key_pair=theirs)
    assert "key_pair" in refused.value.message_dict
    assert not ScalingGroup.objects.exists()

    group = new_group(world, room, subnet, pool, min_size=2, key_pair=mine)
    settle(group)
    given = {i.key_pair_id for i in Instance.objects.filter(scaling_member__group=group)}
    assert given == {mine.pk}
    with pytest.raises(Conflict):  # the group would go on without it, unnoticed
        key_pairs.delete_key_pair(mine, actor=world.staff_a)
