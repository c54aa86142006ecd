"""A worker killed at any step of a resize or of an instance's migration, then restarted,
leaves no guest without its instance or on another host or of another size than its
instance says, no quota or host claim counted twice or lost, and nothing left resizing or
migrating (design rule 5, R-I3, R-I4) — on the simulator and on libvirt's test driver.

The worker "dies" in-process at a crash point; the restarted worker is the minute's
reconcilers run once. libvirt's test driver cannot migrate: on it a move is refused by the
hypervisor (the resize put back, the migration failed), so the steps after a successful
move are reached on the simulator alone."""

import inspect
import re

import pytest

from zhengyun.infrastructure import (
    connections,
    lifecycle,
    maintenance,
    resize,
    resize_lifecycle,
    services,
)
from zhengyun.infrastructure.choices import InstanceStatus, MigrationStatus, ResizeStatus
from zhengyun.infrastructure.models import Host, Instance, InstanceMigration, InstanceResize
from zhengyun.infrastructure.tasks import (
    reconcile_instances_task,
    reconcile_maintenance_task,
    reconcile_resizes_task,
)
from zhengyun.infrastructure.tests.test_drivers import needs_libvirt
from zhengyun.jobs.crash_points import Crash, crashing_at
from zhengyun.testing.lifecycle import build_crash_room, guests_by_provider, order, violations

pytestmark = pytest.mark.django_db

RESIZE_POINTS = re.findall(r'crash_point\("([\w.]+)"\)', inspect.getsource(resize_lifecycle))
MIGRATE_POINTS = re.findall(r'crash_point\("(migrate\.[\w]+)"\)', inspect.getsource(maintenance))
SIMULATOR = "sim://memory?hosts=2&vcpus=8&memory_mb=16384&disk_gb=500"
# A second host for libvirt's single test host, in the same pool.
SIDE_HOST = "sim://memory?hosts=1&vcpus=8&memory_mb=16384&disk_gb=500&seed=7"

# The resize that passes each crash point on each hypervisor: growing on the instance's own
# host, moving to another (too little room left on its own), or refused by the hypervisor
# and put back. On libvirt a move is always refused, migration being unsupported.
GROW = {"locked", "resized", "started", "quota_settled", "host_released", "marked"}
SIMULATED_RESIZES = {
    f"resize.{step}": "grow"
    if step in GROW
    else "move"
    if step in ("stopped", "moved")
    else "refused"
    for step in (p.split(".")[1] for p in RESIZE_POINTS)
}
LIBVIRT_RESIZES = {
    point: "grow" if point.split(".")[1] in GROW else "refused"
    for point in RESIZE_POINTS
    if point not in ("resize.moved", "resize.moved_back")
}
# The first is reached while a drain claims its target; libvirt refuses every move after.
LIBVIRT_MIGRATIONS = ("migrate.claimed", "migrate.locked")


@pytest.fixture
def hypervisor(request, world):
    """``(room, guests it had before)``; the room's extra flavours are ``grown`` (fits
    every host), ``big`` (more memory than libvirt's test host) and ``filler``."""
    if request.param == "simulator":
        room = build_crash_room(world, driver="simulator", uri=SIMULATOR)
    else:
        room = build_crash_room(world, driver="libvirt", uri="test:///default")
        services.register_provider(
            actor=world.operator, pool=room.pool, name="side", driver="simulator", uri=SIDE_HOST
        )
    room.kind = request.param
    flavour = services.create_flavour
    # libvirt's test driver cannot grow a disk (test_drivers checks that it says so).
    disk = 2 if request.param == "simulator" else 1
    room.grown = flavour(
        actor=world.operator, name="s2.grown", vcpus=2, memory_mb=512, disk_gb=disk
    )
    room.big = flavour(actor=world.operator, name="s2.big", vcpus=2, memory_mb=4096, disk_gb=2)
    room.filler = flavour(actor=world.operator, name="f1", vcpus=1, memory_mb=15000, disk_gb=1)
    before = {name for guests in guests_by_provider().values() for name in guests}
    yield room, frozenset(before)
    for provider in room.pool.providers.all():
        hypervisor_driver = connections.driver_for(provider.driver, provider.uri)
        for guest in hypervisor_driver.guests():
            if guest.name not in before:
                hypervisor_driver.delete(guest.name)
    connections.driver_for.cache_clear()


def restart_worker():
    """What a restarted worker does within a minute: every reconciler of instances."""
    return (
        reconcile_instances_task.call_local()
        + reconcile_resizes_task.call_local()
        + reconcile_maintenance_task.call_local()
    )


def built(world, room, name, flavour=None):
    """An active instance, on libvirt's host when the room has one."""
    side = Host.objects.filter(pool=room.pool, provider__name="side")
    side.update(in_maintenance=True)
    instance = order(world, room, name)
    if flavour is not None:  # ordered small, then grown to size before the test begins
        instance.flavour = flavour
    side.update(in_maintenance=False)
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE
    if flavour is not None:
        resize.resize_instance(instance, actor=world.staff_a, flavour=flavour)
        resize_lifecycle.advance_resize(InstanceResize.objects.get(instance=instance).pk)
    return Instance.objects.select_related("host").get(pk=instance.pk)


def test_every_step_of_resize_and_migration_has_crash_points():
    assert len(RESIZE_POINTS) == len(set(RESIZE_POINTS)) >= 10
    assert len(MIGRATE_POINTS) == len(set(MIGRATE_POINTS)) >= 5
    assert set(SIMULATED_RESIZES) == set(RESIZE_POINTS)
    assert set(SIMULATED_RESIZES.values()) == {"grow", "move", "refused"}
    # What libvirt's test driver never reaches: the steps after a move it refuses.
    assert set(RESIZE_POINTS) - set(LIBVIRT_RESIZES) == {"resize.moved", "resize.moved_back"}
    assert set(MIGRATE_POINTS) - set(LIBVIRT_MIGRATIONS) == {
        "migrate.moved",
        "migrate.rehosted",
        "migrate.source_released",
        "migrate.marked",
    }


def on_each_hypervisor(simulated, on_libvirt):
    """``(hypervisor, point)`` pairs: every point on the simulator, those libvirt's test
    driver reaches on it."""
    return [pytest.param("simulator", point, id=f"simulator-{point}") for point in simulated] + [
        pytest.param("libvirt", point, id=f"libvirt-{point}", marks=needs_libvirt)
        for point in on_libvirt
    ]


@pytest.mark.parametrize(
    ("hypervisor", "point"),
    on_each_hypervisor(SIMULATED_RESIZES, LIBVIRT_RESIZES),
    indirect=["hypervisor"],
)
def test_a_worker_killed_at_a_resize_step_leaves_nothing_behind(world, hypervisor, point):
    room, before = hypervisor
    scenario = (SIMULATED_RESIZES if room.kind == "simulator" else LIBVIRT_RESIZES)[point]
    kept = built(world, room, "kept")
    subject = built(world, room, "subject")
    if room.kind == "simulator" and scenario != "grow":
        built(world, room, "filler", flavour=room.filler)  # the subject's host is now full
    flavour = room.grown if scenario == "grow" else room.big
    resize.resize_instance(subject, actor=world.staff_a, flavour=flavour)
    (record,) = InstanceResize.objects.filter(instance=subject, status=ResizeStatus.RESIZING)
    assert record.moves == (scenario != "grow")
    if room.kind == "simulator" and scenario == "refused":
        room_driver = connections.driver_for("simulator", SIMULATOR)
        room_driver.fail_next("resize")

    with crashing_at(point), pytest.raises(Crash):
        resize_lifecycle.advance_resize(record.pk)

    assert restart_worker() == 1
    assert violations(before) == []
    record.refresh_from_db()
    assert record.status == (ResizeStatus.FAILED if scenario == "refused" else ResizeStatus.DONE)
    subject.refresh_from_db()
    expected = flavour if record.status == ResizeStatus.DONE else room.flavour
    assert (subject.flavour, subject.status) == (expected, InstanceStatus.ACTIVE)
    assert Instance.objects.get(pk=kept.pk).status == InstanceStatus.ACTIVE
    assert restart_worker() == 0  # finished once: nothing is given back twice


@pytest.mark.parametrize(
    ("hypervisor", "point"),
    on_each_hypervisor(MIGRATE_POINTS, LIBVIRT_MIGRATIONS),
    indirect=["hypervisor"],
)
def test_a_worker_killed_at_a_migration_step_leaves_nothing_behind(world, hypervisor, point):
    room, before = hypervisor
    built(world, room, "kept")
    subject = built(world, room, "subject")
    source = subject.host
    if point == "migrate.claimed":  # the drain's job claims the target itself
        maintenance.start_maintenance(source, actor=world.operator, reason="disk")
        maintenance.drain(source.pk)  # the kept instance is moved off too, by the reconciler
        migration_id = InstanceMigration.objects.get(instance=subject).pk
    else:
        migration_id = maintenance.migrate_instance(subject, actor=world.operator).pk

    with crashing_at(point), pytest.raises(Crash):
        maintenance.migrate(migration_id)

    restart_worker()
    assert violations(before) == []
    migration = InstanceMigration.objects.get(pk=migration_id)
    subject.refresh_from_db()
    if room.kind == "simulator":
        assert migration.status == MigrationStatus.DONE and subject.host == migration.target
    else:
        assert migration.status == MigrationStatus.FAILED and subject.host == source
        assert "not supported" in migration.detail
    assert subject.status == InstanceStatus.ACTIVE
