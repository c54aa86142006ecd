"""A department starts, stops and reboots its instances, from the console, the API and the
worker's durable job, on the simulator and on libvirt's test driver; a request the state
does not allow changes nothing; a hypervisor's refusal returns the instance to where it
was with the reason; a killed step is finished by the reconciler; an idle instance can be
stopped rather than released (R-I1, R-I3, R-G3)."""

import pytest
from django.utils import translation

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict, PermissionDenied
from zhengyun.infrastructure import (
    connections,
    instance_power,
    lifecycle,
    maintenance,
    power_lifecycle,
    reclamation,
    services,
)
from zhengyun.infrastructure.choices import InstanceStatus, ReclamationStatus
from zhengyun.infrastructure.drivers.base import GuestState
from zhengyun.infrastructure.models import Instance, ReclamationProposal
from zhengyun.infrastructure.tasks import reconcile_power_task
from zhengyun.infrastructure.tests.test_analytics import idle_proposal
from zhengyun.infrastructure.tests.test_drivers import needs_libvirt
from zhengyun.jobs.crash_points import Crash, crashing_at
from zhengyun.testing.lifecycle import build_crash_room, guests_by_provider, order, violations
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db

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
    connections.driver_for.cache_clear()


def running(world, room, name="web-1"):
    instance = order(world, room, name)
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE
    return Instance.objects.select_related("host__provider").get(pk=instance.pk)


def guest_state(instance):
    provider = instance.host.provider
    driver = connections.driver_for(provider.driver, provider.uri)
    return driver.guest(str(instance.uuid)).state


def status(instance):
    instance.refresh_from_db()
    return instance.status


def test_stop_start_and_reboot_reach_the_hypervisor(world, hypervisor):
    room, before = hypervisor
    instance = running(world, room)

    assert instance_power.stop_instance(instance, actor=world.staff_a).status == "stopping"
    assert guest_state(instance) == GuestState.RUNNING  # the worker does it, not the request
    assert power_lifecycle.advance(instance.pk) == InstanceStatus.STOPPED
    assert guest_state(instance) == GuestState.STOPPED

    assert instance_power.start_instance(instance, actor=world.staff_a).status == "starting"
    assert power_lifecycle.advance(instance.pk) == InstanceStatus.ACTIVE
    assert guest_state(instance) == GuestState.RUNNING

    assert instance_power.reboot_instance(instance, actor=world.staff_a).status == "rebooting"
    assert power_lifecycle.advance(instance.pk) == InstanceStatus.ACTIVE
    assert guest_state(instance) == GuestState.RUNNING
    assert power_lifecycle.advance(instance.pk) == InstanceStatus.ACTIVE  # nothing owed

    actions = AuditEvent.objects.filter(actor=world.staff_a, object_id=str(instance.pk))
    assert {
        "infrastructure.stop_instance",
        "infrastructure.start_instance",
        "infrastructure.reboot_instance",
    } <= set(actions.values_list("action", flat=True))
    assert violations(before) == []


def test_a_guest_already_stopped_counts_as_stopped(world, hypervisor):
    room, before = hypervisor
    instance = running(world, room)
    instance_power.stop_instance(instance, actor=world.staff_a)
    connections.driver_for(instance.host.provider.driver, instance.host.provider.uri).stop(
        str(instance.uuid)
    )
    assert power_lifecycle.advance(instance.pk) == InstanceStatus.STOPPED
    assert status(instance) == InstanceStatus.STOPPED and instance.status_detail == ""
    assert violations(before) == []


@pytest.fixture
def room(world):
    return build_machine_room(world)


def built(world, room, name="web-1"):
    instance = services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name=name,
        flavour=room.small,
        image=room.image,
        networks=["gov_extranet"],
    )
    lifecycle.build(instance.pk)
    return Instance.objects.select_related("host__provider").get(pk=instance.pk)


def test_a_request_the_state_does_not_allow_changes_nothing(world, room):
    instance = built(world, room)
    events = AuditEvent.objects.count()
    with translation.override("en"):
        with pytest.raises(Conflict) as refused:
            instance_power.start_instance(instance, actor=world.staff_a)
        assert "only a stopped instance can be started" in str(refused.value.message)
        assert "Running" in str(refused.value.message)
    assert status(instance) == InstanceStatus.ACTIVE
    assert AuditEvent.objects.count() == events

    instance_power.stop_instance(instance, actor=world.staff_a)
    for service in (
        instance_power.stop_instance,
        instance_power.start_instance,
        instance_power.reboot_instance,
    ):
        with pytest.raises(Conflict):  # not twice at once
            service(instance, actor=world.staff_a)
    assert status(instance) == InstanceStatus.STOPPING
    power_lifecycle.advance(instance.pk)
    with pytest.raises(Conflict):
        instance_power.reboot_instance(instance, actor=world.staff_a)
    assert status(instance) == InstanceStatus.STOPPED

    building = services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name="web-2",
        flavour=room.small,
        image=room.image,
        networks=["gov_extranet"],
    )
    with pytest.raises(Conflict):
        instance_power.stop_instance(building, actor=world.staff_a)
    assert status(building) == InstanceStatus.BUILDING


def test_only_the_department_changes_its_instances_power(world, room):
    instance = built(world, room)
    for outsider in (world.staff_b, world.operator, world.leader_a):
        with pytest.raises(PermissionDenied):
            instance_power.stop_instance(instance, actor=outsider)
    assert status(instance) == InstanceStatus.ACTIVE
    assert AuditEvent.objects.filter(actor=world.staff_b, result="denied").exists()


@pytest.mark.parametrize(
    ("service", "operation", "settled", "guest"),
    [
        (instance_power.stop_instance, "stop", InstanceStatus.ACTIVE, GuestState.RUNNING),
        (instance_power.reboot_instance, "reboot", InstanceStatus.ACTIVE, GuestState.RUNNING),
        (instance_power.start_instance, "start", InstanceStatus.STOPPED, GuestState.STOPPED),
    ],
    ids=["stop", "reboot", "start"],
)
def test_a_hypervisor_refusal_returns_to_the_settled_state_with_the_reason(
    world, room, service, operation, settled, guest
):
    instance = built(world, room)
    if settled == InstanceStatus.STOPPED:
        instance_power.stop_instance(instance, actor=world.staff_a)
        power_lifecycle.advance(instance.pk)
    service(instance, actor=world.staff_a)
    room.driver(room.extranet).fail_next(operation)

    assert power_lifecycle.advance(instance.pk) == settled
    instance.refresh_from_db()
    assert instance.status == settled and "失败" in instance.status_detail
    assert f"Simulated failure of {operation}" in instance.status_detail
    assert guest_state(instance) == guest
    assert AuditEvent.objects.filter(
        action="infrastructure.instance_status", object_id=str(instance.pk), result="failed"
    ).exists()
    # Nothing left for the reconciler, and the department may simply try again.
    assert reconcile_power_task.call_local() == 0
    transitional = service(instance, actor=world.staff_a).status
    _started_from, ends_in = instance_power.TRANSITIONS[transitional]
    assert power_lifecycle.advance(instance.pk) == ends_in
    assert Instance.objects.get(pk=instance.pk).status_detail == ""


@pytest.mark.parametrize("point", ["power.locked", "power.asked", "power.stopped", "power.marked"])
def test_the_reconciler_finishes_a_killed_stop(world, room, point):
    instance = built(world, room)
    instance_power.stop_instance(instance, actor=world.staff_a)
    with crashing_at(point), pytest.raises(Crash):
        power_lifecycle.advance(instance.pk)
    assert status(instance) == InstanceStatus.STOPPING  # the killed step's commit never came

    assert reconcile_power_task.call_local() == 1
    assert status(instance) == InstanceStatus.STOPPED
    assert guest_state(instance) == GuestState.STOPPED
    assert reconcile_power_task.call_local() == 0


def test_deleting_a_stopping_instance_supersedes_the_stop(world, room):
    instance = built(world, room)
    instance_power.stop_instance(instance, actor=world.staff_a)
    services.delete_instance(instance, actor=world.staff_a)
    assert power_lifecycle.advance(instance.pk) == InstanceStatus.DELETING  # nothing done
    assert lifecycle.destroy(instance.pk) == InstanceStatus.DELETED
    assert room.driver(room.extranet).guest(str(instance.uuid)).state == GuestState.MISSING
    assert reconcile_power_task.call_local() == 0
    assert violations() == []


def test_a_stopped_instance_can_be_resized_and_deleted(world, room):
    instance = built(world, room)
    instance_power.stop_instance(instance, actor=world.staff_a)
    power_lifecycle.advance(instance.pk)
    services.delete_instance(instance, actor=world.staff_a)
    assert lifecycle.destroy(instance.pk) == InstanceStatus.DELETED
    assert violations() == []


def test_the_api_starts_stops_and_reboots_with_problem_details(world, room, api_as):
    instance = built(world, room)
    url = f"/api/v1/infrastructure/instances/{instance.pk}"
    staff = api_as(world.staff_a)

    assert api_as(world.staff_b).post(f"{url}/stop/").status_code == 404
    assert api_as(world.operator).post(f"{url}/stop/").status_code == 403
    refused = staff.post(f"{url}/start/")
    assert refused.status_code == 409
    assert refused["Content-Type"].startswith("application/problem+json")
    assert status(instance) == InstanceStatus.ACTIVE

    stopping = staff.post(f"{url}/stop/")
    assert stopping.status_code == 200 and stopping.json()["status"] == "stopping"
    power_lifecycle.advance(instance.pk)
    assert staff.get(f"{url}/").json()["status"] == "stopped"
    assert staff.post(f"{url}/reboot/").status_code == 409
    assert staff.post(f"{url}/start/").json()["status"] == "starting"
    power_lifecycle.advance(instance.pk)
    assert staff.post(f"{url}/reboot/").json()["status"] == "rebooting"


def test_the_console_offers_what_the_state_allows(world, room, client):
    instance = built(world, room)
    page = f"/infrastructure/instances/{instance.pk}/"
    client.force_login(world.staff_a)
    shown = client.get(page).content.decode()
    assert f"{page}stop/" in shown and f"{page}reboot/" in shown and f"{page}start/" not in shown
    assert "停止" in shown and "重启" in shown

    response = client.post(f"{page}stop/")
    assert response.status_code == 302 and status(instance) == InstanceStatus.STOPPING
    shown = client.get(page).content.decode()
    assert 'data-testid="power"' not in shown  # nothing more until the worker has done it
    refused = client.post(f"{page}stop/", follow=True).content.decode()
    assert 'role="alert"' in refused or "停止" in refused
    power_lifecycle.advance(instance.pk)
    shown = client.get(page).content.decode()
    assert f"{page}start/" in shown and f"{page}stop/" not in shown

    client.force_login(world.staff_b)
    assert client.post(f"{page}start/").status_code == 404
    assert status(instance) == InstanceStatus.STOPPED


def test_an_idle_instance_is_stopped_rather_than_released(world, room, api_as, client):
    proposal = idle_proposal(world, room)
    with pytest.raises(PermissionDenied):
        reclamation.stop(proposal, actor=world.staff_b)
    client.force_login(world.staff_a)
    assert f"/infrastructure/reclamations/{proposal.pk}/stop/" in (
        client.get("/infrastructure/analytics/").content.decode()
    )

    url = f"/api/v1/infrastructure/reclamation-proposals/{proposal.pk}"
    assert api_as(world.staff_b).post(f"{url}/stop/").status_code == 404
    stopped = api_as(world.staff_a).post(f"{url}/stop/", {"reason": "季末再用"}, format="json")
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    instance = proposal.instance
    assert status(instance) == InstanceStatus.STOPPING
    assert AuditEvent.objects.filter(
        actor=world.staff_a, action="infrastructure.stop_instance"
    ).exists()
    power_lifecycle.advance(instance.pk)
    assert guest_state(instance) == GuestState.STOPPED

    assert reclamation.propose() == (0, 0)  # not proposed again while stopped
    assert ReclamationProposal.objects.get().status == ReclamationStatus.STOPPED
    again = api_as(world.staff_a).post(f"{url}/release/")
    assert again.status_code == 409


def test_stopping_an_idle_instance_from_the_console(world, room, client):
    proposal = idle_proposal(world, room)
    client.force_login(world.staff_a)
    client.post(f"/infrastructure/reclamations/{proposal.pk}/stop/")
    proposal.refresh_from_db()
    assert proposal.status == ReclamationStatus.STOPPED
    assert status(proposal.instance) == InstanceStatus.STOPPING


def test_no_power_change_while_the_instance_is_being_moved(world, room):
    instance = built(world, room)
    migration = maintenance.migrate_instance(instance, actor=world.operator)
    with pytest.raises(Conflict) as refused:
        instance_power.stop_instance(instance, actor=world.staff_a)
    assert "正在迁移" in str(refused.value.message)
    assert status(instance) == InstanceStatus.ACTIVE
    maintenance.migrate(migration.pk)
    instance_power.stop_instance(instance, actor=world.staff_a)
    assert power_lifecycle.advance(instance.pk) == InstanceStatus.STOPPED
    assert guest_state(Instance.objects.get(pk=instance.pk)) == GuestState.STOPPED
