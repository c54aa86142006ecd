"""Region quotas (R-I3): a region limits what all the departments below it hold together,
on top of each department's own quota; the last slot goes to exactly one order, a limit is
never set below what is held, and departments see the limits above them."""

import re
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from zhengyun.core.exceptions import PermissionDenied
from zhengyun.infrastructure import lifecycle, quotas, region_quotas, services
from zhengyun.infrastructure.models import Instance, Quota
from zhengyun.infrastructure.tests.test_instances import order
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(world):
    return build_machine_room(world, hosts=4)


def limit(world, region, **limits):
    return region_quotas.create_region_quota(actor=world.operator, region=region, **limits)


def used(department):
    return Quota.objects.get_or_create(department=department)[0].used_instances


def test_a_province_limit_binds_its_departments_together(world, room):
    limit(world, world.province, max_instances=3, max_vcpus=None)
    order(world, room, name="a-1")
    order(world, room, name="a-2")
    order(world, room, actor=world.staff_b, name="b-1")

    with pytest.raises(quotas.QuotaExceeded) as refused:
        order(world, room, actor=world.staff_b, name="b-2")
    assert refused.value.exceeded == [
        {"resource": "instances", "region": "990000", "limit": 3, "in_use": 3, "requested": 1}
    ]
    assert "示范省" in refused.value.message
    assert used(world.department_b) == 1 and not Instance.objects.filter(name="b-2").exists()

    # A deletion gives the slot back to the whole province.
    gone = Instance.objects.get(name="a-1")
    lifecycle.build(gone.pk)
    services.delete_instance(Instance.objects.get(pk=gone.pk), actor=world.staff_a)
    lifecycle.destroy(gone.pk)
    assert order(world, room, actor=world.staff_b, name="b-2").pk


def test_a_prefecture_limit_leaves_the_other_prefecture_alone(world, room):
    limit(world, world.prefecture_a, max_vcpus=4)
    order(world, room, name="a-1")
    order(world, room, name="a-2")
    with pytest.raises(quotas.QuotaExceeded):
        order(world, room, name="a-3")
    for n in range(3):
        order(world, room, actor=world.staff_b, name=f"b-{n}")
    assert used(world.department_b) == 3


def test_a_limit_is_never_set_below_what_is_held_and_can_be_lifted(world, room):
    order(world, room, name="a-1")
    order(world, room, actor=world.staff_b, name="b-1")
    with pytest.raises(ValidationError) as refused:
        limit(world, world.province, max_instances=1)
    assert "max_instances" in refused.value.message_dict
    quota = limit(world, world.province, max_instances=2)
    with pytest.raises(ValidationError):
        region_quotas.set_region_quota(quota, actor=world.operator, changes={"max_instances": 1})
    with pytest.raises(ValidationError):
        region_quotas.set_region_quota(
            quota, actor=world.operator, changes={"region": world.county_a}
        )
    with pytest.raises(quotas.QuotaExceeded):
        order(world, room, name="a-2")
    region_quotas.delete_region_quota(quota, actor=world.operator)
    assert order(world, room, name="a-2").pk


def test_only_operators_set_region_limits(world):
    for person in (world.staff_a, world.admin_a, world.supervisor_a, world.sysadmin):
        with pytest.raises(PermissionDenied):
            limit_as(person, world.province)


def limit_as(person, region):
    return region_quotas.create_region_quota(actor=person, region=region, max_instances=5)


def test_departments_see_the_limits_above_them_through_the_api(world, api_as):
    province = limit(world, world.province, max_instances=50)
    limit(world, world.prefecture_b, max_instances=20)
    seen = api_as(world.staff_a).get("/api/v1/infrastructure/region-quotas/").json()["results"]
    assert [row["id"] for row in seen] == [province.pk]
    assert seen[0]["in_use"]["instances"] == 0 and seen[0]["max_vcpus"] is None

    operator = api_as(world.operator)
    made = operator.post(
        "/api/v1/infrastructure/region-quotas/",
        {"region": world.prefecture_a.pk, "max_volumes": 10},
        format="json",
    )
    assert made.status_code == 201 and made.json()["max_volumes"] == 10
    again = operator.post(
        "/api/v1/infrastructure/region-quotas/", {"region": world.prefecture_a.pk}, format="json"
    )
    assert again.status_code == 409
    changed = operator.patch(
        f"/api/v1/infrastructure/region-quotas/{made.json()['id']}/",
        {"max_volumes": 12},
        format="json",
    )
    assert changed.status_code == 200 and changed.json()["max_volumes"] == 12
    refused = api_as(world.staff_a).post(
        "/api/v1/infrastructure/region-quotas/", {"region": world.county_a.pk}, format="json"
    )
    assert refused.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_departments_racing_for_a_regions_last_slot_get_it_once(world):
    room = build_machine_room(world, hosts=4)
    limit(world, world.province, max_instances=1)
    outcomes, start = [], threading.Barrier(10 if connection.vendor == "sqlite" else 40)

    def attempt(n):
        try:
            start.wait()
            actor = world.staff_a if n % 2 else world.staff_b
            order(world, room, actor=actor, name=f"race-{n}")
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
    assert used(world.department_a) + used(world.department_b) == 1


@pytest.mark.django_db(transaction=True)
def test_a_limit_made_while_an_order_is_in_flight_counts_that_order(world):
    from django.db import transaction

    held = quotas.region_in_use(world.province)["instances"]
    taken, outcome = threading.Event(), []

    def order_in_flight():
        try:
            with transaction.atomic():
                quotas.take(world.department_a, {"instances": 1})
                taken.set()
                time.sleep(1)  # the operator sets the limit meanwhile
        finally:
            connection.close()

    def set_limit():
        try:
            taken.wait()
            limit(world, world.province, max_instances=held)
            outcome.append("set")
        except ValidationError as exc:
            outcome.append(exc.message_dict["max_instances"][0])
        finally:
            connection.close()

    threads = [threading.Thread(target=order_in_flight), threading.Thread(target=set_limit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Refused, naming what is held with the order that was in flight.
    assert len(outcome) == 1 and outcome[0] != "set"
    assert re.search(r"[(（](\d+)[)）]", outcome[0]).group(1) == str(held + 1)


def test_the_instances_page_shows_the_limits_above_the_department(world, room, client):
    limit(world, world.province, max_instances=7)
    limit(world, world.prefecture_b, max_instances=4)
    order(world, room, name="a-1")
    order(world, room, actor=world.staff_b, name="b-1")
    client.force_login(world.staff_a)
    page = client.get("/infrastructure/instances/").content.decode()
    assert "地区配额" in page and "示范省" in page and "2 / 7" in page
    assert "乙市" not in page
