"""Floating and egress addresses of the network zones (R-I2): taken lowest first and exactly
once from an operator's range, counted in the department's quota and given back once; bound
1:1 to a port or as a network's egress, never both and never across zones; the edge's NAT
table applied by the job through the simulated edge, which then translates as promised."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict, PermissionDenied
from zhengyun.infrastructure import (
    balancer_lifecycle,
    balancers,
    connections,
    edge,
    lifecycle,
)
from zhengyun.infrastructure import floating_addresses as floating
from zhengyun.infrastructure import services as infrastructure
from zhengyun.infrastructure.choices import NetworkReach
from zhengyun.infrastructure.models import EdgeDue, ExternalRange, FloatingAddress, Quota
from zhengyun.infrastructure.tasks import reconcile_edge_task
from zhengyun.jobs.crash_points import Crash, crashing_at
from zhengyun.testing.lifecycle import violations
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def simulated_edge(settings):
    settings.ZHENGYUN_EDGE_DRIVER = "simulator"
    settings.ZHENGYUN_EDGE_URI = "sim://memory"
    connections._edge_for.cache_clear()  # every test starts with an empty table
    yield connections.edge_driver()
    connections._edge_for.cache_clear()


@pytest.fixture
def room(world):
    return build_machine_room(world)


def external_range(world, cidr="203.0.113.0/29", reach=NetworkReach.INTERNET, **more):
    return floating.create_external_range(
        actor=world.operator,
        region=world.prefecture_a,
        name=f"{reach}-{cidr}",
        reach=reach,
        cidr=cidr,
        **more,
    )


def allocate(world, reach=NetworkReach.INTERNET, actor=None):
    return floating.allocate_floating_address(
        actor=actor or world.staff_a, department=world.department_a, reach=reach
    )


def network(world, name="web", reach=NetworkReach.INTERNET, cidr="10.30.1.0/24"):
    made = infrastructure.create_network(
        actor=world.staff_a, department=world.department_a, name=name, reach=reach
    )
    infrastructure.create_subnet(actor=world.staff_a, network=made, name=f"{name}-1", cidr=cidr)
    return made


def built_instance(world, room, net, name="web-1"):
    made = infrastructure.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name=name,
        flavour=room.small,
        image=room.image,
        networks=[net.reach],
        subnet=net.subnets.get(),
    )
    lifecycle.build(made.pk)
    made.refresh_from_db()
    return made


def used_addresses(world):
    return Quota.objects.get(department=world.department_a).used_addresses


def test_addresses_are_taken_lowest_first_and_counted(world):
    # .1 is the gateway and .2 below the first usable address: .3 and .4 come first.
    external_range(world, gateway="203.0.113.1", first_address="203.0.113.3")
    first, second = allocate(world), allocate(world)
    assert (first.address, second.address) == ("203.0.113.3", "203.0.113.4")
    assert used_addresses(world) == 2
    floating.release_floating_address(first, actor=world.staff_a)
    assert used_addresses(world) == 1
    assert allocate(world).address == "203.0.113.3"  # the freed one is the lowest again
    assert violations() == []


def test_an_address_is_given_back_exactly_once(world):
    external_range(world)
    taken = allocate(world)
    floating.release_floating_address(taken, actor=world.staff_a)
    with pytest.raises(Conflict):
        floating.release_floating_address(taken, actor=world.staff_a)
    assert used_addresses(world) == 0
    actions = AuditEvent.objects.filter(action__endswith="_floating_address")
    assert sorted(actions.values_list("action", flat=True)) == [
        "infrastructure.allocate_floating_address",
        "infrastructure.release_floating_address",
    ]


def test_the_database_refuses_one_address_twice(world):
    taken = (external_range(world), allocate(world))[1]
    with pytest.raises(IntegrityError), transaction.atomic():
        FloatingAddress.objects.create(
            range=taken.range, department=world.department_a, address=taken.address
        )


def test_a_zone_without_free_addresses_refuses_and_changes_nothing(world):
    with pytest.raises(ValidationError) as none:
        allocate(world, reach=NetworkReach.GOV_EXTRANET)
    assert "reach" in none.value.message_dict
    external_range(world, cidr="203.0.113.0/30")  # two usable addresses
    allocate(world), allocate(world)
    with pytest.raises(floating.ZoneExhausted):
        allocate(world)
    assert used_addresses(world) == 2
    assert FloatingAddress.objects.count() == 2


def test_quota_of_addresses_is_respected(world):
    external_range(world)
    row = Quota.objects.get_or_create(department=world.department_a)[0]
    infrastructure.set_quota(row, actor=world.operator, changes={"max_addresses": 1})
    allocate(world)
    with pytest.raises(Conflict):
        allocate(world)
    assert FloatingAddress.objects.count() == 1 and used_addresses(world) == 1


def test_ranges_of_a_zone_never_overlap_and_bad_input_changes_nothing(world):
    external_range(world, cidr="203.0.113.0/28")
    for cidr, field in [
        ("203.0.113.8/29", "cidr"),  # overlaps
        ("203.0.113.7/29", "cidr"),  # host bits
        ("10.0.0.0/8", "cidr"),  # too wide
        ("nonsense", "cidr"),
    ]:
        with pytest.raises(ValidationError) as refused:
            external_range(world, cidr=cidr)
        assert field in refused.value.message_dict, cidr
    with pytest.raises(ValidationError) as outside:
        external_range(world, cidr="198.51.100.0/29", gateway="203.0.113.1")
    assert "gateway" in outside.value.message_dict
    # The same addresses in another zone are another network.
    external_range(world, cidr="203.0.113.0/28", reach=NetworkReach.GOV_EXTRANET)
    assert ExternalRange.objects.count() == 2


def test_a_range_with_addresses_taken_cannot_be_withdrawn(world):
    held = external_range(world)
    taken = allocate(world)
    with pytest.raises(Conflict):
        floating.delete_external_range(held, actor=world.operator)
    floating.release_floating_address(taken, actor=world.staff_a)
    floating.delete_external_range(held, actor=world.operator)
    assert not ExternalRange.objects.exists()


def test_who_may_do_what(world):
    with pytest.raises(PermissionDenied):
        floating.create_external_range(
            actor=world.staff_a,
            region=world.county_a,
            name="mine",
            reach=NetworkReach.INTERNET,
            cidr="203.0.113.0/29",
        )
    external_range(world)
    with pytest.raises(PermissionDenied):
        allocate(world, actor=world.leader_a)
    with pytest.raises(PermissionDenied):  # another department's staff
        floating.allocate_floating_address(
            actor=world.staff_b, department=world.department_a, reach=NetworkReach.INTERNET
        )
    taken = allocate(world)
    assert list(FloatingAddress.objects.restrict(world.leader_a, "view")) == [taken]
    assert list(FloatingAddress.objects.restrict(world.supervisor_a, "view")) == [taken]
    assert not FloatingAddress.objects.restrict(world.staff_b, "view").exists()
    with pytest.raises(PermissionDenied):
        floating.release_floating_address(taken, actor=world.staff_b)


def test_a_port_of_another_zone_is_refused_with_the_reason(world, room, settings):
    settings.LANGUAGE_CODE = "en"
    external_range(world)
    extranet = built_instance(world, room, network(world, reach=NetworkReach.GOV_EXTRANET))
    taken = allocate(world)
    with pytest.raises(ValidationError) as refused:
        floating.associate_floating_address(taken, actor=world.staff_a, port=extranet.ports.get())
    assert "extranet" in refused.value.message_dict["port"][0]
    assert "Internet zone" in refused.value.message_dict["port"][0]
    with pytest.raises(ValidationError):
        floating.associate_floating_address(
            taken, actor=world.staff_a, network=extranet.ports.get().subnet.network
        )
    taken.refresh_from_db()
    assert taken.port is None and taken.egress_network is None
    assert not EdgeDue.objects.exists()


def test_another_departments_port_is_refused(world, room):
    external_range(world)
    net_b = infrastructure.create_network(
        actor=world.staff_b, department=world.department_b, name="b", reach="internet"
    )
    infrastructure.create_subnet(actor=world.staff_b, network=net_b, name="b1", cidr="10.9.0.0/24")
    theirs = infrastructure.create_instance(
        actor=world.staff_b,
        department=world.department_b,
        name="b-1",
        flavour=room.small,
        image=room.image,
        networks=["internet"],
        subnet=net_b.subnets.get(),
    )
    taken = allocate(world)
    with pytest.raises(ValidationError) as refused:
        floating.associate_floating_address(taken, actor=world.staff_a, port=theirs.ports.get())
    assert "port" in refused.value.message_dict
    with pytest.raises(ValidationError):
        floating.associate_floating_address(taken, actor=world.staff_a, network=net_b)


def test_one_to_one_and_egress_never_both(world, room, simulated_edge):
    external_range(world)
    net = network(world)
    web = built_instance(world, room, net)
    taken = allocate(world)
    floating.associate_floating_address(taken, actor=world.staff_a, port=web.ports.get())
    with pytest.raises(Conflict):
        floating.associate_floating_address(taken, actor=world.staff_a, network=net)
    with pytest.raises(ValidationError):  # neither, or both at once
        floating.associate_floating_address(taken, actor=world.staff_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        FloatingAddress.objects.filter(pk=taken.pk).update(egress_network=net)
    second = allocate(world)
    with pytest.raises(ValidationError) as port_taken:  # one floating address per port
        floating.associate_floating_address(second, actor=world.staff_a, port=web.ports.get())
    assert "port" in port_taken.value.message_dict


def test_the_edge_translates_once_the_job_applied(world, room, simulated_edge):
    external_range(world)
    net = network(world)
    web, worker = built_instance(world, room, net), built_instance(world, room, net, "worker-1")
    public, egress = allocate(world), allocate(world)
    floating.associate_floating_address(public, actor=world.staff_a, port=web.ports.get())
    floating.associate_floating_address(egress, actor=world.staff_a, network=net)
    web_address, worker_address = web.ports.get().address, worker.ports.get().address
    assert simulated_edge.translate_inbound(public.address, 443) is None  # not yet applied
    assert edge.apply() == "pairs=1 egress=1"
    assert simulated_edge.translate_inbound(public.address, 443) == (web_address, 443)
    assert simulated_edge.translate_outbound(web_address) == public.address
    assert simulated_edge.translate_outbound(worker_address) == egress.address
    assert simulated_edge.translate_inbound(egress.address, 22) is None  # egress is outbound only
    assert simulated_edge.translate_outbound("10.99.0.1") is None
    assert edge.apply() == "applied"  # nothing owed
    floating.disassociate_floating_address(public, actor=world.staff_a)
    edge.apply()
    assert simulated_edge.translate_inbound(public.address, 443) is None
    assert simulated_edge.translate_outbound(web_address) == egress.address


def test_a_new_subnet_leaves_through_the_networks_egress(world, simulated_edge):
    external_range(world)
    net = network(world)
    floating.associate_floating_address(allocate(world), actor=world.staff_a, network=net)
    edge.apply()
    infrastructure.create_subnet(actor=world.staff_a, network=net, name="more", cidr="10.30.2.0/24")
    assert EdgeDue.objects.exists()
    edge.apply()
    assert simulated_edge.translate_outbound("10.30.2.9") == "203.0.113.1"


def test_a_killed_worker_is_redone_by_the_reconciler(world, room, simulated_edge):
    external_range(world)
    web = built_instance(world, room, network(world))
    public = allocate(world)
    floating.associate_floating_address(public, actor=world.staff_a, port=web.ports.get())
    with crashing_at("edge.applied"), pytest.raises(Crash):
        edge.apply()
    assert EdgeDue.objects.exists()  # the marks survive the dead worker
    assert reconcile_edge_task.call_local() == "pairs=1 egress=0"
    assert not EdgeDue.objects.exists()
    assert simulated_edge.translate_inbound(public.address, 80) == (web.ports.get().address, 80)
    assert reconcile_edge_task.call_local() == "applied"


def test_an_edge_that_refuses_keeps_the_change_owed(world, room, simulated_edge, settings):
    external_range(world)
    web = built_instance(world, room, network(world))
    floating.associate_floating_address(allocate(world), actor=world.staff_a, port=web.ports.get())
    settings.ZHENGYUN_EDGE_DRIVER = "no-such-edge"
    assert edge.apply() == "failed"
    assert EdgeDue.objects.exists()
    settings.ZHENGYUN_EDGE_DRIVER = "simulator"
    assert edge.apply() == "pairs=1 egress=0"


def test_deleting_the_instance_unbinds_its_address_which_stays(world, room, simulated_edge):
    external_range(world)
    web = built_instance(world, room, network(world))
    public = allocate(world)
    floating.associate_floating_address(public, actor=world.staff_a, port=web.ports.get())
    edge.apply()
    infrastructure.delete_instance(web, actor=world.staff_a)
    lifecycle.destroy(web.pk)
    public.refresh_from_db()
    assert public.port is None and public.department == world.department_a
    assert used_addresses(world) == 1  # the instance's port went back, the floating stayed
    assert edge.apply() == "pairs=0 egress=0"
    assert simulated_edge.translate_inbound(public.address, 80) is None
    assert AuditEvent.objects.filter(
        action="infrastructure.disassociate_floating_address", object_id=str(public.pk)
    ).exists()
    assert violations() == []


def test_deleting_a_load_balancer_unbinds_its_vip_address(world, simulated_edge, settings):
    settings.ZHENGYUN_BALANCER_DRIVER, settings.ZHENGYUN_BALANCER_URI = "simulator", "sim://memory"
    external_range(world)
    net = network(world)
    balancer = balancers.create_load_balancer(
        actor=world.staff_a, department=world.department_a, name="front", subnet=net.subnets.get()
    )
    balancer_lifecycle.advance(balancer.pk)
    public = allocate(world)
    floating.associate_floating_address(public, actor=world.staff_a, port=balancer.ports.get())
    edge.apply()
    assert simulated_edge.translate_inbound(public.address, 80) == (balancer.vip, 80)
    balancers.delete_load_balancer(balancer, actor=world.staff_a)
    balancer_lifecycle.advance(balancer.pk)
    public.refresh_from_db()
    assert public.port is None
    edge.apply()
    assert simulated_edge.translate_inbound(public.address, 80) is None


def test_a_network_with_an_egress_address_cannot_be_deleted(world):
    external_range(world)
    net = infrastructure.create_network(
        actor=world.staff_a, department=world.department_a, name="bare", reach="internet"
    )
    egress = allocate(world)
    floating.associate_floating_address(egress, actor=world.staff_a, network=net)
    with pytest.raises(Conflict):
        infrastructure.delete_network(net, actor=world.staff_a)
    floating.release_floating_address(egress, actor=world.staff_a)  # unbound with it
    infrastructure.delete_network(net, actor=world.staff_a)


def test_releasing_a_bound_address_takes_it_off_the_edge(world, room, simulated_edge):
    external_range(world)
    web = built_instance(world, room, network(world))
    public = allocate(world)
    floating.associate_floating_address(public, actor=world.staff_a, port=web.ports.get())
    edge.apply()
    floating.release_floating_address(public, actor=world.staff_a)
    assert edge.apply() == "pairs=0 egress=0"
    assert simulated_edge.translate_inbound(public.address, 80) is None
    assert used_addresses(world) == 1  # the instance's own address only


@pytest.mark.django_db(transaction=True)
def test_racing_for_the_last_address_one_wins(world):
    external_range(world, cidr="203.0.113.0/30")  # .1 and .2
    allocate(world)
    outcomes, start = [], threading.Barrier(4 if connection.vendor == "sqlite" else 12)

    def attempt():
        try:
            start.wait()
            outcomes.append(allocate(world).address)
        except floating.ZoneExhausted:
            outcomes.append("exhausted")
        except Exception as exc:  # collected and asserted below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(start.parties)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["203.0.113.2"] + ["exhausted"] * (start.parties - 1), outcomes
    assert used_addresses(world) == 2 == FloatingAddress.objects.count()


def test_through_the_api(world, room, api_as, simulated_edge):
    operator, staff = api_as(world.operator), api_as(world.staff_a)
    made = operator.post(
        "/api/v1/infrastructure/external-ranges/",
        {"region": world.prefecture_a.pk, "name": "公网", "reach": "internet", "cidr": "bad"},
        format="json",
    )
    assert made.status_code == 400 and "cidr" in str(made.json())
    assert made["Content-Type"].startswith("application/problem+json")
    made = operator.post(
        "/api/v1/infrastructure/external-ranges/",
        {
            "region": world.prefecture_a.pk,
            "name": "公网",
            "reach": "internet",
            "cidr": "203.0.113.0/29",
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert staff.get("/api/v1/infrastructure/external-ranges/").json()["count"] == 1
    extranet = built_instance(world, room, network(world, "ext", NetworkReach.GOV_EXTRANET))
    web = built_instance(world, room, network(world, cidr="10.30.2.0/24"), "web-1")
    taken = staff.post(
        "/api/v1/infrastructure/floating-addresses/", {"reach": "internet"}, format="json"
    )
    assert taken.status_code == 201, taken.json()
    assert (taken.json()["address"], taken.json()["reach"]) == ("203.0.113.1", "internet")
    url = f"/api/v1/infrastructure/floating-addresses/{taken.json()['id']}/"
    wrong = staff.post(url + "associate/", {"port": extranet.ports.get().pk}, format="json")
    assert wrong.status_code == 400 and "port" in str(wrong.json())
    bound = staff.post(url + "associate/", {"port": web.ports.get().pk}, format="json")
    assert bound.status_code == 200 and bound.json()["port"] == web.ports.get().pk
    edge.apply()
    assert simulated_edge.translate_inbound("203.0.113.1", 80) == ("10.30.2.2", 80)
    assert staff.post(url + "disassociate/", {}, format="json").json()["port"] is None
    assert api_as(world.leader_a).delete(url).status_code == 403
    assert staff.delete(url).status_code == 204
    assert used_addresses(world) == 2  # the two instances' own addresses


def test_through_the_console_networks_page(world, room, client):
    external_range(world)
    extranet = network(world, "ext", NetworkReach.GOV_EXTRANET)
    web = built_instance(world, room, network(world, cidr="10.30.2.0/24"), "web-1")
    client.force_login(world.staff_a)
    page = client.get("/infrastructure/networks/")
    assert page.status_code == 200 and b'data-testid="floating-addresses"' in page.content
    assert b'id="id_floating-reach"' in page.content and b'id="id_network-name"' in page.content
    taken = client.post("/infrastructure/floating-addresses/new/", {"floating-reach": "internet"})
    assert taken["Location"] == "/infrastructure/networks/"
    address = FloatingAddress.objects.get()
    wrong = client.post(
        "/infrastructure/floating-addresses/associate/",
        {"associate-address": address.pk, "associate-target": f"network:{extranet.pk}"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert wrong.status_code == 200 and b"this address is of the Internet zone" in wrong.content
    bound = client.post(
        "/infrastructure/floating-addresses/associate/",
        {"associate-address": address.pk, "associate-target": f"port:{web.ports.get().pk}"},
    )
    assert bound.status_code == 302
    assert FloatingAddress.objects.get().port == web.ports.get()
    page = client.get("/infrastructure/networks/")
    assert b"web-1 <code>10.30.2.2</code>" in page.content
    client.post(f"/infrastructure/floating-addresses/{address.pk}/disassociate/")
    assert FloatingAddress.objects.get().port is None
    client.force_login(world.staff_b)  # another department's: as if it did not exist
    assert (
        client.post(f"/infrastructure/floating-addresses/{address.pk}/release/").status_code == 404
    )
    client.force_login(world.staff_a)
    client.post(f"/infrastructure/floating-addresses/{address.pk}/release/")
    assert not FloatingAddress.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_overlapping_ranges_declared_at_once_in_two_regions_one_wins(world):
    outcomes, start = [], threading.Barrier(2)

    def declare(region, cidr):
        try:
            start.wait()
            floating.create_external_range(
                actor=world.operator, region=region, name=cidr, reach="internet", cidr=cidr
            )
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("overlap")
        except Exception as exc:  # collected and asserted below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=declare, args=(world.prefecture_a, "203.0.113.0/28")),
        threading.Thread(target=declare, args=(world.prefecture_b, "203.0.113.0/29")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "overlap"], outcomes
    assert ExternalRange.objects.count() == 1


def test_departments_reusing_a_range_never_share_the_edge(world, room, simulated_edge):
    floating.create_external_range(
        actor=world.operator,
        region=world.province,
        name="province",
        reach=NetworkReach.INTERNET,
        cidr="198.51.100.0/29",
    )
    theirs = infrastructure.create_network(
        actor=world.staff_b, department=world.department_b, name="web", reach=NetworkReach.INTERNET
    )
    infrastructure.create_subnet(actor=world.staff_b, network=theirs, name="b", cidr="10.30.1.0/24")
    their_egress = floating.allocate_floating_address(
        actor=world.staff_b, department=world.department_b, reach=NetworkReach.INTERNET
    )
    floating.associate_floating_address(their_egress, actor=world.staff_b, network=theirs)

    mine = network(world)  # the same private range, 10.30.1.0/24
    web = built_instance(world, room, mine)
    for bind in ({"network": mine}, {"port": web.ports.get()}):
        with pytest.raises(Conflict, match="NAT"):
            floating.associate_floating_address(allocate(world), actor=world.staff_a, **bind)
    assert not FloatingAddress.objects.filter(department=world.department_a, port__isnull=False)
    assert not FloatingAddress.objects.filter(egress_network=mine).exists()

    other = network(world, name="office", cidr="10.31.1.0/24")  # a range of its own: fine
    floating.associate_floating_address(allocate(world), actor=world.staff_a, network=other)
