"""A department's networks and subnets: ranges that never overlap within the department,
addresses handed out and taken back exactly once, instances placed where their network's
zone is reached (R-I2, R-I3)."""

import ipaddress
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure import addresses, lifecycle, quotas, services
from zhengyun.infrastructure.choices import InstanceStatus, NetworkReach
from zhengyun.infrastructure.models import Instance, Network, Port, Quota, Subnet
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(world):
    return build_machine_room(world)


def network(world, actor=None, name="办公网", reach=NetworkReach.GOV_EXTRANET):
    actor = actor or world.staff_a
    return services.create_network(actor=actor, department=actor.department, name=name, reach=reach)


def subnet(world, cidr="10.1.0.0/29", name=None, **kwargs):
    return services.create_subnet(
        actor=world.staff_a,
        network=kwargs.pop("net", None) or network(world, name=f"net-{cidr}"),
        name=name or cidr,
        cidr=cidr,
        **kwargs,
    )


def order(world, room, subnet, name="web-1"):
    return services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name=name,
        flavour=room.small,
        image=room.image,
        subnet=subnet,
    )


def used_addresses(department):
    return Quota.objects.get(department=department).used_addresses


def test_a_subnet_gets_its_first_address_as_gateway_and_is_audited(world):
    made = subnet(world, cidr="10.1.0.0/24")
    assert (made.cidr, made.gateway, made.department) == (
        "10.1.0.0/24",
        "10.1.0.1",
        world.department_a,
    )
    assert AuditEvent.objects.filter(
        action="infrastructure.create_subnet", actor=world.staff_a, object_id=str(made.pk)
    ).exists()


@pytest.mark.parametrize(
    ("cidr", "says"),
    [
        ("10.1.0.0/33", "CIDR"),
        ("10.1.0.7/24", "10.1.0.0/24"),  # host bits set: the range meant is suggested
        ("not a range", "CIDR"),
        ("10.0.0.0/8", "/16"),  # too large to manage address by address
        ("10.1.0.0/30", "/29"),  # too small to be useful
        ("fd00::/56", "/64"),
        ("fd00::%eth0/64", "CIDR"),  # a zone id no firewall rule or NAT table takes
    ],
)
def test_a_malformed_range_is_refused_with_the_reason(world, cidr, says):
    net = network(world)
    with pytest.raises(ValidationError) as refused:
        subnet(world, cidr=cidr, net=net)
    assert says in " ".join(refused.value.message_dict["cidr"])
    assert not Subnet.objects.exists()


def test_subnets_of_one_department_never_overlap_but_departments_may_reuse_ranges(world):
    subnet(world, cidr="10.1.0.0/24")
    for overlapping in ("10.1.0.0/25", "10.1.0.128/29", "10.1.0.0/16"):
        with pytest.raises(ValidationError) as refused:
            subnet(world, cidr=overlapping)
        assert "10.1.0.0/24" in refused.value.message_dict["cidr"][0]
    subnet(world, cidr="10.1.1.0/24")  # adjacent is fine
    other = services.create_network(
        actor=world.staff_b, department=world.department_b, name="乙网", reach="gov_extranet"
    )
    services.create_subnet(actor=world.staff_b, network=other, name="乙段", cidr="10.1.0.0/24")
    assert Subnet.objects.filter(department=world.department_a).count() == 2


def test_a_gateway_outside_the_range_is_refused(world):
    net = network(world)
    for gateway in ("10.9.0.1", "10.1.0.0", "10.1.0.7", "nonsense"):
        with pytest.raises(ValidationError) as refused:
            subnet(world, cidr="10.1.0.0/29", net=net, gateway=gateway)
        assert "gateway" in refused.value.message_dict
    assert subnet(world, cidr="10.1.0.0/29", net=net, gateway="10.1.0.6").gateway == "10.1.0.6"


def test_an_instance_gets_the_lowest_free_address_and_gives_it_back_once(world, room):
    net = subnet(world, cidr="10.1.0.0/29")  # usable .1–.6, .1 the gateway
    first, second = order(world, room, net), order(world, room, net, name="web-2")
    assert [p.address for p in Port.objects.order_by("address")] == ["10.1.0.2", "10.1.0.3"]
    assert first.ports.get().mac.startswith("52:54:00:")
    assert used_addresses(world.department_a) == 2

    services.delete_instance(first, actor=world.staff_a)
    assert lifecycle.destroy(first.pk) == InstanceStatus.DELETED
    assert lifecycle.destroy(first.pk) == InstanceStatus.DELETED  # again: nothing given twice
    assert used_addresses(world.department_a) == 1
    third = order(world, room, net, name="web-3")
    assert third.ports.get().address == "10.1.0.2"  # the freed address is reused
    assert second.ports.get().address == "10.1.0.3"


def test_an_instance_lands_only_where_its_network_zone_is_reached(world, room):
    internal = subnet(
        world, cidr="10.5.0.0/24", net=network(world, name="内网", reach=NetworkReach.GOV_INTERNAL)
    )
    instance = order(world, room, internal)
    assert NetworkReach.GOV_INTERNAL in instance.networks
    assert NetworkReach.GOV_INTERNAL in instance.host.pool.networks


def test_a_full_subnet_refuses_and_changes_nothing(world, room):
    net = subnet(world, cidr="10.1.0.0/29")
    for n in range(5):
        order(world, room, net, name=f"web-{n}")
    with pytest.raises(addresses.SubnetFull):
        order(world, room, net, name="web-6")
    assert Instance.objects.count() == 5
    assert used_addresses(world.department_a) == 5
    assert Quota.objects.get(department=world.department_a).used_instances == 5


def test_the_address_quota_is_enforced(world, room):
    services.set_quota(
        Quota.objects.get_or_create(department=world.department_a)[0],
        actor=world.operator,
        changes={"max_addresses": 1},
    )
    net = subnet(world, cidr="10.1.0.0/29")
    order(world, room, net)
    with pytest.raises(quotas.QuotaExceeded) as refused:
        order(world, room, net, name="web-2")
    assert refused.value.extra()["exceeded"][0]["resource"] == "addresses"
    assert Instance.objects.count() == 1 and Port.objects.count() == 1


def test_another_departments_subnet_cannot_be_used(world, room):
    other = services.create_subnet(
        actor=world.staff_b,
        network=services.create_network(
            actor=world.staff_b, department=world.department_b, name="乙网", reach="gov_extranet"
        ),
        name="乙段",
        cidr="10.2.0.0/24",
    )
    with pytest.raises(ValidationError):
        order(world, room, other)
    assert not Instance.objects.exists() and not Port.objects.exists()


def test_a_subnet_in_use_and_a_network_with_subnets_cannot_be_deleted(world, room):
    net = subnet(world, cidr="10.1.0.0/29")
    instance = order(world, room, net)
    with pytest.raises(Conflict):
        services.delete_subnet(net, actor=world.staff_a)
    with pytest.raises(Conflict):
        services.delete_network(net.network, actor=world.staff_a)
    services.delete_instance(instance, actor=world.staff_a)
    lifecycle.destroy(instance.pk)
    services.delete_subnet(Subnet.objects.get(pk=net.pk), actor=world.staff_a)
    services.delete_network(Network.objects.get(pk=net.network_id), actor=world.staff_a)
    assert not Subnet.objects.exists() and not Network.objects.exists()


def test_ipv6_subnets_hand_out_addresses_too(world, room):
    net = subnet(world, cidr="fd00:1:2:3::/64")
    assert net.gateway == "fd00:1:2:3::1"
    port = order(world, room, net).ports.get()
    assert ipaddress.ip_address(port.address) == ipaddress.ip_address("fd00:1:2:3::2")


def test_networks_and_subnets_through_the_api(world, room, api_as):
    api = api_as(world.staff_a)
    made = api.post(
        "/api/v1/infrastructure/networks/",
        {"name": "办公网", "reach": "gov_extranet"},
        format="json",
    )
    assert made.status_code == 201, made.json().get("errors", made.json())
    assert made.json()["department"] == world.department_a.pk
    assert made.json()["segment"] == Network.objects.get().segment
    again = api.post(
        "/api/v1/infrastructure/networks/",
        {"name": "办公网", "reach": "internet"},
        format="json",
    )
    assert again.status_code == 400 and Network.objects.count() == 1
    range_ = api.post(
        "/api/v1/infrastructure/subnets/",
        {"network": made.json()["id"], "name": "a", "cidr": "10.1.0.0/24"},
        format="json",
    )
    assert range_.status_code == 201, range_.json()
    overlap = api.post(
        "/api/v1/infrastructure/subnets/",
        {"network": made.json()["id"], "name": "b", "cidr": "10.1.0.64/26"},
        format="json",
    )
    assert overlap.status_code == 400 and "cidr" in str(overlap.json())
    instance = api.post(
        "/api/v1/infrastructure/instances/",
        {
            "name": "api-1",
            "flavour": room.small.pk,
            "image": room.image.pk,
            "subnet": range_.json()["id"],
        },
        format="json",
    )
    assert instance.status_code == 201, instance.json()
    assert instance.json()["addresses"] == ["10.1.0.2"]
    ports = api.get("/api/v1/infrastructure/ports/").json()
    assert [p["address"] for p in ports["results"]] == ["10.1.0.2"]
    busy = api.delete(f"/api/v1/infrastructure/subnets/{range_.json()['id']}/")
    assert busy.status_code == 409


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_never_hand_out_one_address_twice(world):
    room = build_machine_room(world, hosts=4)
    services.set_quota(
        Quota.objects.get_or_create(department=world.department_a)[0],
        actor=world.operator,
        changes={"max_instances": 50, "max_vcpus": 100, "max_memory_mb": 10**6},
    )
    net = subnet(world, cidr="10.1.0.0/28")  # 13 addresses besides the gateway
    outcomes, start = [], threading.Barrier(8 if connection.vendor == "sqlite" else 20)

    def attempt(n):
        try:
            start.wait()
            order(world, room, net, name=f"race-{n}")
            outcomes.append("ok")
        except addresses.SubnetFull:
            outcomes.append("full")
        except Exception as exc:  # collected and asserted below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(start.parties)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(outcomes) <= {"ok", "full"}, outcomes
    assert outcomes.count("ok") == min(13, start.parties)
    handed_out = list(Port.objects.values_list("address", flat=True))
    assert len(handed_out) == len(set(handed_out)) == outcomes.count("ok")
    assert used_addresses(world.department_a) == outcomes.count("ok")


def test_a_department_builds_its_network_in_the_console_and_orders_into_it(world, room, client):
    client.force_login(world.staff_a)
    assert client.get("/infrastructure/networks/").status_code == 200
    made = client.post(
        "/infrastructure/networks/new/", {"network-name": "办公网", "network-reach": "gov_extranet"}
    )
    assert made["Location"] == "/infrastructure/networks/"
    net = Network.objects.get(name="办公网")
    listed = client.get("/infrastructure/networks/").content.decode()
    assert f"<td data-segment>{net.segment}</td>" in listed  # the VLAN it is tagged with
    overlapping = client.post(
        "/infrastructure/subnets/new/",
        {"subnet-network": net.pk, "subnet-name": "a", "subnet-cidr": "10.1.0.7/24"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert overlapping.status_code == 200 and b"did you mean 10.1.0.0/24" in overlapping.content
    client.post(
        "/infrastructure/subnets/new/",
        {"subnet-network": net.pk, "subnet-name": "a", "subnet-cidr": "10.1.0.0/24"},
    )
    range_ = Subnet.objects.get(network=net)
    ordered = client.post(
        "/infrastructure/instances/new/",
        {
            "name": "app-1",
            "flavour": room.small.pk,
            "image": room.image.pk,
            "protection_level": 2,
            "subnet": range_.pk,
        },
    )
    page = client.get(ordered["Location"])
    assert b"10.1.0.2" in page.content
    listing = client.get("/infrastructure/networks/")
    assert b'data-cidr="10.1.0.0/24"' in listing.content
    busy = client.post(f"/infrastructure/subnets/{range_.pk}/delete/", follow=True)
    assert Subnet.objects.filter(pk=range_.pk).exists() and busy.status_code == 200


def test_another_department_neither_sees_nor_deletes_a_network(world, client):
    net = subnet(world, cidr="10.1.0.0/24")
    client.force_login(world.staff_b)
    assert b"10.1.0.0/24" not in client.get("/infrastructure/networks/").content
    assert client.post(f"/infrastructure/subnets/{net.pk}/delete/").status_code == 404
    assert client.post(f"/infrastructure/networks/{net.network_id}/delete/").status_code == 404
    form = client.post(
        "/infrastructure/subnets/new/",
        {"subnet-network": net.network_id, "subnet-name": "x", "subnet-cidr": "10.9.0.0/24"},
    )
    assert form.status_code == 200 and Subnet.objects.count() == 1
    assert "network" in form.context["subnet_form"].errors
