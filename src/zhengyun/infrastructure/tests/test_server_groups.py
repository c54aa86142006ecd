"""Server groups (R-I4): members of an anti-affinity group never share a host, those of an
affinity group always do — also when ordered at the same moment — and a group is the
department's own."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure import lifecycle, server_groups, services
from zhengyun.infrastructure.choices import GroupPolicy
from zhengyun.infrastructure.models import Instance, ServerGroup
from zhengyun.infrastructure.placement import NoValidHost
from zhengyun.infrastructure.tests.test_instances import order
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db


def group(world, policy, actor=None):
    actor = actor or world.staff_a
    return server_groups.create_server_group(
        actor=actor, department=actor.department, name=f"g-{policy}", policy=policy
    )


def test_anti_affinity_members_never_share_a_host(world):
    room = build_machine_room(world, hosts=3)
    apart = group(world, GroupPolicy.ANTI_AFFINITY)
    members = [order(world, room, name=f"db-{n}", server_group=apart) for n in range(3)]
    assert len({m.host_id for m in members}) == 3  # pack alone would stack them on one host
    with pytest.raises(NoValidHost):
        order(world, room, name="db-3", server_group=apart)  # every host has one already
    assert order(world, room, name="other").host_id in {m.host_id for m in members}


def test_affinity_members_share_their_first_members_host(world):
    room = build_machine_room(world, hosts=3)
    together = group(world, GroupPolicy.AFFINITY)
    first = order(world, room, name="app-0", server_group=together)
    for n in range(1, 4):
        assert order(world, room, name=f"app-{n}", server_group=together).host_id == first.host_id
    # Four s2.medium fill a host's 16 GB: the fifth member has nowhere to go, although the
    # other hosts are empty.
    with pytest.raises(NoValidHost):
        order(world, room, name="app-4", server_group=together)
    assert {i.host_id for i in Instance.objects.filter(server_group=together)} == {first.host_id}


def test_a_group_is_its_departments_and_goes_when_its_members_have(world):
    room = build_machine_room(world)
    theirs = group(world, GroupPolicy.ANTI_AFFINITY, actor=world.staff_b)
    with pytest.raises(ValidationError) as refused:
        order(world, room, server_group=theirs)
    assert "server_group" in refused.value.message_dict
    mine = group(world, GroupPolicy.ANTI_AFFINITY)
    member = order(world, room, server_group=mine)
    with pytest.raises(Conflict):
        server_groups.delete_server_group(mine, actor=world.staff_a)
    lifecycle.build(member.pk)
    services.delete_instance(Instance.objects.get(pk=member.pk), actor=world.staff_a)
    lifecycle.destroy(member.pk)
    server_groups.delete_server_group(mine, actor=world.staff_a)
    assert not ServerGroup.objects.filter(pk=mine.pk).exists()
    member.refresh_from_db()
    assert member.server_group is None


@pytest.mark.django_db(transaction=True)
def test_anti_affinity_orders_at_the_same_moment_still_land_apart(world):
    room = build_machine_room(world, hosts=4)
    apart = group(world, GroupPolicy.ANTI_AFFINITY)
    start, outcomes = threading.Barrier(4), []

    def attempt(n):
        try:
            start.wait()
            outcomes.append(order(world, room, name=f"ha-{n}", server_group=apart).host_id)
        except Exception as exc:  # collected and asserted below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(o, int) for o in outcomes), outcomes
    assert len(set(outcomes)) == 4


def test_groups_through_the_api_and_the_console(world, api_as, client):
    room = build_machine_room(world, hosts=2)
    api = api_as(world.staff_a)
    made = api.post(
        "/api/v1/infrastructure/server-groups/", {"name": "web", "policy": "anti-affinity"}
    )
    assert made.status_code == 201, made.json()
    ordered = api.post(
        "/api/v1/infrastructure/instances/",
        {
            "name": "web-1",
            "flavour": room.small.pk,
            "image": room.image.pk,
            "networks": ["gov_extranet"],
            "server_group": made.json()["id"],
        },
        format="json",
    )
    assert ordered.status_code == 201 and ordered.json()["server_group"] == made.json()["id"]
    theirs = api_as(world.staff_b).post(
        "/api/v1/infrastructure/instances/",
        {
            "name": "x",
            "flavour": room.small.pk,
            "image": room.image.pk,
            "server_group": made.json()["id"],
        },
        format="json",
    )
    assert theirs.status_code == 400 and theirs.json()["errors"][0]["field"] == "server_group"

    client.force_login(world.staff_a)
    client.post(
        "/infrastructure/server-groups/new/",
        {"server-group-name": "db", "server-group-policy": "affinity"},
    )
    assert ServerGroup.objects.filter(name="db", department=world.department_a).exists()
    page = client.get("/infrastructure/instances/").content.decode()
    assert 'data-group="web"' in page and 'data-group="db"' in page
    form = client.get("/infrastructure/instances/new/").content.decode()
    assert 'name="server_group"' in form
