"""A department's load balancers: a virtual address taken once from its subnet and given
back once, within its quota; listeners, pools, members and health checks applied whole by
the worker through the simulated balancer; members' health read back from the simulated
guests (R-I3)."""

import html

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.timezone import localtime

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict, PermissionDenied
from zhengyun.infrastructure import balancer_lifecycle, balancers, connections, lifecycle, quotas
from zhengyun.infrastructure import services as infrastructure
from zhengyun.infrastructure.choices import BalancerStatus, NetworkReach, OperatingStatus
from zhengyun.infrastructure.drivers.balancer_base import MemberHealth
from zhengyun.infrastructure.models import (
    HealthMonitor,
    Listener,
    LoadBalancer,
    Member,
    Port,
    Quota,
)
from zhengyun.infrastructure.tasks import reconcile_load_balancers_task
from zhengyun.testing.lifecycle import violations
from zhengyun.testing.machine_room import build_machine_room
from zhengyun.testing.tls import issue, sm2_self_signed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def simulated_balancer(settings):
    settings.ZHENGYUN_BALANCER_DRIVER = "simulator"
    settings.ZHENGYUN_BALANCER_URI = "sim://memory"
    connections._balancer_for.cache_clear()  # every test starts with no balancers
    yield connections.balancer_driver()
    connections._balancer_for.cache_clear()


@pytest.fixture
def room(world):
    return build_machine_room(world)


@pytest.fixture
def subnet(world):
    network = infrastructure.create_network(
        actor=world.staff_a, department=world.department_a, name="web", reach="gov_extranet"
    )
    return infrastructure.create_subnet(
        actor=world.staff_a, network=network, name="web-1", cidr="10.20.1.0/24"
    )


def built_instance(world, room, name, subnet=None, department=None, actor=None):
    made = infrastructure.create_instance(
        actor=actor or world.staff_a,
        department=department or world.department_a,
        name=name,
        flavour=room.small,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
        subnet=subnet,
    )
    lifecycle.build(made.pk)
    made.refresh_from_db()
    return made


@pytest.fixture
def web(world, room, subnet):
    return [built_instance(world, room, f"web-{n}", subnet) for n in (1, 2)]


def new_balancer(world, subnet, name="front"):
    return balancers.create_load_balancer(
        actor=world.staff_a, department=world.department_a, name=name, subnet=subnet
    )


def used(world):
    row = Quota.objects.get(department=world.department_a)
    return row.used_load_balancers, row.used_addresses


def serving(world, subnet, web, monitor=True):
    """An active balancer on port 80 sending to port 8080 of both web instances."""
    balancer = new_balancer(world, subnet)
    listener = balancers.add_listener(balancer, actor=world.staff_a, protocol="http", port=80)
    if monitor:
        balancers.set_health_monitor(
            listener.pool, actor=world.staff_a, type="http", interval_s=2, timeout_s=1
        )
    for instance in web:
        balancers.add_member(listener.pool, actor=world.staff_a, instance=instance, port=8080)
    assert balancer_lifecycle.advance(balancer.pk) == BalancerStatus.ACTIVE
    return LoadBalancer.objects.get(pk=balancer.pk), listener


def test_the_vip_is_taken_once_from_the_subnet_and_counted(world, web, subnet, simulated_balancer):
    before = used(world)
    balancer = new_balancer(world, subnet)
    # .1 is the gateway, .2 and .3 the instances': the next free one.
    assert balancer.vip == "10.20.1.4"
    assert Port.objects.get(load_balancer=balancer).address == "10.20.1.4"
    assert used(world) == (before[0] + 1, before[1] + 1)
    assert balancer.status == BalancerStatus.PENDING
    assert balancer_lifecycle.advance(balancer.pk) == BalancerStatus.ACTIVE
    assert simulated_balancer.applied(str(balancer.uuid)).vip == "10.20.1.4"
    assert violations() == []  # the VIP is counted among the department's addresses
    assert AuditEvent.objects.filter(
        action="infrastructure.create_load_balancer", object_id=str(balancer.pk)
    ).exists()


def test_the_database_refuses_an_address_held_twice_or_by_nobody(world, web, subnet):
    balancer = new_balancer(world, subnet)
    with pytest.raises(IntegrityError), transaction.atomic():
        Port.objects.create(
            subnet=subnet,
            department=world.department_a,
            instance=web[0],
            address=balancer.vip,
            mac="52:54:00:aa:bb:cc",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Port.objects.create(
            subnet=subnet,
            department=world.department_a,
            address="10.20.1.99",
            mac="52:54:00:aa:bb:cd",
        )


def test_a_later_instance_never_gets_the_vip(world, room, web, subnet):
    balancer = new_balancer(world, subnet)
    third = built_instance(world, room, "web-3", subnet)
    assert third.ports.get().address not in (balancer.vip, *[w.ports.get().address for w in web])


def test_the_last_quota_slot_goes_to_one_balancer_and_a_refusal_changes_nothing(world, subnet):
    infrastructure.set_quota(
        Quota.objects.get_or_create(department=world.department_a)[0],
        actor=world.operator,
        changes={"max_load_balancers": 1},
    )
    new_balancer(world, subnet)
    before = used(world)
    with pytest.raises(quotas.QuotaExceeded) as refused:
        new_balancer(world, subnet, name="second")
    assert refused.value.exceeded[0]["resource"] == "load_balancers"
    assert used(world) == before
    assert (
        LoadBalancer.objects.count() == 1
        and Port.objects.filter(load_balancer__isnull=False).count() == 1
    )


def test_bad_orders_are_refused_and_change_nothing(world, room, web, subnet):
    balancer, listener = serving(world, subnet, web)
    pool = listener.pool
    stranger = built_instance(
        world, room, "b-1", department=world.department_b, actor=world.staff_b
    )
    no_address = built_instance(world, room, "no-net")
    counts = (Listener.objects.count(), Member.objects.count(), HealthMonitor.objects.count())
    refusals = [
        lambda: balancers.add_member(pool, actor=world.staff_a, instance=stranger, port=80),
        lambda: balancers.add_member(pool, actor=world.staff_a, instance=no_address, port=80),
        lambda: balancers.add_member(pool, actor=world.staff_a, instance=web[0], port=8080),
        lambda: balancers.add_member(pool, actor=world.staff_a, instance=web[0], port=0),
        lambda: balancers.add_member(
            pool, actor=world.staff_a, instance=web[0], port=81, weight=257
        ),
        lambda: balancers.add_listener(balancer, actor=world.staff_a, protocol="tcp", port=80),
        lambda: balancers.add_listener(balancer, actor=world.staff_a, protocol="tcp", port=70000),
        lambda: balancers.set_health_monitor(
            pool, actor=world.staff_a, type="tcp", interval_s=2, timeout_s=5
        ),
        lambda: balancers.set_health_monitor(
            pool, actor=world.staff_a, type="http", max_retries=11
        ),
        lambda: balancers.set_health_monitor(
            pool, actor=world.staff_a, type="http", http_path="/ok\n  server evil 1.2.3.4:80"
        ),
        lambda: balancers.set_health_monitor(
            pool, actor=world.staff_a, type="http", expected_codes="200-099"
        ),
        # HAProxy would expand the worker's environment into the request sent to a member.
        lambda: balancers.set_health_monitor(
            pool, actor=world.staff_a, type="http", http_path='/"${ZHENGYUN_SECRET_KEY}"'
        ),
        lambda: balancers.set_health_monitor(
            pool, actor=world.staff_a, type="http", http_path="/ok\\r\\nX-Injected:\\x20yes"
        ),
        lambda: balancers.create_load_balancer(
            actor=world.staff_b, department=world.department_b, name="steal", subnet=subnet
        ),
    ]
    for refusal in refusals:
        with pytest.raises(ValidationError):
            refusal()
    assert (
        Listener.objects.count(),
        Member.objects.count(),
        HealthMonitor.objects.count(),
    ) == counts
    balancer.refresh_from_db()
    assert balancer.status == BalancerStatus.ACTIVE  # nothing left for the worker to apply
    assert HealthMonitor.objects.get(pool=pool).interval_s == 2


def test_another_department_cannot_change_a_balancer(world, web, subnet):
    balancer, listener = serving(world, subnet, web)
    member = Member.objects.first()
    for act in (
        lambda: balancers.delete_load_balancer(balancer, actor=world.staff_b),
        lambda: balancers.remove_member(member, actor=world.staff_b),
        lambda: balancers.remove_listener(listener, actor=world.staff_b),
        lambda: balancers.set_pool_algorithm(
            listener.pool, actor=world.staff_b, algorithm="source_ip"
        ),
    ):
        with pytest.raises(PermissionDenied):
            act()
    assert LoadBalancer.objects.get(pk=balancer.pk).status == BalancerStatus.ACTIVE
    assert Member.objects.count() == 2


def test_the_job_applies_the_whole_configuration(world, web, subnet, simulated_balancer):
    balancer, listener = serving(world, subnet, web)
    name = str(balancer.uuid)
    applied = simulated_balancer.applied(name)
    (spec,) = applied.listeners
    assert (spec.protocol, spec.port, spec.algorithm) == ("http", 80, "round_robin")
    assert sorted(m.address for m in spec.members) == sorted(w.ports.get().address for w in web)
    assert (spec.monitor.type, spec.monitor.interval_s, spec.monitor.expected_codes) == (
        "http",
        2,
        (200,),
    )
    assert set(simulated_balancer.distribute(name, 80, 10).values()) == {5}
    heavy = Member.objects.get(instance=web[0])
    balancers.remove_member(heavy, actor=world.staff_a)
    balancers.add_member(listener.pool, actor=world.staff_a, instance=web[0], port=8080, weight=3)
    balancers.set_pool_algorithm(listener.pool, actor=world.staff_a, algorithm="least_connections")
    assert LoadBalancer.objects.get(pk=balancer.pk).status == BalancerStatus.PENDING
    assert reconcile_load_balancers_task.call_local() == 1
    spread = simulated_balancer.distribute(name, 80, 8)
    assert sorted(spread.values()) == [2, 6]
    balancers.set_pool_algorithm(listener.pool, actor=world.staff_a, algorithm="source_ip")
    balancer_lifecycle.advance(balancer.pk)
    sticky = simulated_balancer.distribute(name, 80, 20, clients=("198.51.100.7",))
    assert sorted(sticky.values()) == [0, 20]
    assert balancer_lifecycle.advance(balancer.pk) == BalancerStatus.ACTIVE  # nothing owed


def test_member_health_follows_the_guests_into_the_platform(
    world, room, web, subnet, simulated_balancer
):
    balancer, _listener = serving(world, subnet, web)
    assert balancer_lifecycle.read_health(balancer.pk) == OperatingStatus.ONLINE
    room.driver(room.extranet).stop(str(web[1].uuid))
    assert simulated_balancer.health(str(balancer.uuid))[
        f"m{Member.objects.get(instance=web[1]).pk}"
    ] == (MemberHealth.DOWN)
    assert balancer_lifecycle.read_health(balancer.pk) == OperatingStatus.DEGRADED
    statuses = dict(Member.objects.values_list("instance__name", "operating_status"))
    assert statuses == {"web-1": OperatingStatus.ONLINE, "web-2": OperatingStatus.OFFLINE}
    assert simulated_balancer.distribute(str(balancer.uuid), 80, 6) == {
        f"m{Member.objects.get(instance=web[0]).pk}": 6
    }
    assert AuditEvent.objects.filter(action="infrastructure.member_status").count() == 3
    room.driver(room.extranet).start(str(web[1].uuid))
    assert balancer_lifecycle.read_health(balancer.pk) == OperatingStatus.ONLINE


def test_a_balancer_the_driver_lost_is_applied_again(world, web, subnet, simulated_balancer):
    balancer, _listener = serving(world, subnet, web)
    simulated_balancer.remove(str(balancer.uuid))  # as a balancer node restarted empty
    balancer_lifecycle.read_health(balancer.pk)
    assert LoadBalancer.objects.get(pk=balancer.pk).status == BalancerStatus.PENDING
    assert reconcile_load_balancers_task.call_local() == 1
    assert simulated_balancer.applied(str(balancer.uuid)) is not None


def test_deleting_gives_the_vip_and_quota_back_once(world, web, subnet, simulated_balancer):
    before = used(world)
    balancer, _listener = serving(world, subnet, web)
    balancers.delete_load_balancer(balancer, actor=world.staff_a)
    with pytest.raises(Conflict):
        balancers.delete_load_balancer(balancer, actor=world.staff_a)
    assert balancer_lifecycle.advance(balancer.pk) == "deleted"
    assert balancer_lifecycle.advance(balancer.pk) == "missing"
    assert simulated_balancer.applied(str(balancer.uuid)) is None
    assert used(world) == before
    assert not Port.objects.filter(address=balancer.vip).exists()
    assert Member.objects.count() == 0 and Listener.objects.count() == 0
    assert new_balancer(world, subnet, name="again").vip == balancer.vip  # free once more


def test_deleting_an_instance_takes_it_out_of_every_pool(world, web, subnet, simulated_balancer):
    balancer, _listener = serving(world, subnet, web)
    infrastructure.delete_instance(web[0], actor=world.staff_a)
    assert Member.objects.filter(instance=web[0]).count() == 0
    assert LoadBalancer.objects.get(pk=balancer.pk).status == BalancerStatus.PENDING
    balancer_lifecycle.advance(balancer.pk)
    (spec,) = simulated_balancer.applied(str(balancer.uuid)).listeners
    assert [m.address for m in spec.members] == [web[1].ports.get().address]
    assert lifecycle.destroy(web[0].pk) == "deleted"


def test_a_driver_refusal_shows_on_the_balancer(
    world, web, subnet, simulated_balancer, monkeypatch
):
    from zhengyun.infrastructure.drivers.base import DriverError

    balancer = new_balancer(world, subnet)

    def refuse(spec):
        raise DriverError("configuration refused")

    monkeypatch.setattr(simulated_balancer, "apply", refuse)
    assert balancer_lifecycle.advance(balancer.pk) == BalancerStatus.ERROR
    assert LoadBalancer.objects.get(pk=balancer.pk).status_detail == "configuration refused"


def test_a_balancer_through_the_api(world, web, subnet, api_as, simulated_balancer):
    api = api_as(world.staff_a)
    base = "/api/v1/infrastructure"
    made = api.post(
        f"{base}/load-balancers/", {"name": "front", "subnet": subnet.pk}, format="json"
    )
    assert made.status_code == 201, made.json()
    assert (made.json()["vip"], made.json()["status"]) == ("10.20.1.4", "pending")
    lb_id = made.json()["id"]
    listener = api.post(
        f"{base}/listeners/",
        {"load_balancer": lb_id, "protocol": "http", "port": 80, "algorithm": "source_ip"},
        format="json",
    )
    assert listener.status_code == 201, listener.json()
    pool_id = listener.json()["pool"]
    clash = api.post(
        f"{base}/listeners/", {"load_balancer": lb_id, "protocol": "tcp", "port": 80}, format="json"
    )
    assert clash.status_code == 400 and "port" in str(clash.json())
    for instance in web:
        member = api.post(
            f"{base}/members/",
            {"pool": pool_id, "instance": instance.pk, "port": 8080, "weight": 2},
            format="json",
        )
        assert member.status_code == 201, member.json()
    bad_check = api.put(
        f"{base}/backend-pools/{pool_id}/health-monitor/",
        {"type": "http", "interval_s": 1, "timeout_s": 9},
        format="json",
    )
    assert bad_check.status_code == 400
    assert bad_check["Content-Type"].startswith("application/problem+json")
    check = api.put(
        f"{base}/backend-pools/{pool_id}/health-monitor/",
        {"type": "http", "interval_s": 5, "timeout_s": 2, "http_path": "/health"},
        format="json",
    )
    assert check.status_code == 200 and check.json()["health_monitor"]["http_path"] == "/health"
    assert balancer_lifecycle.advance(lb_id) == BalancerStatus.ACTIVE
    balancer_lifecycle.read_health(lb_id)
    shown = api.get(f"{base}/members/", {"pool": pool_id}).json()["results"]
    assert {row["operating_status"] for row in shown} == {"online"}
    assert api.get(f"{base}/load-balancers/{lb_id}/").json()["operating_status"] == "online"
    assert api.delete(f"{base}/backend-pools/{pool_id}/health-monitor/").status_code == 204
    assert api.delete(f"{base}/load-balancers/{lb_id}/").status_code == 204
    assert balancer_lifecycle.advance(lb_id) == "deleted"


def test_the_quota_refusal_through_the_api_is_a_409_problem(world, subnet, api_as):
    row = Quota.objects.get_or_create(department=world.department_a)[0]
    operator = api_as(world.operator)
    shown = operator.get(f"/api/v1/infrastructure/quotas/{row.pk}/").json()
    assert (shown["max_load_balancers"], shown["used_load_balancers"]) == (5, 0)
    assert (
        operator.patch(
            f"/api/v1/infrastructure/quotas/{row.pk}/", {"max_load_balancers": 0}, format="json"
        ).status_code
        == 200
    )
    refused = api_as(world.staff_a).post(
        "/api/v1/infrastructure/load-balancers/",
        {"name": "front", "subnet": subnet.pk},
        format="json",
    )
    assert refused.status_code == 409
    assert refused["Content-Type"].startswith("application/problem+json")
    assert refused.json()["code"] == "quota_exceeded"
    assert not LoadBalancer.objects.exists() and not Port.objects.exists()


def test_a_department_orders_and_deletes_a_balancer_in_the_console(world, web, subnet, client):
    client.force_login(world.staff_a)
    page = client.get("/infrastructure/load-balancers/")
    assert page.status_code == 200 and b"web-1" in page.content
    order = {
        "name": "front",
        "subnet": subnet.pk,
        "protocol": "http",
        "port": 80,
        "algorithm": "round_robin",
        "instances": [w.pk for w in web],
        "member_port": 8080,
        "check": "http",
        "http_path": "/health",
    }
    refused = client.post("/infrastructure/load-balancers/new/", {**order, "http_path": "no slash"})
    assert refused.status_code == 200 and not LoadBalancer.objects.exists()
    assert b'role="alert"' in refused.content
    ordered = client.post("/infrastructure/load-balancers/new/", order)
    assert ordered["Location"] == "/infrastructure/load-balancers/"
    balancer = LoadBalancer.objects.get(name="front")
    assert Member.objects.filter(pool__load_balancer=balancer).count() == 2
    balancer_lifecycle.advance(balancer.pk)
    balancer_lifecycle.read_health(balancer.pk)
    shown = client.get("/infrastructure/load-balancers/").content.decode()
    assert "10.20.1.4" in shown and shown.count('data-operating-status="online"') == 3
    assert "1 / 5" in shown  # the department's load balancers: in use / allowed
    client.force_login(world.staff_b)
    assert b"data-balancer" not in client.get("/infrastructure/load-balancers/").content
    assert client.post(f"/infrastructure/load-balancers/{balancer.pk}/delete/").status_code == 404
    client.force_login(world.staff_a)
    client.post(f"/infrastructure/load-balancers/{balancer.pk}/delete/")
    assert LoadBalancer.objects.get(pk=balancer.pk).status == BalancerStatus.DELETING


def test_a_department_adds_and_removes_listeners_and_members_in_the_console(
    world, room, web, subnet, client, simulated_balancer
):
    balancer = new_balancer(world, subnet)
    listener = balancers.add_listener(balancer, actor=world.staff_a, protocol="http", port=80)
    balancer_lifecycle.advance(balancer.pk)
    elsewhere = built_instance(world, room, "db-1")  # no address in the balancer's network
    client.force_login(world.staff_a)
    listing = client.get("/infrastructure/load-balancers/").content.decode()
    assert f"/infrastructure/listeners/{listener.pk}/members/new/" in listing

    form = client.get(f"/infrastructure/listeners/{listener.pk}/members/new/")
    offered = {
        choice.instance.name
        for choice, _label in form.context["form"].fields["instance"].choices
        if choice
    }
    assert offered == {"web-1", "web-2"}  # only instances with an address in its network
    refused = client.post(
        f"/infrastructure/listeners/{listener.pk}/members/new/",
        {"instance": elsewhere.pk, "port": 8080, "weight": 1},
    )
    assert refused.status_code == 200 and refused.context["form"].errors["instance"]
    for instance in web:
        added = client.post(
            f"/infrastructure/listeners/{listener.pk}/members/new/",
            {"instance": instance.pk, "port": 8080, "weight": 2},
        )
        assert added.status_code == 302
    assert LoadBalancer.objects.get(pk=balancer.pk).status == BalancerStatus.PENDING
    balancer_lifecycle.advance(balancer.pk)
    applied = simulated_balancer.applied(str(balancer.uuid)).listeners[0]
    assert {(m.address, m.port, m.weight) for m in applied.members} == {
        (w.ports.get().address, 8080, 2) for w in web
    }

    issued = issue("www.example.gov.cn")
    https = client.post(
        f"/infrastructure/load-balancers/{balancer.pk}/listeners/new/",
        {
            "protocol": "https",
            "port": 443,
            "algorithm": "least_connections",
            "certificate": issued.certificate_pem,
            "private_key": issued.key_pem,
        },
    )
    assert https.status_code == 302
    assert balancer.listeners.get(port=443).certificate_subject == "CN=www.example.gov.cn"
    clash = client.post(
        f"/infrastructure/load-balancers/{balancer.pk}/listeners/new/",
        {"protocol": "tcp", "port": 443, "algorithm": "round_robin"},
    )
    assert clash.status_code == 200 and clash.context["form"].errors["port"]

    member = Member.objects.filter(pool=listener.pool).first()
    client.force_login(world.staff_b)
    assert client.post(f"/infrastructure/members/{member.pk}/remove/").status_code == 404
    assert client.post(f"/infrastructure/listeners/{listener.pk}/remove/").status_code == 404
    assert client.get(f"/infrastructure/listeners/{listener.pk}/members/new/").status_code == 404
    client.force_login(world.staff_a)
    client.post(f"/infrastructure/members/{member.pk}/remove/")
    assert Member.objects.filter(pool=listener.pool).count() == 1
    client.post(f"/infrastructure/listeners/{listener.pk}/remove/")
    assert list(balancer.listeners.values_list("port", flat=True)) == [443]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"infrastructure.add_member", "infrastructure.remove_member"} <= actions
    assert {"infrastructure.add_listener", "infrastructure.remove_listener"} <= actions


def test_a_department_changes_a_pools_algorithm_and_health_check_in_the_console(
    world, web, subnet, client, simulated_balancer
):
    balancer, listener = serving(world, subnet, web, monitor=False)
    client.force_login(world.staff_a)
    url = f"/infrastructure/listeners/{listener.pk}/pool/"
    assert url in client.get("/infrastructure/load-balancers/").content.decode()
    form = {
        "algorithm": "least_connections",
        "check": "http",
        "interval_s": 2,
        "timeout_s": 5,  # longer than the interval: refused
        "max_retries": 2,
        "http_path": "/health",
        "expected_codes": "200,204",
    }
    refused = client.post(url, form)
    assert refused.status_code == 200 and refused.context["form"].errors["timeout_s"]
    listener.pool.refresh_from_db()
    assert listener.pool.algorithm == "round_robin"  # nothing of the refused edit kept
    assert not HealthMonitor.objects.exists()

    assert client.post(url, {**form, "timeout_s": 1}).status_code == 302
    balancer_lifecycle.advance(balancer.pk)
    applied = simulated_balancer.applied(str(balancer.uuid)).listeners[0]
    assert applied.algorithm == "least_connections"
    assert (applied.monitor.type, applied.monitor.http_path) == ("http", "/health")
    assert client.get(url).context["form"].initial["expected_codes"] == "200,204"

    assert client.post(url, {**form, "check": "", "timeout_s": 1}).status_code == 302
    assert not HealthMonitor.objects.exists()
    client.force_login(world.staff_b)
    assert client.post(url, {**form, "timeout_s": 1}).status_code == 404


def test_a_worker_killed_after_applying_is_finished_by_the_reconciler(
    world, subnet, simulated_balancer
):
    from zhengyun.jobs.crash_points import Crash, crashing_at

    balancer = new_balancer(world, subnet)
    with crashing_at("balancer.applied"), pytest.raises(Crash):
        balancer_lifecycle.advance(balancer.pk)
    assert LoadBalancer.objects.get(pk=balancer.pk).status == BalancerStatus.PENDING
    assert reconcile_load_balancers_task.call_local() == 1
    assert LoadBalancer.objects.get(pk=balancer.pk).status == BalancerStatus.ACTIVE


@pytest.mark.parametrize("point", ["balancer.removed", "balancer.quota_returned"])
def test_a_worker_killed_while_deleting_leaves_nothing_behind(
    world, subnet, simulated_balancer, point
):
    from zhengyun.jobs.crash_points import Crash, crashing_at

    before = used(world)
    balancer = new_balancer(world, subnet)
    balancer_lifecycle.advance(balancer.pk)
    balancers.delete_load_balancer(balancer, actor=world.staff_a)
    with crashing_at(point), pytest.raises(Crash):
        balancer_lifecycle.advance(balancer.pk)
    assert LoadBalancer.objects.get(pk=balancer.pk).status == BalancerStatus.DELETING
    assert reconcile_load_balancers_task.call_local() == 1
    assert not LoadBalancer.objects.filter(pk=balancer.pk).exists()
    assert simulated_balancer.applied(str(balancer.uuid)) is None
    assert used(world) == before
    assert violations() == []


@pytest.mark.django_db(transaction=True)
def test_balancers_and_instances_racing_for_one_subnet_never_share_an_address(world):
    import threading

    from django.db import connection

    room = build_machine_room(world, hosts=4)
    infrastructure.set_quota(
        Quota.objects.get_or_create(department=world.department_a)[0],
        actor=world.operator,
        changes={"max_instances": 50, "max_vcpus": 100, "max_memory_mb": 10**6},
    )
    network = infrastructure.create_network(
        actor=world.staff_a, department=world.department_a, name="race", reach="gov_extranet"
    )
    small = infrastructure.create_subnet(
        actor=world.staff_a, network=network, name="tiny", cidr="10.9.0.0/27"
    )  # room for every racer: what is raced for is each address and the quota's last slots
    outcomes, start = [], threading.Barrier(8 if connection.vendor == "sqlite" else 20)

    def attempt(n):
        try:
            start.wait()
            if n % 2:
                new_balancer(world, small, name=f"lb-{n}")
            else:
                infrastructure.create_instance(
                    actor=world.staff_a,
                    department=world.department_a,
                    name=f"vm-{n}",
                    flavour=room.small,
                    image=room.image,
                    subnet=small,
                )
            outcomes.append("ok")
        except quotas.QuotaExceeded:
            outcomes.append("quota")  # the sixth load balancer and beyond
        except Exception as exc:  # collected and asserted below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(start.parties)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(outcomes) <= {"ok", "quota"}, outcomes
    balancers_made = LoadBalancer.objects.count()
    assert balancers_made == min(5, start.parties // 2)
    assert outcomes.count("quota") == start.parties // 2 - balancers_made
    handed_out = list(Port.objects.values_list("address", flat=True))
    assert len(handed_out) == len(set(handed_out)) == outcomes.count("ok")
    assert used(world) == (balancers_made, len(handed_out))
    assert sorted(LoadBalancer.objects.values_list("vip", flat=True)) == sorted(
        Port.objects.filter(load_balancer__isnull=False).values_list("address", flat=True)
    )


def test_a_region_quota_limits_its_departments_load_balancers_together(world, subnet):
    from zhengyun.infrastructure import region_quotas

    region_quotas.create_region_quota(
        actor=world.operator, region=world.department_a.region, max_load_balancers=1
    )
    new_balancer(world, subnet)
    with pytest.raises(quotas.QuotaExceeded) as refused:
        new_balancer(world, subnet, name="second")
    assert refused.value.exceeded[0]["region"] == world.department_a.region.code
    assert LoadBalancer.objects.count() == 1


def fields(response):
    """The fields a problem+json refusal names."""
    return {error["field"] for error in response.json()["errors"]}


def test_an_https_listener_through_the_api_keeps_its_key_sealed_and_takes_a_new_one(
    world, web, subnet, api_as, simulated_balancer
):
    api = api_as(world.staff_a)
    base = "/api/v1/infrastructure"
    lb_id = api.post(
        f"{base}/load-balancers/", {"name": "front", "subnet": subnet.pk}, format="json"
    ).json()["id"]
    first, second = issue("www.example.gov.cn"), issue("www.example.gov.cn")
    order = {"load_balancer": lb_id, "protocol": "https", "port": 443}
    missing = api.post(f"{base}/listeners/", order, format="json")
    mismatched = api.post(
        f"{base}/listeners/",
        {**order, "certificate": first.certificate_pem, "private_key": second.key_pem},
        format="json",
    )
    on_http = api.post(
        f"{base}/listeners/",
        {**order, "protocol": "http", "certificate": first.certificate_pem},
        format="json",
    )
    assert (missing.status_code, fields(missing)) == (400, {"certificate", "private_key"})
    assert (mismatched.status_code, fields(mismatched)) == (400, {"private_key"})
    assert "与第一张证书不匹配" in str(mismatched.json())  # Chinese by default
    assert (on_http.status_code, fields(on_http)) == (400, {"certificate"})
    sm2 = api.post(
        f"{base}/listeners/",
        {**order, "certificate": sm2_self_signed()[0], "private_key": first.key_pem},
        format="json",
    )
    assert (sm2.status_code, fields(sm2)) == (400, {"certificate"})
    assert not Listener.objects.exists()

    made = api.post(
        f"{base}/listeners/",
        {**order, "certificate": first.certificate_pem, "private_key": first.key_pem},
        format="json",
    )
    assert made.status_code == 201, made.json()
    shown = made.json()
    assert shown["certificate_subject"] == "CN=www.example.gov.cn" and "private_key" not in shown
    assert first.key_pem not in made.content.decode()
    listener = Listener.objects.get()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT private_key FROM infrastructure_listener WHERE id = %s", [listener.pk]
        )
        assert "PRIVATE KEY" not in cursor.fetchone()[0]
    assert first.key_pem not in str(list(AuditEvent.objects.values_list("changes", flat=True)))

    assert balancer_lifecycle.advance(lb_id) == BalancerStatus.ACTIVE
    applied = simulated_balancer.applied(str(LoadBalancer.objects.get().uuid)).listeners[0]
    assert (applied.protocol, applied.certificate) == ("https", first.certificate_pem)
    assert applied.private_key.startswith("sha256:")  # the simulator keeps no key

    replaced = api.put(
        f"{base}/listeners/{listener.pk}/certificate/",
        {"certificate": second.certificate_pem, "private_key": second.key_pem},
        format="json",
    )
    assert replaced.status_code == 200, replaced.json()
    assert LoadBalancer.objects.get().status == BalancerStatus.PENDING
    balancer_lifecycle.advance(lb_id)
    applied = simulated_balancer.applied(str(LoadBalancer.objects.get().uuid)).listeners[0]
    assert applied.certificate == second.certificate_pem
    other = api_as(world.staff_b).put(
        f"{base}/listeners/{listener.pk}/certificate/",
        {"certificate": first.certificate_pem, "private_key": first.key_pem},
        format="json",
    )
    assert other.status_code == 404
    assert Listener.objects.get().certificate == second.certificate_pem


def test_a_department_orders_an_https_balancer_in_the_console(world, web, subnet, client):
    client.force_login(world.staff_a)
    issued = issue("www.example.gov.cn")
    order = {
        "name": "secure",
        "subnet": subnet.pk,
        "protocol": "https",
        "port": 443,
        "algorithm": "round_robin",
        "instances": [w.pk for w in web],
        "member_port": 8080,
        "certificate": issued.certificate_pem,
    }
    refused = client.post("/infrastructure/load-balancers/new/", order)
    assert refused.status_code == 200 and not LoadBalancer.objects.exists()
    assert refused.context["form"].errors["private_key"]
    another_key = issue("www.example.gov.cn").key_pem
    mismatched = client.post(
        "/infrastructure/load-balancers/new/", {**order, "private_key": another_key}
    )
    assert mismatched.context["form"].errors["private_key"]
    assert "PRIVATE KEY" not in mismatched.content.decode()  # never written back to the page
    assert issued.certificate_pem.strip() in html.unescape(mismatched.content.decode())
    ordered = client.post(
        "/infrastructure/load-balancers/new/", {**order, "private_key": issued.key_pem}
    )
    assert ordered.status_code == 302
    shown = client.get("/infrastructure/load-balancers/").content.decode()
    expires = localtime(issued.certificate.not_valid_after_utc).date().isoformat()  # Beijing
    assert f"证书 CN=www.example.gov.cn，有效期至 {expires}" in shown  # Chinese by default
    assert issued.key_pem not in shown
