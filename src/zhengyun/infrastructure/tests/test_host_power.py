"""Hosts in standby are powered down through a real Redfish server and powered on again when
an order lands on them (R-G3, R-I4). The BMC is sushy-tools' Redfish emulator, the one
OpenStack Ironic is tested against, run as its own process over HTTPS with a password and
serving a libvirt test-driver domain as the host's system."""

import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import bcrypt
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import override

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import PermissionDenied
from zhengyun.infrastructure import host_power, lifecycle, maintenance, services
from zhengyun.infrastructure.choices import HostPower, InstanceStatus, NetworkReach
from zhengyun.infrastructure.models import Host
from zhengyun.infrastructure.redfish import Bmc
from zhengyun.infrastructure.tests.test_drivers import needs_libvirt
from zhengyun.jobs.crash_points import Crash, crashing_at
from zhengyun.testing.machine_room import build_machine_room
from zhengyun.testing.tls import issue

# The emulator serves a libvirt test-driver domain as the host's system.
pytestmark = [pytest.mark.django_db, needs_libvirt]

USER, PASSWORD = "zhengyun", "s3cret-BMC"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """``(the Redfish URL of the emulator's one system, the file of its certificate)``."""
    directory = tmp_path_factory.mktemp("bmc")
    users = directory / "htpasswd"
    users.write_text(f"{USER}:{bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()}\n")
    certificate = issue("bmc.example", addresses=["127.0.0.1"])
    (directory / "bmc.pem").write_text(certificate.certificate_pem)
    (directory / "bmc.key").write_text(certificate.key_pem)
    config = directory / "emulator.py"
    config.write_text(
        f"SUSHY_EMULATOR_AUTH_FILE = {str(users)!r}\n"
        "SUSHY_EMULATOR_LIBVIRT_URI = 'test:///default'\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [
            Path(sys.executable).parent / "sushy-emulator",
            *("--config", config, "--interface", "127.0.0.1", "--port", str(port)),
            *("--ssl-certificate", directory / "bmc.pem", "--ssl-key", directory / "bmc.key"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    trusted = ssl.create_default_context(cafile=directory / "bmc.pem")
    root = f"https://127.0.0.1:{port}/redfish/v1/"
    deadline = time.monotonic() + 30
    while True:
        try:  # the service root needs no password
            urllib.request.urlopen(root, timeout=1, context=trusted).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("the Redfish emulator did not start")
            time.sleep(0.2)
    yield f"{root}Systems", directory / "bmc.pem"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def bmc(emulator, settings):
    """The emulator's system, trusted and switched on whatever an earlier test left it."""
    systems, certificate = emulator
    settings.ZHENGYUN_BMC_CA_FILE = str(certificate)
    listed = Bmc(systems, USER, PASSWORD)._request("GET", systems)
    url = systems.removesuffix("/redfish/v1/Systems") + listed["Members"][0]["@odata.id"]
    bmc = Bmc(url, USER, PASSWORD)
    if bmc.power_state() != "On":
        bmc.reset("On")
    return bmc


@pytest.fixture
def room(world):
    return build_machine_room(world, hosts=1)


@pytest.fixture
def host(world, room, bmc):
    """The extranet pool's one host, with the emulator as its BMC, emptied into standby."""
    host = Host.objects.get(pool=room.extranet)
    host_power.set_host_bmc(
        host, actor=world.operator, url=bmc.url, username=USER, password=PASSWORD
    )
    Host.objects.filter(pk=host.pk).update(standby=True)
    host.refresh_from_db()
    return host


def order(world, room, name="web-1"):
    return services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name=name,
        flavour=room.small,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
    )


def power_of(host):
    host.refresh_from_db()
    return host.power_state


def powered_down(host):
    """The host powered down as a consolidation's follow-up would: asked, then seen off."""
    assert host_power.power_down(host.pk) == HostPower.STOPPING
    assert host_power.settle(host.pk) == HostPower.OFF


def long_ago(host):
    """The host's last power change moved back past ``ZHENGYUN_HOST_POWER_MINUTES``."""
    Host.objects.filter(pk=host.pk).update(power_changed_at=timezone.now() - timedelta(hours=1))


def test_a_bmc_is_checked_when_set_and_its_password_is_kept_sealed(world, room, bmc):
    host = Host.objects.get(pool=room.extranet)
    with override("en"), pytest.raises(ValidationError) as refused:
        host_power.set_host_bmc(
            host, actor=world.operator, url=bmc.url, username=USER, password="wrong"
        )
    assert "refused this user name and password" in refused.value.message_dict["password"][0]
    host.refresh_from_db()
    assert host.bmc_url == ""  # nothing kept of a refused setting

    host_power.set_host_bmc(
        host, actor=world.operator, url=bmc.url, username=USER, password=PASSWORD
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT bmc_password FROM infrastructure_host WHERE id = %s", [host.pk])
        stored = cursor.fetchone()[0]
    assert PASSWORD not in stored and Host.objects.get(pk=host.pk).bmc_password == PASSWORD
    event = AuditEvent.objects.filter(action="infrastructure.set_host_bmc").latest("pk")
    assert PASSWORD not in str(event.changes)
    # The same URL again without a password keeps the stored one.
    host_power.set_host_bmc(host, actor=world.operator, url=bmc.url, username=USER, password="")
    assert Host.objects.get(pk=host.pk).bmc_password == PASSWORD

    # A host found off when its BMC is set is recorded so; without a BMC it counts as on.
    bmc.reset("ForceOff")
    host_power.set_host_bmc(host, actor=world.operator, url=bmc.url, username=USER, password="")
    assert power_of(host) == HostPower.OFF
    host_power.set_host_bmc(host, actor=world.operator, url="", username="", password="")
    assert power_of(host) == HostPower.ON and Host.objects.get(pk=host.pk).bmc_password == ""


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/redfish/v1/Systems/1", "https://admin:secret@10.0.0.5/redfish/v1/Systems/1"],
    ids=["cleartext", "credentials-in-url"],
)
def test_a_bmc_url_that_would_expose_its_credentials_is_refused(world, room, url):
    host = Host.objects.get(pool=room.extranet)
    with pytest.raises(ValidationError) as refused:
        host_power.set_host_bmc(host, actor=world.operator, url=url, username="", password="")
    assert set(refused.value.message_dict) == {"url"}
    assert Host.objects.get(pk=host.pk).bmc_url == ""


def test_the_platform_connects_to_no_bmc_for_someone_who_may_not_set_it(world, room):
    host = Host.objects.get(pool=room.extranet)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        listening.settimeout(0.3)
        url = f"https://127.0.0.1:{listening.getsockname()[1]}/redfish/v1/Systems/1"
        with pytest.raises(PermissionDenied):
            host_power.set_host_bmc(
                host, actor=world.staff_a, url=url, username=USER, password=PASSWORD
            )
        with pytest.raises(TimeoutError):
            listening.accept()  # nobody knocked
    assert Host.objects.get(pk=host.pk).bmc_url == ""


def test_a_host_in_standby_is_powered_down_and_an_order_on_it_powers_it_on(world, room, host):
    bmc = Bmc.of(host)
    assert host_power.to_settle() == [host.pk]
    powered_down(host)
    assert bmc.power_state() == "Off"
    assert host_power.to_settle() == [host.pk]  # followed up until powered on again

    instance = order(world, room)  # the only host with room: placement takes it
    assert instance.host_id == host.pk
    assert lifecycle.build(instance.pk) == InstanceStatus.BUILDING
    instance.refresh_from_db()
    assert instance.status_detail == f"正在等待主机 {host.name} 开机。"  # the worker's language
    assert bmc.power_state() == "On"
    assert power_of(host) == HostPower.STARTING and not host.standby

    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE  # the next minute's run
    assert power_of(host) == HostPower.ON
    assert host_power.to_settle() == []
    changes = [
        (e.action, e.changes["power_state"])
        for e in AuditEvent.objects.filter(
            object_id=str(host.pk), action__startswith="infrastructure.power"
        ).order_by("pk")
    ]
    assert changes == [
        ("infrastructure.power_down_host", ["on", "stopping"]),
        ("infrastructure.power_down_host", ["stopping", "off"]),
        ("infrastructure.power_on_host", ["off", "starting"]),
        ("infrastructure.power_on_host", ["starting", "on"]),
    ]


def test_a_host_that_took_an_instance_meanwhile_is_not_powered_down(world, room, host):
    order(world, room)  # the claim takes the host out of standby
    assert host_power.power_down(host.pk) == HostPower.ON
    assert Bmc.of(host).power_state() == "On"


def test_an_order_on_a_host_still_shutting_down_waits_for_it_to_be_off(world, room, host):
    Host.objects.filter(pk=host.pk).update(
        power_state=HostPower.STOPPING, power_changed_at=timezone.now()
    )  # the shutdown asked for, the host not off yet
    instance = order(world, room)
    assert lifecycle.build(instance.pk) == InstanceStatus.BUILDING
    assert power_of(host) == HostPower.STOPPING  # never taken for on while going down
    Bmc.of(host).reset("ForceOff")  # the shutdown completes
    assert lifecycle.build(instance.pk) == InstanceStatus.BUILDING
    assert power_of(host) == HostPower.STARTING and Bmc.of(host).power_state() == "On"
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE


def test_a_power_down_lost_with_its_worker_is_forced_through_by_the_sweep(world, room, host):
    with crashing_at("host_power.stopping"), pytest.raises(Crash):
        host_power.power_down(host.pk)  # killed before the BMC was asked
    assert power_of(host) == HostPower.STOPPING and Bmc.of(host).power_state() == "On"
    assert host_power.settle(host.pk) == HostPower.STOPPING  # gives the shutdown its time
    long_ago(host)
    assert host_power.settle(host.pk) == HostPower.STOPPING  # forced off now
    assert Bmc.of(host).power_state() == "Off"
    assert host_power.settle(host.pk) == HostPower.OFF
    assert AuditEvent.objects.filter(action="infrastructure.force_off_host").count() == 1


def test_a_host_that_ignored_its_shutdown_and_took_an_order_is_in_service_again(world, room, host):
    Host.objects.filter(pk=host.pk).update(power_state=HostPower.STOPPING)
    long_ago(host)
    order(world, room)  # out of standby, no longer empty
    assert host_power.settle(host.pk) == HostPower.ON
    assert Bmc.of(host).power_state() == "On"


def test_a_host_switched_off_at_the_machine_is_powered_on_by_the_build(world, room, host):
    Bmc.of(host).reset("ForceOff")  # the record still says on
    instance = order(world, room)
    room.driver(room.extranet).fail_next("define")  # its hypervisor does not answer
    assert lifecycle.build(instance.pk) == InstanceStatus.BUILDING
    assert power_of(host) == HostPower.STARTING and Bmc.of(host).power_state() == "On"
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE


def test_a_host_that_does_not_boot_in_time_fails_the_builds_that_waited(world, room, host):
    powered_down(host)
    first = order(world, room)
    assert lifecycle.build(first.pk) == InstanceStatus.BUILDING  # powered on
    Bmc.of(host).reset("ForceOff")  # and it never came up
    long_ago(host)
    with override("en"):
        assert lifecycle.build(first.pk) == InstanceStatus.ERROR
    first.refresh_from_db()
    assert "did not power on within 15 minutes" in first.status_detail
    assert power_of(host) == HostPower.OFF
    second = order(world, room, name="web-2")
    assert lifecycle.build(second.pk) == InstanceStatus.BUILDING  # asked to power on again
    assert power_of(host) == HostPower.STARTING


def test_a_hypervisor_still_booting_keeps_the_build_waiting_not_failed(world, room, host):
    powered_down(host)
    instance = order(world, room)
    assert lifecycle.build(instance.pk) == InstanceStatus.BUILDING  # powered on
    room.driver(room.extranet).fail_next("define")  # its hypervisor is not up yet
    assert lifecycle.build(instance.pk) == InstanceStatus.BUILDING
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE


def test_a_bmc_that_cannot_be_reached_fails_a_build_waiting_on_it(world, room, host, settings):
    settings.ZHENGYUN_BMC_TIMEOUT_SECONDS = 2
    instance = order(world, room)
    Host.objects.filter(pk=host.pk).update(
        power_state=HostPower.STARTING,
        bmc_url=f"https://127.0.0.1:{free_port()}/redfish/v1/Systems/1",  # nobody answers
    )
    with override("en"):
        assert lifecycle.build(instance.pk) == InstanceStatus.ERROR
    instance.refresh_from_db()
    assert "cannot be reached" in instance.status_detail


def test_moves_never_go_to_a_powered_down_host(world):
    room = build_machine_room(world, hosts=2)
    source, other = Host.objects.filter(pool=room.extranet).order_by("name")
    instance = order(world, room)
    assert instance.host_id == source.pk
    Host.objects.filter(pk=other.pk).update(power_state=HostPower.OFF)
    assert maintenance.choose_target(instance, source)[0] is None
    Host.objects.filter(pk=other.pk).update(power_state=HostPower.ON)
    assert maintenance.choose_target(instance, source)[0] == other


def test_an_operator_sets_a_bmc_in_the_console_and_sees_the_power(world, room, bmc, client):
    host = Host.objects.get(pool=room.extranet)
    client.force_login(world.operator)
    url = f"/infrastructure/hosts/{host.pk}/bmc/"
    refused = client.post(url, {"url": bmc.url, "username": USER, "password": "wrong"})
    assert refused.status_code == 200 and refused.context["form"].errors["password"]
    assert Host.objects.get(pk=host.pk).bmc_url == ""

    saved = client.post(url, {"url": bmc.url, "username": USER, "password": PASSWORD})
    assert saved.status_code == 302
    page = client.get("/infrastructure/pools/").content.decode()
    assert "电源（经 BMC）：开机" in page  # Chinese by default
    assert PASSWORD not in client.get(url).content.decode()


def test_the_api_sets_a_bmc_for_operators_only_and_never_returns_its_password(
    world, room, bmc, api_as
):
    host = Host.objects.get(pool=room.extranet)
    url = f"/api/v1/infrastructure/hosts/{host.pk}/bmc/"
    body = {"url": bmc.url, "username": USER, "password": PASSWORD}
    assert api_as(world.staff_a).put(url, body, format="json").status_code == 404  # unseen
    wrong = api_as(world.operator).put(url, {**body, "password": "wrong"}, format="json")
    assert wrong.status_code == 400
    assert [error["field"] for error in wrong.json()["errors"]] == ["password"]
    saved = api_as(world.operator).put(url, body, format="json")
    assert saved.status_code == 200, saved.content
    assert (saved.json()["bmc_url"], saved.json()["power_state"]) == (bmc.url, HostPower.ON)
    assert PASSWORD not in saved.content.decode()
    assert Host.objects.get(pk=host.pk).bmc_password == PASSWORD
