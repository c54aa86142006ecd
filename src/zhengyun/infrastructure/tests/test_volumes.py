"""A department's volumes and snapshots: ordered within quota on the host of the instance
they serve, attached, detached, snapshotted and deleted by the worker on the real driver,
with host disk and quota given back exactly once (R-I3)."""

import pytest
from django.core.exceptions import ValidationError

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict, PermissionDenied
from zhengyun.infrastructure import lifecycle, quotas, services, volumes
from zhengyun.infrastructure.choices import InstanceStatus, NetworkReach, VolumeStatus
from zhengyun.infrastructure.drivers.base import VolumeState
from zhengyun.infrastructure.models import Instance, Quota, Snapshot, Volume
from zhengyun.infrastructure.tasks import reconcile_volumes_task
from zhengyun.infrastructure.volume_lifecycle import advance_snapshot, advance_volume
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db


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
    made.refresh_from_db()
    return made


def hypervisor(room):
    return room.driver(room.extranet)


def disk_claimed(host):
    host.refresh_from_db()
    return host.used_disk_gb


def quota(world):
    row = Quota.objects.get(department=world.department_a)
    return row.used_volumes, row.used_disk_gb


def new_volume(world, instance, size_gb=20, **kwargs):
    return volumes.create_volume(
        actor=world.staff_a,
        department=world.department_a,
        name=kwargs.pop("name", "data"),
        size_gb=size_gb,
        instance=instance,
        **kwargs,
    )


def test_a_volume_is_made_on_its_instances_host_and_attached(world, room, instance):
    volume = new_volume(world, instance)
    assert (volume.status, volume.host) == (VolumeStatus.CREATING, instance.host)
    assert disk_claimed(instance.host) == 40 + 20
    assert quota(world) == (1, 40 + 20)
    assert advance_volume(volume.pk) == VolumeStatus.IN_USE
    seen = hypervisor(room).volume(str(volume.uuid))
    assert (seen.state, seen.guest) == (VolumeState.ATTACHED, str(instance.uuid))
    assert AuditEvent.objects.filter(
        action="infrastructure.create_volume", actor=world.staff_a, object_id=str(volume.pk)
    ).exists()


def test_detach_delete_gives_host_disk_and_quota_back_once(world, room, instance):
    volume = new_volume(world, instance)
    advance_volume(volume.pk)
    with pytest.raises(Conflict):
        volumes.delete_volume(volume, actor=world.staff_a)  # attached: detach first
    volumes.detach_volume(volume, actor=world.staff_a)
    assert advance_volume(volume.pk) == VolumeStatus.AVAILABLE
    assert hypervisor(room).volume(str(volume.uuid)).state == VolumeState.AVAILABLE
    volumes.delete_volume(Volume.objects.get(pk=volume.pk), actor=world.staff_a)
    assert advance_volume(volume.pk) == VolumeStatus.DELETED
    assert advance_volume(volume.pk) == VolumeStatus.DELETED  # again: nothing given twice
    assert hypervisor(room).volume(str(volume.uuid)).state == VolumeState.MISSING
    assert disk_claimed(instance.host) == 40
    assert quota(world) == (0, 40)


def test_a_snapshot_copies_into_a_new_volume_and_outlives_its_volume(world, room, instance):
    volume = new_volume(world, instance)
    advance_volume(volume.pk)
    snap = volumes.create_snapshot(volume, actor=world.staff_a, name="before-upgrade")
    assert advance_snapshot(snap.pk) == VolumeStatus.AVAILABLE
    assert quota(world) == (1, 40 + 20 + 20)
    copy = new_volume(world, None, size_gb=30, name="copy", source=Snapshot.objects.get(pk=snap.pk))
    assert copy.host == instance.host
    assert advance_volume(copy.pk) == VolumeStatus.AVAILABLE
    assert hypervisor(room).volume(str(copy.uuid)).size_gb == 30
    with pytest.raises(ValidationError):
        new_volume(world, None, size_gb=10, name="too-small", source=snap)
    volumes.delete_snapshot(Snapshot.objects.get(pk=snap.pk), actor=world.staff_a)
    assert advance_snapshot(snap.pk) == VolumeStatus.DELETED
    assert quota(world) == (2, 40 + 20 + 30)


def test_deleting_the_instance_leaves_its_volume_available(world, room, instance):
    volume = new_volume(world, instance)
    advance_volume(volume.pk)
    services.delete_instance(instance, actor=world.staff_a)
    assert lifecycle.destroy(instance.pk) == InstanceStatus.DELETED
    volume.refresh_from_db()
    assert (volume.status, volume.instance) == (VolumeStatus.AVAILABLE, None)
    assert hypervisor(room).volume(str(volume.uuid)).state == VolumeState.AVAILABLE
    assert disk_claimed(instance.host) == 20  # the volume still takes its room


def test_a_volume_for_a_building_instance_is_attached_once_the_guest_exists(world, room):
    building = services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name="db-2",
        flavour=room.small,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
    )
    volume = new_volume(world, building)
    assert advance_volume(volume.pk) == VolumeStatus.CREATING  # made, waiting for the guest
    lifecycle.build(building.pk)
    assert reconcile_volumes_task.call_local() == 1
    assert Volume.objects.get(pk=volume.pk).status == VolumeStatus.IN_USE


def test_attaching_needs_an_instance_on_the_volumes_host(world, room, instance):
    volume = new_volume(world, instance)
    advance_volume(volume.pk)
    volumes.detach_volume(volume, actor=world.staff_a)
    advance_volume(volume.pk)
    volume.refresh_from_db()
    others = [
        services.create_instance(
            actor=world.staff_a,
            department=world.department_a,
            name=f"app-{n}",
            flavour=room.small,
            image=room.image,
            networks=[NetworkReach.GOV_EXTRANET],
        )
        for n in range(4)  # the pool packs: four fill the first host, the last goes on
    ]
    elsewhere = next(o for o in others if o.host_id != volume.host_id)
    lifecycle.build(elsewhere.pk)
    elsewhere.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        volumes.attach_volume(volume, actor=world.staff_a, instance=elsewhere)
    assert "instance" in refused.value.message_dict
    volumes.attach_volume(volume, actor=world.staff_a, instance=instance)
    assert advance_volume(volume.pk) == VolumeStatus.IN_USE


def test_quota_and_bad_input_refuse_and_change_nothing(world, room, instance):
    services.set_quota(
        Quota.objects.get(department=world.department_a),
        actor=world.operator,
        changes={"max_volumes": 1},
    )
    new_volume(world, instance)
    with pytest.raises(quotas.QuotaExceeded):
        new_volume(world, instance, name="second")
    with pytest.raises(ValidationError):
        new_volume(world, None, name="nowhere")
    with pytest.raises(Conflict):  # more than the host's disk
        services.set_quota(
            Quota.objects.get(department=world.department_a),
            actor=world.operator,
            changes={"max_volumes": 5, "max_disk_gb": 10**6},
        )
        new_volume(world, instance, size_gb=5000, name="huge")
    assert Volume.objects.count() == 1
    assert disk_claimed(instance.host) == 40 + 20


def test_another_department_cannot_touch_a_volume(world, room, instance):
    volume = new_volume(world, instance)
    for act in (volumes.detach_volume, volumes.delete_volume):
        with pytest.raises(PermissionDenied):
            act(volume, actor=world.staff_b)
    with pytest.raises(ValidationError):
        volumes.create_volume(
            actor=world.staff_b,
            department=world.department_b,
            name="steal",
            size_gb=1,
            instance=instance,
        )
    assert Volume.objects.get(pk=volume.pk).status == VolumeStatus.CREATING


def test_a_driver_failure_shows_on_the_volume_and_the_reconciler_retries_deletion(
    world, room, instance
):
    volume = new_volume(world, instance)
    hypervisor(room).fail_next("create_volume")
    assert advance_volume(volume.pk) == VolumeStatus.ERROR
    assert Volume.objects.get(pk=volume.pk).status_detail
    volumes.delete_volume(Volume.objects.get(pk=volume.pk), actor=world.staff_a)
    hypervisor(room).fail_next("delete_volume")
    assert advance_volume(volume.pk) == VolumeStatus.DELETING
    assert reconcile_volumes_task.call_local() == 1
    assert Volume.objects.get(pk=volume.pk).status == VolumeStatus.DELETED
    assert quota(world) == (0, 40)


def test_volumes_and_snapshots_through_the_api(world, room, instance, api_as):
    api = api_as(world.staff_a)
    made = api.post(
        "/api/v1/infrastructure/volumes/",
        {"name": "data", "size_gb": 10, "instance": instance.pk},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["status"] == "creating" and made.json()["host"] == instance.host.name
    volume_id = made.json()["id"]
    advance_volume(volume_id)
    snap = api.post(
        "/api/v1/infrastructure/snapshots/",
        {"volume": volume_id, "name": "s1"},
        format="json",
    )
    assert snap.status_code == 201, snap.json()
    busy = api.delete(f"/api/v1/infrastructure/volumes/{volume_id}/")
    assert busy.status_code == 409
    detached = api.post(f"/api/v1/infrastructure/volumes/{volume_id}/detach/")
    assert detached.status_code == 200 and detached.json()["status"] == "detaching"
    advance_volume(volume_id)
    again = api.post(
        f"/api/v1/infrastructure/volumes/{volume_id}/attach/",
        {"instance": instance.pk},
        format="json",
    )
    assert again.status_code == 200 and again.json()["status"] == "attaching"
    for bad in ({"name": "x", "size_gb": 0, "instance": instance.pk}, {"name": "x", "size_gb": 5}):
        refused = api.post("/api/v1/infrastructure/volumes/", bad, format="json")
        assert refused.status_code == 400
    assert Volume.objects.count() == 1


def test_a_department_orders_snapshots_and_deletes_a_volume_in_the_console(
    world, room, instance, client
):
    client.force_login(world.staff_a)
    ordered = client.post(
        "/infrastructure/volumes/new/", {"name": "data", "size_gb": 10, "instance": instance.pk}
    )
    assert ordered["Location"] == "/infrastructure/volumes/"
    volume = Volume.objects.get(name="data")
    advance_volume(volume.pk)
    page = client.get("/infrastructure/volumes/")
    assert b'data-status="in_use"' in page.content
    assert b"data (10 GB" in client.get(f"/infrastructure/instances/{instance.pk}/").content
    refused = client.post(f"/infrastructure/volumes/{volume.pk}/delete/", follow=True)
    assert Volume.objects.get(pk=volume.pk).status == VolumeStatus.IN_USE
    assert "detach" in refused.content.decode().lower() or "分离" in refused.content.decode()
    client.post(f"/infrastructure/volumes/{volume.pk}/snapshot/", {"name": "s1"})
    assert Snapshot.objects.get(volume=volume).name == "s1"
    advance_snapshot(Snapshot.objects.get(volume=volume).pk)
    client.post(f"/infrastructure/volumes/{volume.pk}/detach/")
    advance_volume(volume.pk)
    client.post(f"/infrastructure/volumes/{volume.pk}/attach/", {"attach-instance": instance.pk})
    assert advance_volume(volume.pk) == VolumeStatus.IN_USE
    client.post(f"/infrastructure/volumes/{volume.pk}/detach/")
    advance_volume(volume.pk)
    client.post(f"/infrastructure/volumes/{volume.pk}/delete/")
    assert advance_volume(volume.pk) == VolumeStatus.DELETED
    assert client.post(f"/infrastructure/volumes/{volume.pk}/resize/").status_code == 404


def test_another_department_cannot_act_on_a_volume_in_the_console(world, room, instance, client):
    volume = new_volume(world, instance)
    client.force_login(world.staff_b)
    assert b"data-volume" not in client.get("/infrastructure/volumes/").content
    for act in ("detach", "delete", "snapshot"):
        assert client.post(f"/infrastructure/volumes/{volume.pk}/{act}/").status_code == 404
    assert Volume.objects.get(pk=volume.pk).status == VolumeStatus.CREATING


def test_an_operator_sees_and_changes_the_volume_quota_through_the_api(world, instance, api_as):
    new_volume(world, instance)
    row = Quota.objects.get(department=world.department_a)
    api = api_as(world.operator)
    assert api.get(f"/api/v1/infrastructure/quotas/{row.pk}/").json()["used_volumes"] == 1
    below = api.patch(f"/api/v1/infrastructure/quotas/{row.pk}/", {"max_volumes": 0}, format="json")
    assert below.status_code == 400
    raised = api.patch(
        f"/api/v1/infrastructure/quotas/{row.pk}/", {"max_volumes": 40}, format="json"
    )
    assert raised.status_code == 200 and raised.json()["max_volumes"] == 40


def test_a_copy_in_progress_keeps_its_source(world, room, instance):
    volume = new_volume(world, instance)
    advance_volume(volume.pk)
    volumes.detach_volume(volume, actor=world.staff_a)
    advance_volume(volume.pk)
    snap = volumes.create_snapshot(Volume.objects.get(pk=volume.pk), actor=world.staff_a, name="s1")
    with pytest.raises(Conflict):  # the snapshot is still being taken
        volumes.delete_volume(Volume.objects.get(pk=volume.pk), actor=world.staff_a)
    advance_snapshot(snap.pk)
    copy = new_volume(world, None, name="copy", source=Snapshot.objects.get(pk=snap.pk))
    with pytest.raises(Conflict):  # a volume is still being copied from it
        volumes.delete_snapshot(Snapshot.objects.get(pk=snap.pk), actor=world.staff_a)
    advance_volume(copy.pk)
    volumes.delete_snapshot(Snapshot.objects.get(pk=snap.pk), actor=world.staff_a)
    assert advance_snapshot(snap.pk) == VolumeStatus.DELETED


def test_a_volume_is_made_beside_an_instance_on_a_host_in_maintenance(world, room, instance):
    from zhengyun.infrastructure import maintenance

    maintenance.start_maintenance(instance.host, actor=world.operator, reason="fan")
    volume = new_volume(world, Instance.objects.get(pk=instance.pk))
    assert disk_claimed(instance.host) == 40 + 20
    assert advance_volume(volume.pk) == VolumeStatus.IN_USE
