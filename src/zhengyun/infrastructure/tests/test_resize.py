"""A department member resizes an instance to another flavour, within quota, on its own
host when it has the room and otherwise by a cold migration to another host of its pool;
a refusal changes nothing and says why; a hypervisor's refusal restores the old size. An
operator moves one instance to another host of its pool (R-I3, R-I4)."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict, PermissionDenied
from zhengyun.infrastructure import lifecycle, maintenance, resize, resize_lifecycle, services
from zhengyun.infrastructure.choices import (
    InstanceStatus,
    MigrationStatus,
    NetworkReach,
    ResizeStatus,
)
from zhengyun.infrastructure.drivers.base import GuestState
from zhengyun.infrastructure.models import Host, Instance, InstanceMigration, InstanceResize, Quota
from zhengyun.infrastructure.quotas import QuotaExceeded
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(world):
    room = build_machine_room(world)
    make = services.create_flavour
    room.large = make(actor=world.operator, name="s4.large", vcpus=4, memory_mb=8192, disk_gb=40)
    room.lean = make(actor=world.operator, name="s1.lean", vcpus=1, memory_mb=2048, disk_gb=40)
    room.tight = make(actor=world.operator, name="s2.tight", vcpus=2, memory_mb=4096, disk_gb=20)
    # Fills the rest of a host's 16 GB next to a small instance.
    room.filler = make(actor=world.operator, name="m2.fill", vcpus=2, memory_mb=12288, disk_gb=40)
    return room


def built(world, room, name, flavour=None):
    instance = services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name=name,
        flavour=flavour or room.small,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
    )
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE
    return Instance.objects.select_related("host").get(pk=instance.pk)


def figures(world, room):
    """Quota in use, every extranet host's claims, and what the instances add up to."""
    quota = Quota.objects.get(department=world.department_a)
    hosts = {
        h.pk: (h.used_vcpus, h.used_memory_mb, h.used_disk_gb)
        for h in Host.objects.filter(pool=room.extranet)
    }
    expected = dict.fromkeys(hosts, (0, 0, 0))
    live = Instance.objects.exclude(status=InstanceStatus.DELETED)
    for i in live:
        v, m, d = expected[i.host_id]
        expected[i.host_id] = (v + i.vcpus, m + i.memory_mb, d + i.disk_gb)
    used = (quota.used_vcpus, quota.used_memory_mb, quota.used_disk_gb)
    wanted = tuple(sum(getattr(i, f) for i in live) for f in ("vcpus", "memory_mb", "disk_gb"))
    return {"quota": used, "quota_expected": wanted, "hosts": hosts, "hosts_expected": expected}


def consistent(world, room):
    now = figures(world, room)
    return now["quota"] == now["quota_expected"] and now["hosts"] == now["hosts_expected"]


def guest(room, instance):
    return room.driver(room.extranet).guest(str(instance.uuid))


def finish(instance):
    (open_resize,) = InstanceResize.objects.filter(instance=instance, status="resizing")
    return resize_lifecycle.advance_resize(open_resize.pk)


def test_an_instance_grows_on_its_own_host_when_it_has_the_room(world, room):
    instance = built(world, room, "web-1")
    source = instance.host

    resized = resize.resize_instance(instance, actor=world.staff_a, flavour=room.large)

    assert resized.status == InstanceStatus.RESIZING
    # Taken at once: the growth on the quota and on the host.
    assert figures(world, room)["quota"] == (4, 8192, 40)
    assert Host.objects.get(pk=source.pk).used_vcpus == 4
    assert finish(instance) == ResizeStatus.DONE

    instance.refresh_from_db()
    assert (instance.status, instance.flavour, instance.host) == ("active", room.large, source)
    assert (instance.vcpus, instance.memory_mb, instance.disk_gb) == (4, 8192, 40)
    seen = guest(room, instance)
    assert (seen.vcpus, seen.memory_mb, seen.host, seen.state) == (4, 8192, source.name, "running")
    assert consistent(world, room)
    assert AuditEvent.objects.filter(
        action="infrastructure.resize_instance", actor=world.staff_a, object_id=str(instance.pk)
    ).exists()


def test_shrinking_vcpus_and_memory_gives_back_quota_and_host_once_done(world, room):
    instance = built(world, room, "web-1", flavour=room.large)
    resize.resize_instance(instance, actor=world.staff_a, flavour=room.lean)
    # Nothing is given back before the hypervisor has the smaller size.
    assert figures(world, room)["quota"] == (4, 8192, 40)
    finish(instance)
    assert figures(world, room)["quota"] == (1, 2048, 40)
    assert consistent(world, room)
    assert guest(room, instance).vcpus == 1


def test_without_room_on_its_host_the_instance_moves_stopped_and_starts_again(world, room):
    instance = built(world, room, "web-1")
    filler = built(world, room, "fill", flavour=room.filler)
    source = instance.host
    assert filler.host == source  # packed: the host's memory is now all claimed

    resize.resize_instance(instance, actor=world.staff_a, flavour=room.large)
    (record,) = InstanceResize.objects.filter(instance=instance)
    assert record.moves and record.target != source
    # The whole new size is claimed on the target until the old one is released.
    assert Host.objects.get(pk=record.target_id).used_memory_mb == 8192
    finish(instance)

    instance.refresh_from_db()
    assert instance.host == record.target and instance.status == InstanceStatus.ACTIVE
    seen = guest(room, instance)
    assert (seen.host, seen.state, seen.memory_mb) == (record.target.name, "running", 8192)
    assert consistent(world, room)
    assert Host.objects.get(pk=source.pk).used_memory_mb == 12288


def test_a_stopped_instance_stays_stopped(world, room):
    instance = built(world, room, "web-1")
    room.driver(room.extranet).stop(str(instance.uuid))
    Instance.objects.filter(pk=instance.pk).update(status=InstanceStatus.STOPPED)
    resize.resize_instance(instance, actor=world.staff_a, flavour=room.large)
    finish(instance)
    assert Instance.objects.get(pk=instance.pk).status == InstanceStatus.STOPPED
    assert guest(room, instance).state == GuestState.STOPPED


def unchanged(world, room, instance, before):
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.ACTIVE and instance.flavour == room.small
    assert figures(world, room) == before
    assert not InstanceResize.objects.exists()


def test_a_disk_never_shrinks(world, room):
    instance = built(world, room, "web-1")
    before = figures(world, room)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        resize.resize_instance(instance, actor=world.staff_a, flavour=room.tight)
    message = refused.value.message_dict["flavour"][0]
    assert "cannot shrink" in message and "40 GB" in message and "20 GB" in message
    unchanged(world, room, instance, before)


def test_past_the_quota_nothing_changes(world, room):
    instance = built(world, room, "web-1")
    quota = Quota.objects.get(department=world.department_a)
    services.set_quota(quota, actor=world.operator, changes={"max_vcpus": 3})
    before = figures(world, room)
    with pytest.raises(QuotaExceeded) as refused:
        resize.resize_instance(instance, actor=world.staff_a, flavour=room.large)
    assert refused.value.exceeded[0]["resource"] == "vcpus"
    unchanged(world, room, instance, before)


def test_when_no_host_fits_the_scheduler_says_why_and_nothing_changes(world, room):
    instance = built(world, room, "web-1")
    before = figures(world, room)
    with translation.override("en"), pytest.raises(Conflict) as refused:
        resize.resize_instance(instance, actor=world.staff_a, flavour=room.huge)
    assert "No host" in str(refused.value.message) and "memory" in str(refused.value.message)
    unchanged(world, room, instance, before)


def test_only_its_department_resizes_an_instance_and_not_twice_at_once(world, room):
    instance = built(world, room, "web-1")
    with pytest.raises(PermissionDenied):
        resize.resize_instance(instance, actor=world.operator, flavour=room.large)
    resize.resize_instance(instance, actor=world.staff_a, flavour=room.large)
    with pytest.raises(Conflict):
        resize.resize_instance(instance, actor=world.staff_a, flavour=room.lean)
    with pytest.raises(Conflict):  # its claims are the resize's until the job is done
        services.delete_instance(instance, actor=world.staff_a)
    assert InstanceResize.objects.count() == 1


def test_a_bigger_disk_grows_the_guests_and_a_refusal_leaves_it_as_it_was(world, room):
    roomy = services.create_flavour(
        actor=world.operator, name="s2.roomy", vcpus=2, memory_mb=4096, disk_gb=80
    )
    instance, other = built(world, room, "db-1"), built(world, room, "db-2")
    driver = room.driver(room.extranet)

    resize.resize_instance(instance, actor=world.staff_a, flavour=roomy)
    assert finish(instance) == ResizeStatus.DONE
    assert driver.grow_disk(str(instance.uuid), 0) == 80  # asking for less reads the size

    before = figures(world, room)
    resize.resize_instance(other, actor=world.staff_a, flavour=roomy)
    driver.fail_next("grow_disk")
    assert finish(other) == ResizeStatus.FAILED
    other.refresh_from_db()
    assert (other.flavour, other.disk_gb) == (room.small, 40)
    assert driver.grow_disk(str(other.uuid), 0) == 40
    assert figures(world, room) == before and consistent(world, room)

    # A start refused after the new size: the disk has not grown yet, so none is left over.
    resize.resize_instance(other, actor=world.staff_a, flavour=roomy)
    driver.fail_next("start")
    assert finish(other) == ResizeStatus.FAILED
    assert driver.grow_disk(str(other.uuid), 0) == 40
    assert figures(world, room) == before and consistent(world, room)


@pytest.mark.parametrize("moving", [False, True], ids=["in_place", "moving"])
def test_a_hypervisor_refusal_restores_the_old_size_with_the_reason(world, room, moving):
    instance = built(world, room, "web-1")
    source = instance.host
    if moving:
        built(world, room, "fill", flavour=room.filler)
    before = figures(world, room)
    resize.resize_instance(instance, actor=world.staff_a, flavour=room.large)
    room.driver(room.extranet).fail_next("resize")

    assert finish(instance) == ResizeStatus.FAILED

    instance.refresh_from_db()
    assert (instance.status, instance.flavour, instance.host) == ("active", room.small, source)
    assert "s4.large" in instance.status_detail and "resize" in instance.status_detail
    seen = guest(room, instance)
    assert (seen.host, seen.state, seen.vcpus, seen.memory_mb) == (source.name, "running", 2, 4096)
    assert figures(world, room) == before and consistent(world, room)
    assert resize_lifecycle.advance_resize(InstanceResize.objects.get().pk) == "failed"  # once


def test_the_api_resizes_and_refuses_with_problem_details(world, room, api_as):
    instance = built(world, room, "web-1")
    url = f"/api/v1/infrastructure/instances/{instance.pk}/resize/"
    staff = api_as(world.staff_a)

    shrink = staff.post(url, {"flavour": room.tight.pk}, format="json")
    assert shrink.status_code == 400 and "flavour" in str(shrink.json())
    assert shrink["Content-Type"].startswith("application/problem+json")
    assert staff.post(url, {}, format="json").status_code == 400
    assert staff.post(url, {"flavour": room.huge.pk}, format="json").status_code == 409
    assert api_as(world.operator).post(url, {"flavour": room.large.pk}).status_code == 403
    assert api_as(world.staff_b).post(url, {"flavour": room.large.pk}).status_code == 404

    done = staff.post(url, {"flavour": room.large.pk}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "resizing"


def test_an_operator_moves_one_instance_and_the_job_is_the_drains(world, room):
    instance = built(world, room, "web-1")
    source = instance.host
    with pytest.raises(PermissionDenied):
        maintenance.migrate_instance(instance, actor=world.staff_a)
    assert not InstanceMigration.objects.exists()
    assert AuditEvent.objects.filter(actor=world.staff_a, result="denied").exists()

    migration = maintenance.migrate_instance(instance, actor=world.operator)
    assert migration.status == MigrationStatus.MIGRATING and migration.target != source
    assert AuditEvent.objects.filter(
        actor=world.operator, action="infrastructure.migrate_instance"
    ).exists()
    with pytest.raises(Conflict):
        maintenance.migrate_instance(instance, actor=world.operator)
    with pytest.raises(Conflict):
        resize.resize_instance(instance, actor=world.staff_a, flavour=room.large)
    assert maintenance.migrate(migration.pk) == MigrationStatus.DONE

    instance.refresh_from_db()
    assert instance.host == migration.target
    assert guest(room, instance).host == migration.target.name
    assert consistent(world, room)


def test_an_operator_may_choose_the_host_which_the_schedulers_filters_check(world, room):
    instance = built(world, room, "web-1")
    (other,) = Host.objects.filter(pool=room.extranet).exclude(pk=instance.host_id)
    elsewhere = Host.objects.filter(pool=room.intranet).first()
    with pytest.raises(ValidationError):
        maintenance.migrate_instance(instance, actor=world.operator, target=elsewhere)
    with pytest.raises(ValidationError):
        maintenance.migrate_instance(instance, actor=world.operator, target=instance.host)
    maintenance.start_maintenance(other, actor=world.operator, reason="fan")
    with translation.override("en"), pytest.raises(Conflict) as refused:
        maintenance.migrate_instance(instance, actor=world.operator, target=other)
    assert "maintenance" in str(refused.value.message).lower()
    maintenance.end_maintenance(other, actor=world.operator)

    migration = maintenance.migrate_instance(instance, actor=world.operator, target=other)
    assert migration.target == other
    maintenance.migrate(migration.pk)
    assert Instance.objects.get(pk=instance.pk).host == other
    assert consistent(world, room)


def test_the_api_moves_an_instance_for_operators_only(world, room, api_as):
    instance = built(world, room, "web-1")
    url = f"/api/v1/infrastructure/instances/{instance.pk}/migrate/"
    assert api_as(world.staff_a).post(url, {}, format="json").status_code == 403
    bad = api_as(world.operator).post(url, {"target": 10**6}, format="json")
    assert bad.status_code == 400
    moved = api_as(world.operator).post(url, {}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["status"] == "migrating" and moved.json()["source"] == instance.host_id


def test_the_instance_page_offers_resize_to_members_and_moving_to_operators(world, room, client):
    instance = built(world, room, "web-1")
    page = f"/infrastructure/instances/{instance.pk}/"
    client.force_login(world.staff_a)
    shown = client.get(page).content.decode()
    assert 'data-testid="resize"' in shown and 'data-testid="migrate"' not in shown
    client.post(f"{page}resize/", {"resize-flavour": room.tight.pk})
    assert Instance.objects.get(pk=instance.pk).status == InstanceStatus.ACTIVE
    assert client.post(f"{page}migrate/", {}).status_code == 403

    client.force_login(world.operator)
    shown = client.get(page).content.decode()
    assert 'data-testid="migrate"' in shown and 'data-testid="resize"' not in shown
    assert client.post(f"{page}migrate/", {}).status_code == 302
    (migration,) = InstanceMigration.objects.filter(instance=instance, status="migrating")
    maintenance.migrate(migration.pk)

    client.force_login(world.staff_a)
    assert client.post(f"{page}resize/", {"resize-flavour": room.large.pk}).status_code == 302
    assert Instance.objects.get(pk=instance.pk).status == InstanceStatus.RESIZING
    room.driver(room.extranet).fail_next("resize")
    finish(instance)
    with translation.override("zh-hans"):
        shown = client.get(page).content.decode()
    # The department sees its resize and why it failed, not the operator's move.
    assert "s4.large" in shown and "无法调整规格" in shown and "Simulated failure" in shown
    assert shown.split('data-testid="moves"')[1].split("</section>")[0].count("<li>") == 1


def test_a_full_host_whose_volumes_keep_the_instance_refuses_to_grow_it(world, room):
    from zhengyun.infrastructure import volumes
    from zhengyun.infrastructure.volume_lifecycle import advance_volume

    instance = built(world, room, "db-1")
    built(world, room, "fill", flavour=room.filler)
    volume = volumes.create_volume(
        actor=world.staff_a,
        department=world.department_a,
        name="data",
        size_gb=10,
        instance=instance,
    )
    advance_volume(volume.pk)
    before = figures(world, room)
    with translation.override("en"), pytest.raises(Conflict) as refused:
        resize.resize_instance(instance, actor=world.staff_a, flavour=room.large)
    assert "volumes" in str(refused.value.message) and str(instance.host) in str(
        refused.value.message
    )
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.ACTIVE and figures(world, room) == before


def test_a_volume_ordered_before_a_resize_is_attached_once_it_is_done(world, room):
    from zhengyun.infrastructure import volumes
    from zhengyun.infrastructure.choices import VolumeStatus
    from zhengyun.infrastructure.volume_lifecycle import advance_volume

    instance = built(world, room, "db-1")
    volume = volumes.create_volume(
        actor=world.staff_a,
        department=world.department_a,
        name="data",
        size_gb=10,
        instance=instance,
    )
    resize.resize_instance(instance, actor=world.staff_a, flavour=room.large)
    assert advance_volume(volume.pk) == VolumeStatus.CREATING  # made, not yet attached
    finish(instance)
    assert advance_volume(volume.pk) == VolumeStatus.IN_USE
    assert room.driver(room.extranet).volume(str(volume.uuid)).guest == str(instance.uuid)
