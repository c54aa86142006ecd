"""A department orders instances within its quota; the scheduler places them where the
system may run (network reach, graded-protection level) and says why; the worker builds
and deletes them on the hypervisor, and a step killed half-way is finished later (R-I1,
R-I3, R-I4)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from zhengyun.audit.models import AuditEvent
from zhengyun.infrastructure import lifecycle, quotas, services
from zhengyun.infrastructure.choices import InstanceStatus, NetworkReach
from zhengyun.infrastructure.drivers.base import GuestState
from zhengyun.infrastructure.models import ComputeProvider, Host, Instance, Quota
from zhengyun.infrastructure.placement import NoValidHost
from zhengyun.infrastructure.tasks import reconcile_instances_task
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(world):
    return build_machine_room(world)


def order(world, room, actor=None, **spec):
    spec.setdefault("name", "web-1")
    spec.setdefault("flavour", room.small)
    spec.setdefault("image", room.image)
    spec.setdefault("networks", [NetworkReach.GOV_EXTRANET])
    actor = actor or world.staff_a
    return services.create_instance(actor=actor, department=actor.department, **spec)


def quota_of(department):
    return Quota.objects.get_or_create(department=department)[0]


def claimed(host):
    host.refresh_from_db()
    return host.used_vcpus, host.used_memory_mb, host.used_disk_gb


def test_an_ordered_instance_is_placed_claimed_and_built(world, room):
    instance = order(world, room)
    assert instance.status == InstanceStatus.BUILDING and instance.host is not None
    assert instance.placement["host"] == f"sim-1/{instance.host.name}"
    assert claimed(instance.host) == (2, 4096, 40)
    quota = Quota.objects.get(department=world.department_a)
    assert (quota.used_instances, quota.used_vcpus) == (1, 2)

    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE
    guest = room.driver(room.extranet).guest(str(instance.uuid))
    assert (guest.state, guest.host) == (GuestState.RUNNING, instance.host.name)
    assert AuditEvent.objects.filter(
        action="infrastructure.create_instance", actor=world.staff_a, object_id=str(instance.pk)
    ).exists()


def test_registering_a_provider_pools_its_hosts_and_is_audited(world, room):
    assert room.extranet.hosts.count() == 2
    event = AuditEvent.objects.get(
        action="infrastructure.pool_hosts", object_id=str(room.extranet.providers.get().pk)
    )
    assert event.actor == world.operator and "sim-0001,sim-0002" in event.detail


def test_a_provider_that_does_not_answer_is_refused_and_changes_nothing(world, room):
    with pytest.raises(ValidationError):
        services.register_provider(
            actor=world.operator, pool=room.extranet, name="nope", driver="nope", uri="x://"
        )
    assert not ComputeProvider.objects.filter(name="nope").exists()


def test_a_level_3_system_lands_only_on_a_pool_certified_for_it(world, room):
    instance = order(world, room, protection_level=3, networks=[NetworkReach.GOV_INTERNAL])
    assert instance.host.pool == room.intranet
    with pytest.raises(NoValidHost) as refused:
        order(world, room, name="web-2", protection_level=4, networks=[])
    assert refused.value.extra()["placement"]["host"] is None


def test_what_no_host_can_take_is_refused_with_reasons_and_changes_nothing(world, room):
    before = list(Host.objects.values_list("used_vcpus", flat=True))
    with pytest.raises(NoValidHost) as refused:
        order(world, room, flavour=room.huge)
    assert refused.value.extra()["placement"]["reasons"]
    assert not Instance.objects.exists()
    assert list(Host.objects.values_list("used_vcpus", flat=True)) == before
    assert not Quota.objects.filter(used_instances__gt=0).exists()


def test_the_quota_refuses_and_changes_nothing(world, room):
    services.set_quota(quota_of(world.department_a), actor=world.operator, changes={"max_vcpus": 3})
    order(world, room)
    with pytest.raises(quotas.QuotaExceeded) as refused:
        order(world, room, name="web-2")
    assert refused.value.extra()["exceeded"][0]["resource"] == "vcpus"
    assert Instance.objects.count() == 1
    assert Quota.objects.get(department=world.department_a).used_vcpus == 2


def test_a_quota_cannot_be_set_below_what_is_in_use(world, room):
    order(world, room)
    quota = Quota.objects.get(department=world.department_a)
    with pytest.raises(ValidationError):
        services.set_quota(quota, actor=world.operator, changes={"max_instances": 0})
    assert Quota.objects.get(pk=quota.pk).max_instances == 10


def test_deleting_removes_the_guest_and_gives_back_host_and_quota(world, room):
    instance = order(world, room)
    lifecycle.build(instance.pk)
    services.delete_instance(instance, actor=world.staff_a)
    assert Instance.objects.get(pk=instance.pk).status == InstanceStatus.DELETING
    assert lifecycle.destroy(instance.pk) == InstanceStatus.DELETED
    assert room.driver(room.extranet).guest(str(instance.uuid)).state == GuestState.MISSING
    assert claimed(instance.host) == (0, 0, 0)
    assert Quota.objects.get(department=world.department_a).used_instances == 0
    assert lifecycle.destroy(instance.pk) == InstanceStatus.DELETED  # again: nothing more


def test_a_build_killed_after_defining_is_finished_without_a_second_guest(world, room):
    instance = order(world, room)
    driver = room.driver(room.extranet)
    # The worker died after defining the guest, before marking the instance.
    driver.define(instance.host.name, lifecycle._spec(instance))
    assert reconcile_instances_task.call_local() == 1
    assert Instance.objects.get(pk=instance.pk).status == InstanceStatus.ACTIVE
    assert [g.name for g in driver.guests()] == [str(instance.uuid)]


def test_a_hypervisor_failure_leaves_a_visible_error(world, room):
    instance = order(world, room)
    room.driver(room.extranet).fail_next("define")
    assert lifecycle.build(instance.pk) == InstanceStatus.ERROR
    assert Instance.objects.get(pk=instance.pk).status_detail


def test_other_departments_neither_see_nor_delete_an_instance(world, room, client):
    instance = order(world, room)
    client.force_login(world.staff_b)
    assert client.get(f"/infrastructure/instances/{instance.pk}/").status_code == 404
    assert client.post(f"/infrastructure/instances/{instance.pk}/delete/").status_code == 404
    assert Instance.objects.get(pk=instance.pk).status == InstanceStatus.BUILDING


def test_ordering_through_the_console_shows_the_placement(world, room, client):
    client.force_login(world.staff_a)
    response = client.post(
        "/infrastructure/instances/new/",
        {
            "name": "app-1",
            "flavour": room.small.pk,
            "image": room.image.pk,
            "protection_level": 2,
            "networks": [NetworkReach.GOV_EXTRANET],
        },
    )
    instance = Instance.objects.get(name="app-1")
    assert response["Location"] == f"/infrastructure/instances/{instance.pk}/"
    page = client.get(response["Location"])
    assert instance.host.name.encode() in page.content
    full = client.post(
        "/infrastructure/instances/new/",
        {"name": "app-2", "flavour": room.huge.pk, "image": room.image.pk, "protection_level": 2},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert full.status_code == 200 and b"No host can take this instance" in full.content


def test_ordering_through_the_api(world, room, api_as):
    api = api_as(world.staff_a)
    created = api.post(
        "/api/v1/infrastructure/instances/",
        {"name": "api-1", "flavour": room.small.pk, "image": room.image.pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "building" and created.json()["placement"]["host"]
    refused = api.post(
        "/api/v1/infrastructure/instances/",
        {"name": "api-2", "flavour": room.huge.pk, "image": room.image.pk},
        format="json",
    )
    assert refused.status_code == 409 and refused.json()["code"] == "no_valid_host"
    assert (
        api.delete(f"/api/v1/infrastructure/instances/{created.json()['id']}/").status_code == 204
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_for_the_last_quota_slot_give_exactly_one_instance(world):
    room = build_machine_room(world, hosts=4)
    services.set_quota(
        quota_of(world.department_a), actor=world.operator, changes={"max_instances": 1}
    )
    outcomes, start = [], threading.Barrier(10 if connection.vendor == "sqlite" else 50)

    def attempt(n):
        try:
            start.wait()
            order(world, room, name=f"race-{n}")
            outcomes.append("ok")
        except quotas.QuotaExceeded:
            outcomes.append("quota")
        except Exception as exc:  # collected and asserted below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(start.parties)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(outcomes)) == ["ok", "quota"] and outcomes.count("ok") == 1
    assert Instance.objects.count() == 1
    assert Quota.objects.get(department=world.department_a).used_instances == 1
