"""A worker killed at any step of an instance's build, deletion, start, stop or reboot
(and, in the randomised run, of its resizes and migrations), then restarted, leaves no
guest without its instance, no instance without its guest, no guest running when its
instance says stopped (or the other way round), no quota, host claim or address kept for a
deleted instance and no instance stuck building, deleting, stopping, starting, rebooting or
resizing (design rule 5, R-I1, R-I3) — on the simulator and on libvirt's test driver.

The worker "dies" in-process at a crash point (``zhengyun.jobs.crash_points``); the
restarted worker is the minute's reconciler run once."""

import contextlib
import inspect
import random
import re

import pytest

from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure import (
    connections,
    instance_power,
    lifecycle,
    maintenance,
    power_lifecycle,
    resize,
    resize_lifecycle,
    services,
)
from zhengyun.infrastructure.choices import InstanceStatus
from zhengyun.infrastructure.models import Instance
from zhengyun.infrastructure.tasks import (
    reconcile_instances_task,
    reconcile_maintenance_task,
    reconcile_power_task,
    reconcile_resizes_task,
)
from zhengyun.infrastructure.tests.test_drivers import needs_libvirt
from zhengyun.jobs.crash_points import Crash, crashing_at
from zhengyun.testing.lifecycle import build_crash_room, guests_by_provider, order, violations

pytestmark = pytest.mark.django_db

# Every crash point the lifecycle has, read from its source so a new one is tested too.
POINTS = re.findall(r'crash_point\("([\w.]+)"\)', inspect.getsource(lifecycle))
# And those of resizes and migrations, for the randomised run.
MOVE_POINTS = re.findall(r'crash_point\("([\w.]+)"\)', inspect.getsource(resize_lifecycle))
MOVE_POINTS += re.findall(r'crash_point\("(migrate\.\w+)"\)', inspect.getsource(maintenance))
# And those of starting, stopping and rebooting.
POWER_POINTS = re.findall(r'crash_point\("([\w.]+)"\)', inspect.getsource(power_lifecycle))
SIMULATOR = "sim://memory?hosts=2&vcpus=8&memory_mb=16384&disk_gb=500"


@pytest.fixture(
    params=[
        pytest.param(("simulator", SIMULATOR), id="simulator"),
        pytest.param(("libvirt", "test:///default"), id="libvirt", marks=needs_libvirt),
    ]
)
def hypervisor(request, world):
    """``(room, guests it had before)``; the guests the test made are removed after it."""
    driver, uri = request.param
    room = build_crash_room(world, driver=driver, uri=uri)
    before = {name for guests in guests_by_provider().values() for name in guests}
    yield room, frozenset(before)
    for provider in room.pool.providers.all():
        hypervisor_driver = connections.driver_for(provider.driver, provider.uri)
        for guest in hypervisor_driver.guests():
            if guest.name not in before:
                hypervisor_driver.delete(guest.name)
        for network in hypervisor_driver.networks():
            hypervisor_driver.remove_network(network)  # the room's network
    # Closed now rather than at interpreter exit, when libvirt-python can no longer close them.
    connections.driver_for.cache_clear()


def restart_worker():
    """What a restarted worker does within a minute: move on every unfinished instance."""
    return reconcile_instances_task.call_local()


def test_every_step_of_build_and_destroy_has_crash_points():
    assert {p.split(".")[0] for p in POINTS} == {"build", "destroy"}
    assert len(POINTS) == len(set(POINTS)) >= 8


@pytest.mark.parametrize("point", POINTS)
def test_a_worker_killed_at_a_step_leaves_nothing_behind(world, hypervisor, point):
    room, before = hypervisor
    kept, doomed = order(world, room, "kept"), order(world, room, "doomed")
    lifecycle.build(kept.pk)
    lifecycle.build(doomed.pk)
    building = order(world, room, "building")
    services.delete_instance(doomed, actor=world.staff_a)

    job = lifecycle.build if point.startswith("build.") else lifecycle.destroy
    with crashing_at(point), pytest.raises(Crash):
        job(building.pk if job is lifecycle.build else doomed.pk)

    assert restart_worker() == 2
    assert violations(before) == []
    statuses = dict(Instance.objects.values_list("name", "status"))
    assert statuses == {
        "kept": InstanceStatus.ACTIVE,
        "doomed": InstanceStatus.DELETED,
        "building": InstanceStatus.ACTIVE,
    }


# change: (its service, the crash point only it passes)
POWER_CHANGES = {
    "stop": (instance_power.stop_instance, "power.stopped"),
    "start": (instance_power.start_instance, "power.started"),
    "reboot": (instance_power.reboot_instance, "power.rebooted"),
}
OWN_POINTS = {own for _service, own in POWER_CHANGES.values()}
# Every change passes the common crash points, and its own.
POWER_CASES = [
    (change, point)
    for change, (_service, own) in POWER_CHANGES.items()
    for point in POWER_POINTS
    if point == own or point not in OWN_POINTS
]


def test_every_step_of_a_power_change_has_crash_points():
    assert {p.split(".")[0] for p in POWER_POINTS} == {"power"}
    assert len(POWER_POINTS) == len(set(POWER_POINTS)) >= 6
    assert {point for _change, point in POWER_CASES} == set(POWER_POINTS)


@pytest.mark.parametrize(("change", "point"), POWER_CASES)
def test_a_worker_killed_in_a_power_change_leaves_the_guest_as_its_status_says(
    world, hypervisor, change, point
):
    room, before = hypervisor
    kept, changed = order(world, room, "kept"), order(world, room, "changed")
    lifecycle.build(kept.pk)
    lifecycle.build(changed.pk)
    if change == "start":
        instance_power.stop_instance(changed, actor=world.staff_a)
        power_lifecycle.advance(changed.pk)
    POWER_CHANGES[change][0](changed, actor=world.staff_a)

    with crashing_at(point), pytest.raises(Crash):
        power_lifecycle.advance(changed.pk)
    assert Instance.objects.get(pk=changed.pk).status in instance_power.TRANSITIONS

    assert reconcile_power_task.call_local() == 1  # the restarted worker
    assert violations(before) == []  # the guest runs exactly when its instance says so
    statuses = dict(Instance.objects.values_list("name", "status"))
    expected = InstanceStatus.STOPPED if change == "stop" else InstanceStatus.ACTIVE
    assert statuses == {"kept": InstanceStatus.ACTIVE, "changed": expected}


def restart_every_reconciler():
    """The reconcilers of builds and deletions, power changes, resizes, and migrations."""
    reconcile_instances_task.call_local()
    reconcile_power_task.call_local()
    reconcile_resizes_task.call_local()
    reconcile_maintenance_task.call_local()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_random_crashes_over_orders_power_changes_resizes_moves_and_deletions_leave_nothing(
    world, hypervisor, seed
):
    room, before = hypervisor
    grown = services.create_flavour(
        actor=world.operator, name="s2.grown", vcpus=2, memory_mb=256, disk_gb=1
    )
    rng = random.Random(seed)
    for step in range(10):
        active = list(Instance.objects.filter(status=InstanceStatus.ACTIVE))
        stopped = list(Instance.objects.filter(status=InstanceStatus.STOPPED))
        roll = rng.random()
        # Refusals (a pool without another host, a move already open) change nothing.
        with contextlib.suppress(Conflict):
            if active and roll < 0.3:
                services.delete_instance(rng.choice(active), actor=world.staff_a)
            elif active and roll < 0.5:
                chosen = rng.choice(active)
                flavour = room.flavour if chosen.flavour == grown else grown
                resize.resize_instance(chosen, actor=world.staff_a, flavour=flavour)
            elif active and roll < 0.6:
                maintenance.migrate_instance(rng.choice(active), actor=world.operator)
            elif roll < 0.75 and (settled := active + stopped):
                chosen = rng.choice(settled)
                change = instance_power.stop_instance
                if chosen.status == InstanceStatus.STOPPED:
                    change = instance_power.start_instance
                elif rng.random() < 0.3:
                    change = instance_power.reboot_instance
                change(chosen, actor=world.staff_a)
            else:
                order(world, room, f"vm-{step}")
        if rng.random() < 0.6:
            # The worker dies the first or second time it passes a random step, if it does.
            point = rng.choice(POINTS + MOVE_POINTS + POWER_POINTS)
            with crashing_at(point, passes=rng.randint(1, 2)), contextlib.suppress(Crash):
                restart_every_reconciler()
    restart_every_reconciler()
    assert violations(before) == []
