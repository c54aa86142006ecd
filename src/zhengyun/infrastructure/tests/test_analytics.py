"""Utilisation, energy per department, stranded capacity, the capacity forecast and idle
instances proposed for reclamation with the department's consent (R-G3, R-I4)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict, PermissionDenied
from zhengyun.core.workdays import add_workdays
from zhengyun.infrastructure import lifecycle, reclamation
from zhengyun.infrastructure.choices import InstanceStatus, ReclamationStatus, Resolution
from zhengyun.infrastructure.models import (
    DepartmentDay,
    Flavour,
    Host,
    HostSample,
    Instance,
    InstanceSample,
    PoolDay,
    ReclamationProposal,
)
from zhengyun.infrastructure.monitoring import capacity, usage
from zhengyun.infrastructure.monitoring.rollup import day_of, hour_of
from zhengyun.infrastructure.tests.test_instances import order
from zhengyun.notifications.models import Notification
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def room(world):
    return build_machine_room(world)


def running(world, room, actor, name):
    made = order(world, room, actor=actor, name=name)
    lifecycle.build(made.pk)
    made.refresh_from_db()
    assert made.status == InstanceStatus.ACTIVE
    return made


def host_hour(host, bucket, watts):
    HostSample.objects.create(
        host=host, resolution=Resolution.HOUR, bucket=bucket, power_watts=watts, samples=60
    )


def instance_hours(instance, start, hours, cpu):
    InstanceSample.objects.bulk_create(
        InstanceSample(
            instance=instance,
            resolution=Resolution.HOUR,
            bucket=start + n * HOUR,
            cpu_percent=cpu(n) if callable(cpu) else cpu,
            samples=60,
        )
        for n in range(hours)
    )


def test_a_hosts_draw_is_shared_by_vcpus_held_and_vcpus_kept_busy(world, room):
    mine = running(world, room, world.staff_a, "a-1")
    theirs = running(world, room, world.staff_b, "b-1")
    Instance.objects.filter(pk=theirs.pk).update(host=mine.host)  # one host, two departments
    now = timezone.now()
    hour = hour_of(now) - HOUR if hour_of(now) > day_of(now) else hour_of(now)
    host_hour(mine.host, hour, 200.0)  # idle 100 W, 32 usable vCPUs
    instance_hours(mine, hour, 1, 50.0)  # 2 vCPUs, one of them busy
    instance_hours(theirs, hour, 1, 0.0)

    usage.account(now)
    a = DepartmentDay.objects.get(department=world.department_a, day=hour.date())
    b = DepartmentDay.objects.get(department=world.department_b, day=hour.date())
    # Idle 100 W shared by held vCPUs: 2/32 each; the 100 W above idle all A's.
    assert a.energy_kwh == pytest.approx((100 * 2 / 32 + 100) / 1000)
    assert b.energy_kwh == pytest.approx((100 * 2 / 32) / 1000)
    assert (a.vcpu_hours, a.busy_vcpu_hours, b.busy_vcpu_hours) == (2, 1, 0)

    pool_day = PoolDay.objects.get(pool=room.extranet, day=hour.date())
    assert pool_day.energy_kwh == pytest.approx(0.2)
    assert (pool_day.readings, pool_day.vcpus_claimed, pool_day.active_hosts) == (1, 4, 1)
    assert pool_day.vcpus_usable == 2 * 32 and pool_day.hosts == 2

    usage.account(now)  # again in the same hour: nothing counted twice
    pool_day.refresh_from_db()
    assert pool_day.readings == 1 and pool_day.energy_kwh == pytest.approx(0.2)
    a.refresh_from_db()
    assert a.energy_kwh == pytest.approx((100 * 2 / 32 + 100) / 1000)


def test_capacity_that_no_flavour_can_use_is_stranded(world, room):
    host = Host.objects.filter(pool=room.extranet).first()
    # 32 usable vCPUs, 16 GB: leave 2 GB free and every free vCPU is stranded.
    Host.objects.filter(pk=host.pk).update(used_vcpus=2, used_memory_mb=14336)
    host.refresh_from_db()
    flavours = Flavour.objects.all()
    [row] = capacity.stranded([host], flavours)
    assert (row.free_vcpus, row.stranded_vcpus) == (30, 30)
    assert (row.free_memory_mb, row.stranded_memory_mb) == (2048, 2048)

    # With 8 GB free, two s2.medium fit: 4 vCPUs usable, 26 stranded, no memory stranded.
    Host.objects.filter(pk=host.pk).update(used_memory_mb=8192)
    host.refresh_from_db()
    [row] = capacity.stranded([host], flavours)
    assert (row.stranded_vcpus, row.stranded_memory_mb) == (26, 0)
    assert row.vcpu_percent == pytest.approx(100 * 26 / 30)


def test_the_forecast_extends_the_trend_to_the_pools_capacity(world, room):
    start = datetime.date(2026, 9, 1)
    for n in range(10):
        PoolDay.objects.create(
            pool=room.extranet,
            day=start + datetime.timedelta(days=n),
            vcpus_claimed=10 + 2 * n,
            vcpus_usable=64,
            memory_mb_claimed=4096,
            memory_mb_usable=32768,
        )
    found = capacity.forecast(PoolDay.objects.all())[room.extranet]
    # 28 vCPUs claimed on the last day, 2 more a day, 64 usable: full 18 days later.
    assert found.vcpus_per_day == pytest.approx(2)
    assert found.full_on == start + datetime.timedelta(days=9 + 18)
    assert capacity.forecast(PoolDay.objects.all()[:5])[room.extranet].full_on is None


def test_an_idle_instance_is_proposed_and_nothing_happens_until_the_department_answers(world, room):
    now = timezone.now()
    idle = running(world, room, world.staff_a, "idle")
    busy = running(world, room, world.staff_a, "busy")
    unseen = running(world, room, world.staff_a, "unseen")
    Instance.objects.update(created_at=now - datetime.timedelta(days=8))
    start = hour_of(now) - 167 * HOUR
    instance_hours(idle, start, 168, 1.0)
    instance_hours(busy, start, 168, lambda n: 30.0 if n == 100 else 1.0)
    instance_hours(unseen, start, 100, 1.0)  # the collector saw too little of it

    assert reclamation.propose(now) == (1, 0)
    proposal = ReclamationProposal.objects.get()
    assert (proposal.instance, proposal.department) == (idle, world.department_a)
    assert proposal.cpu_peak == 1.0 and proposal.status == ReclamationStatus.OPEN
    assert proposal.answer_due == add_workdays(timezone.localdate(now), 10)
    # Those who may answer are told; leaders, who only see, and other departments are not.
    told = Notification.objects.filter(kind="reclamation.proposed")
    assert {n.recipient for n in told} == {world.staff_a, world.admin_a}
    assert "idle" in told.first().text and str(proposal.answer_due) in told.first().text
    assert reclamation.propose(now) == (0, 0)  # one open proposal per instance
    assert told.count() == 2  # and told once
    idle.refresh_from_db()
    assert idle.status == InstanceStatus.ACTIVE  # nothing stopped without an answer

    with pytest.raises(ValidationError):
        reclamation.keep(proposal, actor=world.staff_a, reason="  ")
    with pytest.raises(PermissionDenied):
        reclamation.keep(proposal, actor=world.staff_b, reason="not mine")
    with pytest.raises(PermissionDenied):
        reclamation.release(proposal, actor=world.leader_a)  # leaders see, staff answer
    kept = reclamation.keep(proposal, actor=world.staff_a, reason="年底汇总时使用")
    assert (kept.status, kept.answered_by, kept.reason) == ("kept", world.staff_a, "年底汇总时使用")
    with pytest.raises(Conflict):
        reclamation.release(proposal, actor=world.staff_a)
    assert reclamation.propose(now) == (0, 0)  # kept: not proposed again for a while
    assert AuditEvent.objects.filter(action="infrastructure.keep_instance").count() == 1


def test_releasing_deletes_the_instance_and_busy_again_withdraws(world, room):
    now = timezone.now()
    first = running(world, room, world.staff_a, "old-report")
    second = running(world, room, world.staff_a, "old-portal")
    Instance.objects.update(created_at=now - datetime.timedelta(days=8))
    start = hour_of(now) - 167 * HOUR
    instance_hours(first, start, 168, 0.5)
    instance_hours(second, start, 168, 0.5)
    assert reclamation.propose(now) == (2, 0)

    released = reclamation.release(
        ReclamationProposal.objects.get(instance=first), actor=world.staff_a
    )
    assert released.status == ReclamationStatus.RELEASED
    first.refresh_from_db()
    assert first.status == InstanceStatus.DELETING

    InstanceSample.objects.filter(instance=second, bucket=hour_of(now)).update(cpu_percent=40)
    assert reclamation.propose(now) == (0, 1)
    assert ReclamationProposal.objects.get(instance=second).status == ReclamationStatus.WITHDRAWN


def idle_proposal(world, room, name="idle"):
    now = timezone.now()
    made = running(world, room, world.staff_a, name)
    Instance.objects.filter(pk=made.pk).update(created_at=now - datetime.timedelta(days=8))
    instance_hours(made, hour_of(now) - 167 * HOUR, 168, 1.0)
    reclamation.propose(now)
    return ReclamationProposal.objects.get(instance=made)


def test_the_page_shows_each_reader_their_own_figures(world, room, client):
    mine = running(world, room, world.staff_a, "a-1")
    theirs = running(world, room, world.staff_b, "b-1")
    now = timezone.now()
    hour = hour_of(now) - HOUR if hour_of(now) > day_of(now) else hour_of(now)
    for host in {mine.host, theirs.host}:
        host_hour(host, hour, 180.0)
    for instance in (mine, theirs):
        instance_hours(instance, hour, 1, 25.0)
    usage.account(now)
    proposal = idle_proposal(world, room)

    client.force_login(world.operator)
    page = client.get("/infrastructure/analytics/").content.decode()
    assert 'data-pool="外网池"' in page and "甲区公安局" in page and "乙区公安局" in page
    assert "too few days yet" not in page and "数据天数不足" in page

    client.force_login(world.staff_a)
    page = client.get("/infrastructure/analytics/").content.decode()
    assert "甲区公安局" in page and "乙区公安局" not in page and 'data-pool="' not in page
    assert f"/infrastructure/reclamations/{proposal.pk}/keep/" in page
    csv = client.get("/infrastructure/analytics/?export=csv")
    body = csv.content.decode("utf-8")
    assert (
        body.startswith("\ufeffday,department")
        and "甲区公安局" in body
        and "乙区公安局" not in body
    )

    client.force_login(world.staff_b)
    page = client.get("/infrastructure/analytics/").content.decode()
    assert 'data-proposal="idle"' not in page
    assert client.post(f"/infrastructure/reclamations/{proposal.pk}/release/").status_code == 404

    client.force_login(world.staff_a)
    client.post(f"/infrastructure/reclamations/{proposal.pk}/keep/", {"reason": "  "})
    proposal.refresh_from_db()
    assert proposal.status == ReclamationStatus.OPEN
    client.post(f"/infrastructure/reclamations/{proposal.pk}/keep/", {"reason": "季度报表"})
    proposal.refresh_from_db()
    assert (proposal.status, proposal.reason) == (ReclamationStatus.KEPT, "季度报表")


def test_departments_answer_through_the_api(world, room, api_as):
    proposal = idle_proposal(world, room)
    url = f"/api/v1/infrastructure/reclamation-proposals/{proposal.pk}"
    assert api_as(world.staff_b).post(f"{url}/release/").status_code == 404
    refused = api_as(world.staff_a).post(f"{url}/keep/", {}, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "reason"
    released = api_as(world.staff_a).post(f"{url}/release/", {"reason": "不再使用"}, format="json")
    assert released.status_code == 200 and released.json()["status"] == "released"
    assert Instance.objects.get(pk=proposal.instance_id).status == InstanceStatus.DELETING
    again = api_as(world.staff_a).post(f"{url}/keep/", {"reason": "x"}, format="json")
    assert again.status_code == 409
    listed = api_as(world.staff_a).get("/api/v1/infrastructure/reclamation-proposals/").json()
    assert [row["id"] for row in listed["results"]] == [proposal.pk]
