"""Security groups (R-I2, R-I3): refusals that change nothing, the default group, rules that
reach the hypervisor and decide which packets pass, remote-group rules that follow
membership, protected deletes, and the console and API doors."""

import importlib
import threading
import time

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import translation

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure import firewalls, lifecycle, security_groups, services
from zhengyun.infrastructure.choices import InstanceStatus, NetworkReach
from zhengyun.infrastructure.models import (
    FirewallDue,
    Instance,
    SecurityGroup,
    SecurityGroupRule,
)
from zhengyun.infrastructure.tasks import reconcile_firewalls_task, reconcile_instances_task
from zhengyun.jobs.crash_points import Crash, crashing_at
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Refusals are read in English whatever the default language."""
    with translation.override("en"):
        yield


@pytest.fixture
def room(world):
    return build_machine_room(world)


@pytest.fixture
def subnet(world):
    network = services.create_network(
        actor=world.staff_a, department=world.department_a, name="业务网", reach="gov_extranet"
    )
    return services.create_subnet(
        actor=world.staff_a, network=network, name="业务段", cidr="10.0.0.0/24"
    )


@pytest.fixture
def web(world):
    return security_groups.create_security_group(
        actor=world.staff_a, department=world.department_a, name="web"
    )


def order(world, room, name, subnet=None, groups=()):
    """An instance of department A, built by the worker."""
    instance = services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name=name,
        flavour=room.small,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
        subnet=subnet,
        security_groups=groups,
    )
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE
    return Instance.objects.get(pk=instance.pk)


def hypervisor(room):
    return room.driver(room.extranet)


def allows(room, instance, direction, protocol, port, address):
    return hypervisor(room).allows(str(instance.uuid), direction, protocol, port, address)


def rule(world, group, **fields):
    return security_groups.create_security_group_rule(actor=world.staff_a, group=group, **fields)


def address_of(instance):
    return instance.ports.get().address


def run_due_jobs():
    """What the worker does after the commits: apply every firewall still owed."""
    return reconcile_firewalls_task.call_local()


# Refusals ---------------------------------------------------------------------------------

BAD_RULES = [
    ({"remote_cidr": "10.0.0.300/24"}, "remote_cidr"),
    ({"remote_cidr": "10.0.0.5/24"}, "remote_cidr"),  # host bits set
    ({"remote_cidr": "fd00::/64"}, "remote_cidr"),  # IPv6 range on an IPv4 rule
    ({"protocol": "icmp", "port_min": 22}, "port_min"),
    ({"protocol": "any", "port_min": 22, "port_max": 22}, "port_min"),
    ({"protocol": "tcp", "port_min": 0}, "port_min"),
    ({"protocol": "tcp", "port_min": 80, "port_max": 70000}, "port_max"),
    ({"protocol": "tcp", "port_min": 443, "port_max": 80}, "port_max"),
    ({"direction": "sideways"}, "direction"),
    ({"protocol": "gre"}, "protocol"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_RULES, ids=[str(b[0]) for b in BAD_RULES])
def test_a_bad_rule_is_refused_on_its_field_and_changes_nothing(world, web, fields, field):
    before = (SecurityGroupRule.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as refused:
        rule(world, web, **{"direction": "ingress", **fields})
    assert field in refused.value.message_dict
    assert (SecurityGroupRule.objects.count(), AuditEvent.objects.count()) == before


def test_a_remote_group_of_another_department_is_refused(world, web):
    theirs = security_groups.create_security_group(
        actor=world.staff_b, department=world.department_b, name="theirs"
    )
    with pytest.raises(ValidationError) as refused:
        rule(world, web, direction="ingress", remote_group=theirs)
    assert "remote_group" in refused.value.message_dict
    with pytest.raises(ValidationError):
        rule(world, web, direction="ingress", remote_group=web, remote_cidr="10.0.0.0/24")
    assert not web.rules.exists()


def test_the_same_rule_twice_is_refused(world, web):
    rule(world, web, direction="ingress", protocol="tcp", port_min=22, remote_cidr="10.0.0.0/24")
    with pytest.raises(ValidationError, match="already"):
        # the same rule written another way: the range end defaults to its start
        rule(
            world,
            web,
            direction="ingress",
            protocol="tcp",
            port_min=22,
            port_max=22,
            remote_cidr=" 10.0.0.0/24",
        )
    assert web.rules.count() == 1


def test_a_group_name_is_unique_in_its_department_and_default_is_kept(world, web):
    with pytest.raises(ValidationError):
        security_groups.create_security_group(
            actor=world.staff_a, department=world.department_a, name="web"
        )
    with pytest.raises(ValidationError, match="default"):
        security_groups.create_security_group(
            actor=world.staff_a, department=world.department_a, name="Default"
        )
    # Another department may use the name.
    security_groups.create_security_group(
        actor=world.staff_b, department=world.department_b, name="web"
    )


def test_instances_join_only_their_departments_groups(world, room):
    theirs = security_groups.create_security_group(
        actor=world.staff_b, department=world.department_b, name="theirs"
    )
    count = Instance.objects.count()
    with pytest.raises(ValidationError):
        order(world, room, "x", groups=[theirs])
    assert Instance.objects.count() == count


# The default group ------------------------------------------------------------------------


def test_the_default_group_lets_members_talk_and_keeps_strangers_out(world, room, subnet):
    first = order(world, room, "app-1", subnet=subnet)
    second = order(world, room, "app-2", subnet=subnet)
    default = SecurityGroup.objects.get(department=world.department_a, is_default=True)
    assert default.name == "default"
    assert set(default.instances.all()) == {first, second}
    assert default.rules.count() == 4  # everything out, in from members; IPv4 and IPv6
    run_due_jobs()  # the first learns of the second's address
    for instance, peer in ((first, second), (second, first)):
        assert allows(room, instance, "ingress", "tcp", 5432, address_of(peer))
        assert not allows(room, instance, "ingress", "tcp", 22, "192.0.2.7")
        assert allows(room, instance, "egress", "tcp", 443, "192.0.2.7")
    assert FirewallDue.objects.count() == 0


def test_the_default_group_cannot_be_deleted(world, room):
    order(world, room, "app-1")
    default = SecurityGroup.objects.get(department=world.department_a, is_default=True)
    with pytest.raises(Conflict, match="default"):
        security_groups.delete_security_group(default, actor=world.staff_a)
    assert SecurityGroup.objects.filter(pk=default.pk).exists()


# Rules on the hypervisor -------------------------------------------------------------------


def test_a_new_rule_reaches_the_guest_and_decides_which_packets_pass(world, room, web):
    instance = order(world, room, "web-1", groups=[web])
    assert instance.firewall_applied_at is not None  # before its first start
    assert not allows(room, instance, "ingress", "tcp", 22, "10.0.0.5")  # empty group
    rule(world, web, direction="ingress", protocol="tcp", port_min=22, remote_cidr="10.0.0.0/24")
    assert FirewallDue.objects.filter(instance_id=instance.pk).exists()
    assert run_due_jobs() == 1
    assert allows(room, instance, "ingress", "tcp", 22, "10.0.0.5")
    assert not allows(room, instance, "ingress", "tcp", 22, "10.1.0.5")
    assert not allows(room, instance, "ingress", "tcp", 80, "10.0.0.5")
    assert not allows(room, instance, "ingress", "udp", 22, "10.0.0.5")
    assert not allows(room, instance, "egress", "tcp", 22, "10.0.0.5")
    assert not FirewallDue.objects.exists()
    assert AuditEvent.objects.filter(
        action="infrastructure.create_security_group_rule", actor=world.staff_a
    ).exists()


def test_a_guest_cannot_pass_for_a_group_member_to_get_through_its_rule(world, room, subnet, web):
    db = security_groups.create_security_group(
        actor=world.staff_a, department=world.department_a, name="db"
    )
    rule(world, db, direction="ingress", protocol="tcp", port_min=5432, remote_group=web)
    database = order(world, room, "db-1", subnet=subnet, groups=[db])
    member = order(world, room, "web-1", subnet=subnet, groups=[web])
    outsider = order(world, room, "other-1", subnet=subnet)
    run_due_jobs()
    sim = hypervisor(room)
    assert sim.own_addresses(str(outsider.uuid)) == {address_of(outsider)}
    to_database = ("egress", "tcp", 5432, address_of(database))
    assert sim.allows(str(outsider.uuid), *to_database, source=address_of(outsider))
    # Sending as the member, whom the database's rule admits, never leaves the outsider.
    assert not sim.allows(str(outsider.uuid), *to_database, source=address_of(member))


def test_guests_given_rules_before_their_own_addresses_are_given_them_again(world, room, subnet):
    running = order(world, room, "web-1", subnet=subnet)
    gone = order(world, room, "web-2", subnet=subnet)
    services.delete_instance(gone, actor=world.staff_a)
    lifecycle.destroy(gone.pk)
    FirewallDue.objects.all().delete()
    migration = importlib.import_module(
        "zhengyun.infrastructure.migrations.0023_firewalls_with_own_addresses"
    )
    migration.mark_every_guest(django_apps, None)
    assert list(FirewallDue.objects.values_list("instance_id", flat=True)) == [running.pk]
    assert run_due_jobs() == 1
    assert hypervisor(room).own_addresses(str(running.uuid)) == {address_of(running)}


def test_deleting_a_rule_closes_what_it_opened(world, room, web):
    instance = order(world, room, "web-1", groups=[web])
    opened = rule(world, web, direction="ingress", protocol="icmp")
    run_due_jobs()
    assert allows(room, instance, "ingress", "icmp", None, "203.0.113.9")
    security_groups.delete_security_group_rule(opened, actor=world.staff_a)
    run_due_jobs()
    assert not allows(room, instance, "ingress", "icmp", None, "203.0.113.9")


def test_a_remote_group_rule_follows_membership(world, room, subnet, web):
    db = security_groups.create_security_group(
        actor=world.staff_a, department=world.department_a, name="db"
    )
    rule(world, db, direction="ingress", protocol="tcp", port_min=5432, remote_group=web)
    database = order(world, room, "db-1", subnet=subnet, groups=[db])
    web_1 = order(world, room, "web-1", subnet=subnet, groups=[web])
    run_due_jobs()
    assert allows(room, database, "ingress", "tcp", 5432, address_of(web_1))
    # A new member of web is let in once the job has run, not before.
    web_2 = order(world, room, "web-2", subnet=subnet, groups=[web])
    assert not allows(room, database, "ingress", "tcp", 5432, address_of(web_2))
    run_due_jobs()
    assert allows(room, database, "ingress", "tcp", 5432, address_of(web_2))
    # Leaving the group, or being deleted, takes the address out again.
    security_groups.set_security_groups(web_2, actor=world.staff_a, groups=[db])
    run_due_jobs()
    assert not allows(room, database, "ingress", "tcp", 5432, address_of(web_2))
    gone = address_of(web_1)
    services.delete_instance(web_1, actor=world.staff_a)
    lifecycle.destroy(web_1.pk)
    run_due_jobs()
    assert not allows(room, database, "ingress", "tcp", 5432, gone)


def test_changing_an_instances_groups_is_audited_and_applied(world, room, web):
    instance = order(world, room, "web-1")
    rule(world, web, direction="ingress", protocol="tcp", port_min=80)
    assert not allows(room, instance, "ingress", "tcp", 80, "198.51.100.1")
    security_groups.set_security_groups(instance, actor=world.staff_a, groups=[web])
    run_due_jobs()
    assert allows(room, instance, "ingress", "tcp", 80, "198.51.100.1")
    assert AuditEvent.objects.filter(
        action="infrastructure.set_security_groups", object_id=str(instance.pk)
    ).exists()
    with pytest.raises(ValidationError):
        security_groups.set_security_groups(instance, actor=world.staff_a, groups=[])
    assert list(instance.security_groups.all()) == [web]


def test_a_worker_killed_while_applying_leaves_the_work_for_the_reconciler(world, room, web):
    instance = order(world, room, "web-1", groups=[web])
    rule(world, web, direction="ingress", protocol="tcp", port_min=22)
    with crashing_at("firewall.applied"), pytest.raises(Crash):
        firewalls.apply(instance.pk)
    assert FirewallDue.objects.filter(instance_id=instance.pk).exists()
    run_due_jobs()
    assert allows(room, instance, "ingress", "tcp", 22, "10.9.9.9")
    assert not FirewallDue.objects.exists()


def test_a_hypervisor_that_fails_keeps_the_work_owed(world, room, web):
    instance = order(world, room, "web-1", groups=[web])
    rule(world, web, direction="ingress", protocol="tcp", port_min=22)
    hypervisor(room).fail_next("apply_firewall")
    assert firewalls.apply(instance.pk) == "failed"
    instance.refresh_from_db()
    assert "apply_firewall" in instance.firewall_detail
    assert FirewallDue.objects.filter(instance_id=instance.pk).exists()
    run_due_jobs()
    assert allows(room, instance, "ingress", "tcp", 22, "10.9.9.9")


# Deleting groups ---------------------------------------------------------------------------


def test_a_group_in_use_is_not_deleted_and_the_refusal_names_the_instances(world, room, web):
    order(world, room, "web-1", groups=[web])
    with pytest.raises(Conflict, match="web-1") as refused:
        security_groups.delete_security_group(web, actor=world.staff_a)
    assert refused.value.dependents == ["web-1"]
    assert SecurityGroup.objects.filter(pk=web.pk).exists()


def test_a_group_another_groups_rule_names_is_not_deleted(world, web):
    db = security_groups.create_security_group(
        actor=world.staff_a, department=world.department_a, name="db"
    )
    rule(world, db, direction="ingress", remote_group=web)
    rule(world, web, direction="ingress", remote_group=web)  # its own: goes with it
    with pytest.raises(Conflict):
        security_groups.delete_security_group(web, actor=world.staff_a)
    security_groups.delete_security_group(db, actor=world.staff_a)
    security_groups.delete_security_group(web, actor=world.staff_a)
    assert not SecurityGroup.objects.filter(department=world.department_a).exists()


# The API and the console ------------------------------------------------------------------


def test_the_api_makes_groups_and_rules_and_sets_an_instances_groups(world, room, api_as, web):
    client = api_as(world.staff_a)
    made = client.post("/api/v1/infrastructure/security-groups/", {"name": "ssh"}, format="json")
    assert made.status_code == 201, made.content
    group = made.json()["id"]
    bad = client.post(
        "/api/v1/infrastructure/security-group-rules/",
        {"group": group, "direction": "ingress", "protocol": "icmp", "port_min": 22},
        format="json",
    )
    assert bad.status_code == 400
    assert bad["content-type"].startswith("application/problem+json")
    good = client.post(
        "/api/v1/infrastructure/security-group-rules/",
        {"group": group, "direction": "ingress", "protocol": "tcp", "port_min": 22},
        format="json",
    )
    assert good.status_code == 201, good.content
    instance = order(world, room, "web-1", groups=[web])
    changed = client.post(
        f"/api/v1/infrastructure/instances/{instance.pk}/security-groups/",
        {"security_groups": [group, web.pk]},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert sorted(changed.json()["security_groups"]) == sorted([group, web.pk])
    run_due_jobs()
    assert allows(room, instance, "ingress", "tcp", 22, "192.0.2.1")
    in_use = client.delete(f"/api/v1/infrastructure/security-groups/{web.pk}/")
    assert in_use.status_code == 409
    assert in_use.json()["dependents"] == ["web-1"]


def test_the_api_refuses_another_departments_group(world, room, api_as):
    theirs = security_groups.create_security_group(
        actor=world.staff_b, department=world.department_b, name="theirs"
    )
    mine = security_groups.create_security_group(
        actor=world.staff_a, department=world.department_a, name="mine"
    )
    response = api_as(world.staff_a).post(
        "/api/v1/infrastructure/security-group-rules/",
        {"group": mine.pk, "direction": "ingress", "remote_group": theirs.pk},
        format="json",
    )
    assert response.status_code == 400
    assert not mine.rules.exists()


def test_the_console_lists_groups_adds_and_deletes_rules(world, client, web):
    client.force_login(world.staff_a)
    page = client.get(reverse("infrastructure:security-group-list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="id_group-name"' in html and 'id="id_rule-group"' in html
    assert f'href="{reverse("infrastructure:security-group-list")}"' in html  # in the menu
    response = client.post(
        reverse("infrastructure:security-group-rule-add"),
        {
            "rule-group": web.pk,
            "rule-direction": "ingress",
            "rule-ethertype": "IPv4",
            "rule-protocol": "udp",
            "rule-port_min": "70000",
        },
    )
    assert response.status_code == 200  # re-shown with the refusal
    assert not web.rules.exists()
    response = client.post(
        reverse("infrastructure:security-group-rule-add"),
        {
            "rule-group": web.pk,
            "rule-direction": "ingress",
            "rule-ethertype": "IPv4",
            "rule-protocol": "udp",
            "rule-port_min": "53",
            "rule-remote_cidr": "10.0.0.0/8",
        },
    )
    assert response.status_code == 302
    made = web.rules.get()
    assert (made.port_min, made.port_max, made.remote_cidr) == (53, 53, "10.0.0.0/8")
    assert (
        'data-rule="IPv4 udp:53'
        in client.get(reverse("infrastructure:security-group-list")).content.decode()
    )
    client.post(reverse("infrastructure:security-group-rule-delete", args=[made.pk]))
    assert not web.rules.exists()
    client.post(reverse("infrastructure:security-group-delete", args=[web.pk]))
    assert not SecurityGroup.objects.filter(pk=web.pk).exists()


def test_the_console_changes_an_instances_groups(world, room, client, web):
    instance = order(world, room, "web-1")
    client.force_login(world.staff_a)
    page = client.get(reverse("infrastructure:instance-detail", args=[instance.pk]))
    assert 'id="id_groups-security_groups_0"' in page.content.decode()
    response = client.post(
        reverse("infrastructure:instance-security-groups", args=[instance.pk]),
        {"groups-security_groups": [web.pk]},
    )
    assert response.status_code == 302
    assert list(instance.security_groups.all()) == [web]


def test_another_department_cannot_reach_a_groups_console_acts(world, client, web):
    client.force_login(world.staff_b)
    assert (
        web.name not in client.get(reverse("infrastructure:security-group-list")).content.decode()
    )
    response = client.post(reverse("infrastructure:security-group-delete", args=[web.pk]))
    assert response.status_code == 404
    assert SecurityGroup.objects.filter(pk=web.pk).exists()


def test_an_instance_ordered_in_the_console_joins_the_groups_ticked(world, room, client, web):
    client.force_login(world.staff_a)
    form = client.get(reverse("infrastructure:instance-add")).content.decode()
    assert f'value="{web.pk}"' in form
    ordered = client.post(
        reverse("infrastructure:instance-add"),
        {
            "name": "web-1",
            "flavour": room.small.pk,
            "image": room.image.pk,
            "protection_level": 2,
            "networks": ["gov_extranet"],
            "security_groups": [web.pk],
        },
    )
    assert ordered.status_code == 302
    instance = Instance.objects.get(name="web-1")
    assert list(instance.security_groups.all()) == [web]
    page = client.get(ordered["Location"]).content.decode()
    assert 'data-testid="security-groups">web<' in page


def test_a_deleted_instance_no_longer_holds_its_group(world, room, web):
    instance = order(world, room, "web-1", groups=[web])
    services.delete_instance(instance, actor=world.staff_a)
    lifecycle.destroy(instance.pk)
    security_groups.delete_security_group(web, actor=world.staff_a)
    assert not SecurityGroup.objects.filter(pk=web.pk).exists()


# Concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_never_wait_in_a_circle_and_end_applied(world):
    """Rules added, memberships changed, instances deleted, firewalls applied and two
    departments' first orders, all at once: none fails (on PostgreSQL a circular wait would
    abort one), and afterwards every guest holds exactly its resolved rules."""
    room = build_machine_room(world, hosts=4)
    network = services.create_network(
        actor=world.staff_a, department=world.department_a, name="n", reach="gov_extranet"
    )
    net = services.create_subnet(actor=world.staff_a, network=network, name="s", cidr="10.0.0.0/24")
    web = security_groups.create_security_group(
        actor=world.staff_a, department=world.department_a, name="web"
    )
    db = security_groups.create_security_group(
        actor=world.staff_a, department=world.department_a, name="db"
    )
    rule(world, db, direction="ingress", protocol="tcp", port_min=5432, remote_group=web)
    rule(world, web, direction="ingress", protocol="tcp", port_min=80, remote_group=db)
    instances = [
        order(world, room, f"i-{n}", subnet=net, groups=[web] if n % 2 else [db]) for n in range(6)
    ]
    acts = [
        *(
            lambda port=port, group=group: rule(
                world, group, direction="ingress", protocol="tcp", port_min=port
            )
            for port, group in ((22, web), (23, db), (24, web), (25, db))
        ),
        *(
            lambda i=i: security_groups.set_security_groups(
                Instance.objects.get(pk=i.pk), actor=world.staff_a, groups=[web, db]
            )
            for i in instances[:3]
        ),
        *(
            lambda i=i: (
                services.delete_instance(i, actor=world.staff_a),
                lifecycle.destroy(i.pk),
            )
            for i in instances[3:5]
        ),
        *(lambda i=i: firewalls.apply(i.pk) for i in instances),
        *(
            lambda n=n: services.create_instance(
                actor=world.staff_b,
                department=world.department_b,
                name=f"b-{n}",
                flavour=room.small,
                image=room.image,
                networks=[NetworkReach.GOV_EXTRANET],
            )
            for n in range(2)
        ),
    ]
    outcomes, start = [], threading.Barrier(len(acts))

    def attempt(act):
        try:
            start.wait()
            act()
            outcomes.append("ok")
        except Exception as exc:  # collected and asserted below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(act,)) for act in acts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["ok"] * len(acts), outcomes
    assert SecurityGroup.objects.filter(department=world.department_b, is_default=True).count() == 1
    reconcile_instances_task.call_local()  # department B's orders are built
    run_due_jobs()
    assert not FirewallDue.objects.exists()
    sim = hypervisor(room)
    for instance in Instance.objects.filter(
        status=InstanceStatus.ACTIVE, department=world.department_a
    ):
        assert sim.firewall(str(instance.uuid)) == firewalls.resolve(instance), instance.name


def first_then(first, second):
    """Run ``first`` in a transaction kept open a second, and ``second`` meanwhile; returns
    what each ended with: "ok" or the exception's class name."""
    outcomes, started = {}, threading.Event()

    def run(name, act, before=None, after=None):
        try:
            if before:
                before.wait()
            with transaction.atomic():
                act()
                if after:
                    after.set()
                    time.sleep(1)
            outcomes[name] = "ok"
        except Exception as exc:  # compared below
            outcomes[name] = type(exc).__name__
            if after:
                after.set()
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("first", first, None, started)),
        threading.Thread(target=run, args=("second", second, started, None)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes["first"], outcomes["second"]


@pytest.mark.django_db(transaction=True)
def test_a_group_deleted_while_an_instance_joins_it_or_a_rule_names_it_is_refused_cleanly(world):
    room = build_machine_room(world)
    instance = order(world, room, "j-1")
    web, db = (
        security_groups.create_security_group(
            actor=world.staff_a, department=world.department_a, name=name
        )
        for name in ("web", "db")
    )

    def join(group):
        return lambda: security_groups.set_security_groups(
            Instance.objects.get(pk=instance.pk), actor=world.staff_a, groups=[group]
        )

    def delete(group):
        return lambda: security_groups.delete_security_group(group, actor=world.staff_a)

    # The deletion waits for the join and then sees the new member.
    assert first_then(join(web), delete(web)) == ("ok", "Conflict")
    # The join waits for the deletion and then finds the group gone.
    assert first_then(delete(db), join(db)) == ("ok", "ValidationError")
    assert list(Instance.objects.get(pk=instance.pk).security_groups.all()) == [web]
    assert not SecurityGroup.objects.filter(pk=db.pk).exists()

    # The same for a rule naming the group as its far end.
    cache, queue = (
        security_groups.create_security_group(
            actor=world.staff_a, department=world.department_a, name=name
        )
        for name in ("cache", "queue")
    )

    def naming(far):
        return lambda: rule(world, web, direction="ingress", protocol="tcp", remote_group=far)

    assert first_then(naming(cache), delete(cache)) == ("ok", "Conflict")
    assert first_then(delete(queue), naming(queue)) == ("ok", "ValidationError")
    assert web.rules.filter(remote_group=cache).count() == 1


def test_a_rule_taken_away_during_a_reboot_is_closed_on_the_guest(world, room, web):
    from zhengyun.infrastructure.models import Instance

    instance = order(world, room, "web-1", groups=[web])
    opened = rule(world, web, direction="ingress", protocol="icmp")
    run_due_jobs()
    Instance.objects.filter(pk=instance.pk).update(status="rebooting")  # a reboot under way
    security_groups.delete_security_group_rule(opened, actor=world.staff_a)
    run_due_jobs()
    assert not allows(room, instance, "ingress", "icmp", None, "203.0.113.9")
