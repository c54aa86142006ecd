"""An operator puts a host in maintenance: nothing new is placed on it and its instances
are live-migrated to other hosts of its pool, each move a durable job that a killed worker
leaves finishable; what cannot move stays, with the reason shown; the host returns to
service when the operator ends the maintenance (R-I4)."""

import uuid

import pytest
from django.utils import translation

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict, PermissionDenied
from zhengyun.infrastructure import connections, lifecycle, maintenance, services
from zhengyun.infrastructure.choices import InstanceStatus, MigrationStatus, NetworkReach
from zhengyun.infrastructure.drivers.base import GuestState
from zhengyun.infrastructure.models import Host, Instance, InstanceMigration
from zhengyun.infrastructure.tasks import reconcile_maintenance_task
from zhengyun.infrastructure.tests.test_drivers import needs_libvirt
from zhengyun.infrastructure.tests.test_resize_crashes import MIGRATE_POINTS
from zhengyun.jobs.crash_points import Crash, crashing_at
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(world):
    return build_machine_room(world, hosts=3)


def built(world, room, name, **spec):
    spec.setdefault("flavour", room.small)
    instance = services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name=name,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
        **spec,
    )
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE
    return Instance.objects.select_related("host").get(pk=instance.pk)


def claims(pool):
    """Every host's vCPU claim, and what the instances on it add up to."""
    hosts = {h.pk: h.used_vcpus for h in Host.objects.filter(pool=pool)}
    expected = dict.fromkeys(hosts, 0)
    for instance in Instance.objects.exclude(status=InstanceStatus.DELETED):
        if instance.host_id in expected:
            expected[instance.host_id] += instance.vcpus
    return hosts, expected


def drain(host):
    for migration_id in maintenance.drain(host.pk):
        maintenance.migrate(migration_id)
    host.refresh_from_db()
    return maintenance.drain_status(host)


def test_draining_moves_every_instance_to_another_host_of_the_pool(world, room):
    # Packing puts both on one host, which then goes into maintenance.
    first, second = built(world, room, "web-1"), built(world, room, "web-2")
    source = first.host
    assert second.host == source
    driver = room.driver(room.extranet)

    maintenance.start_maintenance(source, actor=world.operator, reason="memory replacement")
    status = drain(source)

    assert status.drained and status.stuck == []
    for instance in (first, second):
        instance.refresh_from_db()
        assert instance.host != source and instance.host.pool == room.extranet
        assert driver.guest(str(instance.uuid)).host == instance.host.name
    hosts, expected = claims(room.extranet)
    assert hosts == expected and hosts[source.pk] == 0
    assert set(InstanceMigration.objects.values_list("status", flat=True)) == {"done"}
    assert drain(source).drained  # again: nothing more happens
    assert claims(room.extranet)[0] == hosts


def test_nothing_new_is_placed_on_a_host_in_maintenance(world, room):
    source = built(world, room, "web-1").host
    maintenance.start_maintenance(source, actor=world.operator, reason="firmware")
    assert built(world, room, "web-2").host != source


def test_a_pool_without_room_leaves_the_instance_with_a_reason(world, room):
    instance = built(world, room, "web-1")
    source = instance.host
    # The other hosts are full.
    Host.objects.filter(pool=room.extranet).exclude(pk=source.pk).update(used_vcpus=32)

    maintenance.start_maintenance(source, actor=world.operator, reason="fan")
    status = drain(source)

    assert not status.drained and status.remaining == 1
    (stuck,) = status.stuck
    assert stuck.instance == instance and stuck.reason
    instance.refresh_from_db()
    assert instance.host == source
    assert room.driver(room.extranet).guest(str(instance.uuid)).host == source.name
    hosts, _expected = claims(room.extranet)
    assert hosts[source.pk] == 2 and sorted(hosts.values()) == [2, 32, 32]


def disk_claims(pool):
    """Every host's disk claim, and what the instances and volumes on it add up to."""
    from zhengyun.infrastructure.models import Snapshot, Volume

    hosts = {h.pk: h.used_disk_gb for h in Host.objects.filter(pool=pool)}
    expected = dict.fromkeys(hosts, 0)
    for instance in Instance.objects.exclude(status=InstanceStatus.DELETED):
        expected[instance.host_id] += instance.disk_gb
    for stored in (*Volume.objects.exclude(status="deleted"), *Snapshot.objects.all()):
        expected[stored.host_id] += stored.size_gb
    return hosts, expected


def attached_volume(world, instance, name="data", size_gb=10):
    from zhengyun.infrastructure import volumes
    from zhengyun.infrastructure.volume_lifecycle import advance_volume

    volume = volumes.create_volume(
        actor=world.staff_a,
        department=world.department_a,
        name=name,
        size_gb=size_gb,
        instance=instance,
    )
    assert advance_volume(volume.pk) == "in_use"
    volume.refresh_from_db()
    return volume


def test_an_instances_volumes_move_with_it_and_their_snapshots_stay(world, room):
    from zhengyun.infrastructure import volumes
    from zhengyun.infrastructure.volume_lifecycle import advance_snapshot

    instance = built(world, room, "db-1")
    data, logs = attached_volume(world, instance), attached_volume(world, instance, "logs", 5)
    snap = volumes.create_snapshot(data, actor=world.staff_a, name="before")
    advance_snapshot(snap.pk)
    source = instance.host

    maintenance.start_maintenance(source, actor=world.operator, reason="disk")
    status = drain(source)

    assert status.drained and status.stuck == []
    instance.refresh_from_db()
    target = instance.host
    assert target != source
    driver = room.driver(room.extranet)
    for volume in (data, logs):
        volume.refresh_from_db()
        assert volume.host == target and volume.status == "in_use"
        assert driver.volume(str(volume.uuid)).host == target.name
    snap.refresh_from_db()
    assert snap.host == source  # a snapshot is a copy kept where it was taken
    hosts, expected = disk_claims(room.extranet)
    assert hosts == expected and hosts[source.pk] == snap.size_gb
    assert InstanceMigration.objects.get().volumes_gb == 15


@pytest.mark.parametrize("point", MIGRATE_POINTS)
def test_a_move_with_volumes_killed_at_any_step_ends_with_each_disk_counted_once(
    world, room, point
):
    instance = built(world, room, "db-1")
    volume = attached_volume(world, instance)
    source = instance.host
    if point == "migrate.claimed":  # the drain's job claims the target itself
        maintenance.start_maintenance(source, actor=world.operator, reason="disk")
        (migration_id,) = maintenance.drain(source.pk)
    else:
        migration_id = maintenance.migrate_instance(instance, actor=world.operator).pk

    with crashing_at(point), pytest.raises(Crash):
        maintenance.migrate(migration_id)
    reconcile_maintenance_task.call_local()

    migration = InstanceMigration.objects.get(pk=migration_id)
    assert (migration.status, migration.volumes_gb) == (MigrationStatus.DONE, 10)
    instance.refresh_from_db()
    volume.refresh_from_db()
    assert instance.host == volume.host == migration.target
    driver = room.driver(room.extranet)
    assert driver.volume(str(volume.uuid)).host == migration.target.name
    hosts, expected = disk_claims(room.extranet)
    assert hosts == expected and hosts[source.pk] == 0
    assert reconcile_maintenance_task.call_local() == 0


def test_no_volume_is_given_to_an_instance_on_its_way_and_one_copied_meanwhile_stops_it(
    world, room
):
    from zhengyun.infrastructure import volumes
    from zhengyun.infrastructure.volume_lifecycle import advance_volume

    instance = built(world, room, "db-1")
    data = attached_volume(world, instance)
    spare = attached_volume(world, instance, "spare", 5)
    volumes.detach_volume(spare, actor=world.staff_a)
    advance_volume(spare.pk)
    migration = maintenance.migrate_instance(instance, actor=world.operator)
    with translation.override("en"), pytest.raises(Conflict, match="being moved"):
        volumes.attach_volume(spare, actor=world.staff_a, instance=instance)
    with translation.override("en"), pytest.raises(Conflict, match="being moved"):
        volumes.create_volume(
            actor=world.staff_a,
            department=world.department_a,
            name="more",
            size_gb=5,
            instance=instance,
        )
    # A snapshot ordered after the target was claimed: the copy is taken on this host.
    volumes.create_snapshot(data, actor=world.staff_a, name="now")

    assert maintenance.migrate(migration.pk) == MigrationStatus.FAILED
    instance.refresh_from_db()
    data.refresh_from_db()
    assert instance.host == data.host == migration.source
    hosts, expected = disk_claims(room.extranet)
    assert hosts == expected


def test_a_volume_being_attached_holds_its_instance_until_it_settles(world, room):
    from zhengyun.infrastructure import volumes
    from zhengyun.infrastructure.volume_lifecycle import advance_volume

    instance = built(world, room, "db-1")
    volume = attached_volume(world, instance)
    volumes.detach_volume(volume, actor=world.staff_a)  # detaching: not settled
    source = instance.host

    maintenance.start_maintenance(source, actor=world.operator, reason="disk")
    with translation.override("en"):
        status = drain(source)
    (stuck,) = status.stuck
    assert stuck.instance == instance and "volumes" in stuck.reason
    assert disk_claims(room.extranet)[0] == disk_claims(room.extranet)[1]

    advance_volume(volume.pk)  # detached: the next drain moves the instance alone
    maintenance.start_maintenance(source, actor=world.operator, reason="disk")
    assert drain(source).drained
    volume.refresh_from_db()
    assert volume.host == source and volume.status == "available"


def test_a_move_killed_after_the_hypervisor_moved_the_guest_is_finished_once(
    world, room, monkeypatch
):
    instance = built(world, room, "web-1")
    volume = attached_volume(world, instance)
    source = instance.host
    driver = room.driver(room.extranet)
    discarded = []
    monkeypatch.setattr(driver, "discard_moved_disks", lambda *asked: discarded.append(asked) or [])
    maintenance.start_maintenance(source, actor=world.operator, reason="disk")
    (migration_id,) = maintenance.drain(source.pk)
    maintenance._claim_target(migration_id)
    migration = InstanceMigration.objects.get(pk=migration_id)
    # The worker died after the hypervisor moved the guest, before the database knew.
    driver.live_migrate(str(instance.uuid), migration.target.name)

    assert reconcile_maintenance_task.call_local() == 1

    instance.refresh_from_db()
    assert instance.host == migration.target
    assert driver.guest(str(instance.uuid)).host == migration.target.name
    hosts, expected = claims(room.extranet)
    assert hosts == expected and hosts[migration.target.pk] == 2 and hosts[source.pk] == 0
    # What the cut-short move may have left on the source is asked to go, once.
    assert discarded == [(str(instance.uuid), (str(volume.uuid),))]
    assert reconcile_maintenance_task.call_local() == 0
    assert claims(room.extranet)[0] == hosts


def test_a_move_killed_after_claiming_the_target_is_finished_by_the_reconciler(world, room):
    instance = built(world, room, "web-1")
    source = instance.host
    maintenance.start_maintenance(source, actor=world.operator, reason="disk")
    (migration_id,) = maintenance.drain(source.pk)
    maintenance._claim_target(migration_id)  # the worker died here

    reconcile_maintenance_task.call_local()

    instance.refresh_from_db()
    assert instance.host != source
    hosts, expected = claims(room.extranet)
    assert hosts == expected


def test_a_drain_that_never_ran_is_started_by_the_reconciler(world, room):
    instance = built(world, room, "web-1")
    # The queued drain was lost with its worker: only the host's mark was committed.
    maintenance.start_maintenance(instance.host, actor=world.operator, reason="disk")
    assert reconcile_maintenance_task.call_local() == 1
    assert Instance.objects.get(pk=instance.pk).host != instance.host


def test_ending_maintenance_makes_the_host_placeable_again(world, room):
    source = built(world, room, "web-1").host
    maintenance.start_maintenance(source, actor=world.operator, reason="bios")
    drain(source)
    maintenance.end_maintenance(source, actor=world.operator)
    source.refresh_from_db()
    assert not source.in_maintenance and source.maintenance_reason == ""
    assert maintenance.drain_status(source) is None
    # Packing now prefers the emptied host only if it is placeable: fill the others.
    Host.objects.filter(pool=room.extranet).exclude(pk=source.pk).update(used_vcpus=32)
    assert built(world, room, "web-2").host == source


def test_ending_maintenance_cancels_the_moves_not_started(world, room):
    source = built(world, room, "web-1").host
    maintenance.start_maintenance(source, actor=world.operator, reason="bios")
    (migration_id,) = maintenance.drain(source.pk)
    maintenance.end_maintenance(source, actor=world.operator)
    assert maintenance.migrate(migration_id) == MigrationStatus.CANCELLED
    assert Instance.objects.get(host=source)


def test_department_staff_cannot_and_an_operator_can_and_both_are_audited(world, room):
    source = built(world, room, "web-1").host
    with pytest.raises(PermissionDenied):
        maintenance.start_maintenance(source, actor=world.staff_a, reason="mine")
    assert not Host.objects.get(pk=source.pk).in_maintenance
    assert AuditEvent.objects.filter(
        actor=world.staff_a, action="infrastructure.host.change", result="denied"
    ).exists()

    maintenance.start_maintenance(source, actor=world.sysadmin, reason="power supply")
    maintenance.end_maintenance(source, actor=world.operator)
    started = AuditEvent.objects.get(action="infrastructure.start_maintenance")
    assert (started.actor, started.object_id) == (world.sysadmin, str(source.pk))
    assert started.changes["in_maintenance"] == [False, True]
    assert AuditEvent.objects.filter(
        action="infrastructure.end_maintenance", actor=world.operator
    ).exists()


def test_a_reason_is_required(world, room):
    from django.core.exceptions import ValidationError

    source = room.extranet.hosts.first()
    with pytest.raises(ValidationError):
        maintenance.start_maintenance(source, actor=world.operator, reason="  ")
    assert not Host.objects.get(pk=source.pk).in_maintenance


@needs_libvirt
def test_a_hypervisor_that_cannot_migrate_leaves_the_instance_with_the_reason(world, room):
    pool = services.create_pool(
        actor=world.operator,
        zone=room.zone,
        name="libvirt-pool",
        networks=[NetworkReach.INTERNET],
        protection_level=4,  # only this pool may take the level-4 system below
    )
    services.register_provider(
        actor=world.operator, pool=pool, name="lv", driver="libvirt", uri="test:///default"
    )
    services.register_provider(
        actor=world.operator,
        pool=pool,
        name="sim-lv",
        driver="simulator",
        uri="sim://memory?hosts=1&vcpus=8&memory_mb=16384&disk_gb=500&seed=9",
    )
    source = Host.objects.get(provider__name="lv")
    tiny = services.create_flavour(  # libvirt's test host has 3 GB of memory
        actor=world.operator, name="t1", vcpus=1, memory_mb=512, disk_gb=8
    )
    # Keep the order off the simulated host so it lands on libvirt's.
    Host.objects.filter(provider__name="sim-lv").update(in_maintenance=True)
    instance = services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name=f"lv-{uuid.uuid4().hex[:6]}",
        flavour=tiny,
        image=room.image,
        networks=[NetworkReach.INTERNET],
        protection_level=4,
    )
    assert instance.host == source
    Host.objects.filter(provider__name="sim-lv").update(in_maintenance=False)
    lifecycle.build(instance.pk)
    libvirt = connections.driver_for("libvirt", "test:///default")
    try:
        maintenance.start_maintenance(source, actor=world.operator, reason="kernel")
        status = drain(source)
        (stuck,) = status.stuck
        assert stuck.instance == instance and "not supported" in stuck.reason
        instance.refresh_from_db()
        assert instance.host == source and instance.status == InstanceStatus.ACTIVE
        guest = libvirt.guest(str(instance.uuid))
        assert (guest.host, guest.state) == (source.name, GuestState.RUNNING)
        assert Host.objects.get(provider__name="sim-lv").used_vcpus == 0
    finally:
        libvirt.delete(str(instance.uuid))


def test_the_api_starts_shows_and_ends_maintenance(world, room, api_as):
    instance = built(world, room, "web-1")
    url = f"/api/v1/infrastructure/hosts/{instance.host_id}/maintenance/"
    assert api_as(world.staff_a).post(url, {"reason": "x"}, format="json").status_code == 404
    operator = api_as(world.operator)
    refused = operator.post(url, {"reason": ""}, format="json")
    assert refused.status_code == 400 and "reason" in str(refused.json())

    started = operator.post(url, {"reason": "memory"}, format="json")
    assert started.status_code == 200, started.content
    assert started.json()["in_maintenance"] and started.json()["remaining"] == 1
    drain(instance.host)
    shown = operator.get(url).json()
    assert (shown["drained"], shown["remaining"], shown["stuck"]) == (True, 0, [])

    ended = operator.delete(url)
    assert ended.status_code == 200 and not ended.json()["in_maintenance"]
    assert operator.delete(url).status_code == 409


def test_operators_drive_maintenance_from_the_pools_page(world, room, client):
    instance = built(world, room, "web-1")
    source = instance.host
    Host.objects.filter(pool=room.extranet).exclude(pk=source.pk).update(used_vcpus=32)
    start = f"/infrastructure/hosts/{source.pk}/maintenance/"

    client.force_login(world.staff_a)
    assert client.post(start, {"reason": "mine"}).status_code == 404
    client.force_login(world.operator)
    client.post(start, {"reason": ""})
    assert not Host.objects.get(pk=source.pk).in_maintenance

    assert client.post(start, {"reason": "memory replacement"}).status_code == 302
    drain(source)
    page = client.get("/infrastructure/pools/").content.decode()
    assert "memory replacement" in page and 'data-testid="stuck"' in page
    assert "web-1" in page

    client.post(f"/infrastructure/hosts/{source.pk}/maintenance/end/")
    assert not Host.objects.get(pk=source.pk).in_maintenance
