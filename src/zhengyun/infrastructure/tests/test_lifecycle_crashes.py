"""A worker killed at any step of an instance's build or deletion (and, in the randomised
run, of its resizes and migrations), then restarted, leaves no guest without its instance,
no instance without its guest, no quota, host claim or address kept for a deleted instance
and no instance stuck building, deleting or resizing (design rule 5, R-I1, R-I3) — on the
simulator and on libvirt's test driver.

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
    lifecycle,
    maintenance,
    resize,
    resize_lifecycle,
    services,
)
from zhengyun.infrastructure.choices import InstanceStatus
from zhengyun.infrastructure.models import Instance
from zhengyun.infrastructure.tasks import (
    reconcile_instances_task,
    reconcile_maintenance_task,
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


def restart_every_reconciler():
    """The reconcilers of builds and deletions, resizes, and migrations."""
    reconcile_instances_task.call_local()
    reconcile_resizes_task.call_local()
    reconcile_maintenance_task.call_local()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_random_crashes_over_orders_resizes_moves_and_deletions_leave_nothing_behind(
    world, hypervisor, seed
):
    room, before = hypervisor
    grown = services.create_flavour(
        actor=world.operator, name="s2.grown", vcpus=2, memory_mb=256, disk_gb=1
    )
    rng = random.Random(seed)
    for step in range(10):
        active = list(Instance.objects.filter(status=InstanceStatus.ACTIVE))
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
            else:
                order(world, room, f"vm-{step}")
        if rng.random() < 0.6:
            # The worker dies the first or second time it passes a random step, if it does.
            point = rng.choice(POINTS + MOVE_POINTS)
            with crashing_at(point, passes=rng.randint(1, 2)), contextlib.suppress(Crash):
                restart_every_reconciler()
    restart_every_reconciler()
    assert violations(before) == []
