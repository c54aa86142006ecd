"""A worker killed at any step of a volume's or snapshot's job, then restarted, leaves the
hypervisor and the platform agreeing: every volume and snapshot the platform keeps exists
once on its host, nothing else does, attachments match, and quota and host disk count each
exactly once (design rule 5, R-I3).

The worker "dies" in-process at a crash point; the restarted worker is the minute's
reconciler run once. On the simulator: libvirt's test driver cannot attach a disk."""

import inspect
import re

import pytest

from zhengyun.infrastructure import lifecycle, services, volume_lifecycle, volumes
from zhengyun.infrastructure.choices import NetworkReach, VolumeStatus
from zhengyun.infrastructure.drivers.base import VolumeState
from zhengyun.infrastructure.models import Instance, Quota, Snapshot, Volume
from zhengyun.infrastructure.tasks import reconcile_volumes_task
from zhengyun.jobs.crash_points import Crash, crashing_at
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db

POINTS = re.findall(r'crash_point\("([\w.]+)"\)', inspect.getsource(volume_lifecycle))


@pytest.fixture
def room(world):
    return build_machine_room(world)


@pytest.fixture
def instance(world, room):
    made = services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name="db-1",
        flavour=room.small,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
    )
    lifecycle.build(made.pk)
    return Instance.objects.get(pk=made.pk)


def violations(world, room):
    """What disagrees between the platform's volumes and snapshots and the hypervisor's."""
    driver = room.driver(room.extranet)
    found = []
    kept = Volume.objects.exclude(status=VolumeStatus.DELETED)
    on_hypervisor = {v.name: v for v in driver.volumes()}
    for volume in kept:
        seen = on_hypervisor.pop(str(volume.uuid), None)
        if seen is None:
            found.append(f"{volume} missing on the hypervisor")
        elif volume.status == VolumeStatus.IN_USE and seen.guest != str(volume.instance.uuid):
            found.append(f"{volume} in use but not attached")
        elif volume.status == VolumeStatus.AVAILABLE and seen.state != VolumeState.AVAILABLE:
            found.append(f"{volume} available but attached")
    found += [f"orphan volume {name}" for name in on_hypervisor]
    quota = Quota.objects.get(department=world.department_a)
    snapshots = Snapshot.objects.exclude(status=VolumeStatus.DELETED)
    disk = (
        sum(i.disk_gb for i in Instance.objects.all())
        + sum(v.size_gb for v in kept)
        + sum(s.size_gb for s in snapshots)
    )
    if (quota.used_volumes, quota.used_disk_gb) != (kept.count(), disk):
        found.append(f"quota counts {quota.used_volumes} volumes, {quota.used_disk_gb} GB")
    hosts_disk = sum(h.used_disk_gb for h in room.extranet.hosts.all())
    if hosts_disk != disk:
        found.append(f"hosts count {hosts_disk} GB, platform {disk} GB")
    return found


def restart_worker():
    return reconcile_volumes_task.call_local()


def test_every_step_of_the_volume_jobs_has_crash_points():
    assert {p.split(".")[0] for p in POINTS} == {"volume", "snapshot"}
    assert len(POINTS) == len(set(POINTS)) >= 8


@pytest.mark.parametrize("point", POINTS)
def test_a_worker_killed_at_a_volume_step_leaves_nothing_behind(world, room, instance, point):
    def order(name):
        return volumes.create_volume(
            actor=world.staff_a,
            department=world.department_a,
            name=name,
            size_gb=10,
            instance=instance,
        )

    kept = order("kept")
    volume_lifecycle.advance_volume(kept.pk)
    snap = volumes.create_snapshot(Volume.objects.get(pk=kept.pk), actor=world.staff_a, name="s")
    volume_lifecycle.advance_snapshot(snap.pk)
    doomed = order("doomed")
    volume_lifecycle.advance_volume(doomed.pk)
    volumes.detach_volume(Volume.objects.get(pk=doomed.pk), actor=world.staff_a)
    if point in ("volume.deleted", "volume.quota_returned"):
        volume_lifecycle.advance_volume(doomed.pk)
        volumes.delete_volume(Volume.objects.get(pk=doomed.pk), actor=world.staff_a)
    new = order("new")
    if point.startswith("snapshot.") and point != "snapshot.taken":
        volumes.delete_snapshot(Snapshot.objects.get(pk=snap.pk), actor=world.staff_a)
    elif point == "snapshot.taken":
        snap = volumes.create_snapshot(
            Volume.objects.get(pk=kept.pk), actor=world.staff_a, name="s2"
        )

    if point.startswith("snapshot."):
        job, target = volume_lifecycle.advance_snapshot, snap.pk
    elif point in ("volume.created", "volume.attached"):
        job, target = volume_lifecycle.advance_volume, new.pk
    else:
        job, target = volume_lifecycle.advance_volume, doomed.pk
    with crashing_at(point), pytest.raises(Crash):
        job(target)

    restart_worker()
    assert violations(world, room) == []
    statuses = dict(Volume.objects.values_list("name", "status"))
    assert statuses["kept"] == statuses["new"] == VolumeStatus.IN_USE
    assert statuses["doomed"] in (VolumeStatus.AVAILABLE, VolumeStatus.DELETED)
    assert not Volume.objects.filter(status__in=volume_lifecycle.TRANSITIONAL).exists()
    assert not Snapshot.objects.filter(status__in=volume_lifecycle.TRANSITIONAL).exists()
