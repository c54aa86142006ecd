"""Connecting a hypervisor is done at the command line by whoever runs the machine room,
signed in as themselves; its hosts join the pool and the act is theirs in the trail (R-I1)."""

import pytest
from django.core.management import CommandError

from zhengyun.accounts.cli import REFUSED
from zhengyun.audit.models import AuditEvent
from zhengyun.infrastructure.models import ComputeProvider, Host
from zhengyun.testing.cli import run_as
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db
URI = "sim://memory?hosts=3&vcpus=16&memory_mb=65536&disk_gb=1000&seed=9"


def register(person, *extra, uri=URI):
    return run_as(
        person,
        "provider",
        "register",
        "--pool",
        str(extra[0]),
        "--name",
        "kvm-new",
        "--driver",
        "simulator",
        "--uri",
        uri,
    )


def test_an_operator_connects_a_hypervisor_and_its_hosts_join_the_pool(world):
    room = build_machine_room(world)
    said = register(world.operator, room.extranet.pk)
    provider = ComputeProvider.objects.get(name="kvm-new")
    assert f"provider {provider.pk} registered; 3 hosts joined" in said
    assert Host.objects.filter(provider=provider, pool=room.extranet).count() == 3
    event = AuditEvent.objects.get(action="infrastructure.pool_hosts", object_id=provider.pk)
    assert event.actor_label == "operator" and event.channel == "cli"
    listed = run_as(world.operator, "provider", "list")
    assert "kvm-new\tsimulator" in listed


def test_others_are_refused_and_a_bad_address_changes_nothing(world):
    room = build_machine_room(world)
    with pytest.raises(CommandError) as refused:
        register(world.admin_a, room.extranet.pk)
    assert refused.value.returncode == REFUSED
    with pytest.raises(CommandError) as bad:
        register(world.operator, room.extranet.pk, uri="sim://memory?hosts=many")
    assert "hosts" in str(bad.value)
    with pytest.raises(CommandError) as unseen:
        register(world.operator, 999999)
    assert "no pool 999999" in str(unseen.value)
    assert not ComputeProvider.objects.filter(name="kvm-new").exists()
