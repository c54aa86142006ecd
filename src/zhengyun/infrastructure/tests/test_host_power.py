"""Hosts in standby are powered down through a real Redfish server and powered on again when
an order lands on them (R-G3, R-I4). The BMC is sushy-tools' Redfish emulator, the one
OpenStack Ironic is tested against, run as its own process with a password and serving a
libvirt test-driver domain as the host's system."""

import socket
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
from zhengyun.infrastructure import host_power, lifecycle, services
from zhengyun.infrastructure.choices import HostPower, InstanceStatus, NetworkReach
from zhengyun.infrastructure.models import Host
from zhengyun.infrastructure.redfish import Bmc
from zhengyun.infrastructure.tests.test_drivers import needs_libvirt
from zhengyun.jobs.crash_points import Crash, crashing_at
from zhengyun.testing.machine_room import build_machine_room

# The emulator serves a libvirt test-driver domain as the host's system.
pytestmark = [pytest.mark.django_db, needs_libvirt]

USER, PASSWORD = "zhengyun", "s3cret-BMC"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def system_url(tmp_path_factory):
    """The Redfish URL of the emulator's one system, powered on."""
    directory = tmp_path_factory.mktemp("bmc")
    users = directory / "htpasswd"
    users.write_text(f"{USER}:{bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()}\n")
    config = directory / "emulator.py"
    config.write_text(
        f"SUSHY_EMULATOR_AUTH_FILE = {str(users)!r}\n"
        "SUSHY_EMULATOR_LIBVIRT_URI = 'test:///default'\n"
    )
    port = free_port()
    emulator = Path(sys.executable).parent / "sushy-emulator"
    process = subprocess.Popen(
        [emulator, "--config", config, "--interface", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    root = f"http://127.0.0.1:{port}/redfish/v1/"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(root, timeout=1).close()  # the service root needs no password
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("the Redfish emulator did not start")
            time.sleep(0.2)
    systems = Bmc(f"{root}Systems", USER, PASSWORD)._request("GET", f"{root}Systems")
    url = f"http://127.0.0.1:{port}{systems['Members'][0]['@odata.id']}"
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def bmc(system_url):
    """The emulator's system, switched on whatever an earlier test left it."""
    bmc = Bmc(system_url, USER, PASSWORD)
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


def order(world, room):
    return services.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name="web-1",
        flavour=room.small,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
    )


def test_a_bmc_is_checked_when_set_and_its_password_is_kept_sealed(world, room, bmc):
    host = Host.objects.get(pool=room.extranet)
    with override("en"), pytest.raises(ValidationError) as refused:
        host_power.set_host_bmc(
            host, actor=world.operator, url=bmc.url, username=USER, password="wrong"
        )
    assert "answered 401" in str(refused.value.message_dict["url"])
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


def test_a_host_in_standby_is_powered_down_and_an_order_on_it_powers_it_on(world, room, host):
    bmc = Bmc.of(host)
    assert host_power.idle_standby_hosts() == [host.pk]
    assert host_power.power_down(host.pk) == HostPower.OFF
    assert bmc.power_state() == "Off"
    assert host_power.idle_standby_hosts() == []

    instance = order(world, room)  # the only host with room: placement takes it
    assert instance.host_id == host.pk
    assert lifecycle.build(instance.pk) == InstanceStatus.BUILDING
    instance.refresh_from_db()
    assert instance.status_detail == f"正在等待主机 {host.name} 开机。"  # the worker's language
    assert bmc.power_state() == "On"
    host.refresh_from_db()
    assert host.power_state == HostPower.STARTING and not host.standby

    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE  # the next minute's run
    host.refresh_from_db()
    assert host.power_state == HostPower.ON
    actions = list(
        AuditEvent.objects.filter(object_id=str(host.pk), action__startswith="infrastructure.power")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "infrastructure.power_down_host",
        "infrastructure.power_on_host",
        "infrastructure.power_on_host",
    ]


def test_a_host_that_took_an_instance_meanwhile_is_not_powered_down(world, room, host):
    order(world, room)  # the claim takes the host out of standby
    assert host_power.power_down(host.pk) == HostPower.ON
    assert Bmc.of(host).power_state() == "On"


def test_a_power_down_lost_with_its_worker_is_finished_by_the_sweep(world, room, host):
    with crashing_at("host_power.requested"), pytest.raises(Crash):
        host_power.power_down(host.pk)
    host.refresh_from_db()
    assert host.power_state == HostPower.ON  # the BMC was asked; the row never learnt it
    assert host_power.idle_standby_hosts() == [host.pk]
    assert host_power.power_down(host.pk) == HostPower.OFF
    assert Bmc.of(host).power_state() == "Off"


def test_a_host_switched_off_at_the_machine_is_powered_on_by_the_next_build(world, room, host):
    Bmc.of(host).reset("ForceOff")  # the row still says on
    instance = order(world, room)
    assert lifecycle.build(instance.pk) == InstanceStatus.BUILDING
    assert Bmc.of(host).power_state() == "On"
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE


def test_a_host_that_does_not_boot_in_time_fails_its_builds(world, room, host, settings):
    settings.ZHENGYUN_BMC_TIMEOUT_SECONDS = 2
    instance = order(world, room)
    Host.objects.filter(pk=host.pk).update(
        power_state=HostPower.STARTING,
        power_changed_at=timezone.now() - timedelta(minutes=settings.ZHENGYUN_HOST_BOOT_MINUTES),
        bmc_url=f"http://127.0.0.1:{free_port()}/redfish/v1/Systems/1",  # nobody answers
    )
    with override("en"):
        assert lifecycle.build(instance.pk) == InstanceStatus.ERROR
    instance.refresh_from_db()
    assert "cannot be reached" in instance.status_detail


def test_a_hypervisor_still_booting_keeps_the_build_waiting_not_failed(world, room, host):
    host_power.power_down(host.pk)
    instance = order(world, room)
    assert lifecycle.build(instance.pk) == InstanceStatus.BUILDING  # powered on
    room.driver(room.extranet).fail_next("define")  # its hypervisor is not up yet
    assert lifecycle.build(instance.pk) == InstanceStatus.BUILDING
    assert lifecycle.build(instance.pk) == InstanceStatus.ACTIVE


def test_an_operator_sets_a_bmc_in_the_console_and_sees_the_power(world, room, bmc, client):
    host = Host.objects.get(pool=room.extranet)
    client.force_login(world.operator)
    url = f"/infrastructure/hosts/{host.pk}/bmc/"
    refused = client.post(url, {"url": bmc.url, "username": USER, "password": "wrong"})
    assert refused.status_code == 200 and refused.context["form"].errors["url"]
    assert Host.objects.get(pk=host.pk).bmc_url == ""

    saved = client.post(url, {"url": bmc.url, "username": USER, "password": PASSWORD})
    assert saved.status_code == 302
    page = client.get("/infrastructure/pools/").content.decode()
    assert "电源（经 BMC）：开机" in page  # Chinese by default
    assert PASSWORD not in client.get(url).content.decode()


def test_a_bmc_not_reached_over_http_is_refused_and_changes_nothing(world, room):
    host = Host.objects.get(pool=room.extranet)
    with pytest.raises(ValidationError) as refused:
        host_power.set_host_bmc(
            host, actor=world.operator, url="ftp://10.0.0.5/redfish", username="", password=""
        )
    assert set(refused.value.message_dict) == {"url"}
    assert Host.objects.get(pk=host.pk).bmc_url == ""


def test_the_api_sets_a_bmc_for_operators_only_and_never_returns_its_password(
    world, room, bmc, api_as
):
    host = Host.objects.get(pool=room.extranet)
    url = f"/api/v1/infrastructure/hosts/{host.pk}/bmc/"
    body = {"url": bmc.url, "username": USER, "password": PASSWORD}
    assert api_as(world.staff_a).put(url, body, format="json").status_code == 404  # unseen
    wrong = api_as(world.operator).put(url, {**body, "password": "wrong"}, format="json")
    assert wrong.status_code == 400 and "url" in str(wrong.json())
    saved = api_as(world.operator).put(url, body, format="json")
    assert saved.status_code == 200, saved.content
    assert (saved.json()["bmc_url"], saved.json()["power_state"]) == (bmc.url, HostPower.ON)
    assert PASSWORD not in saved.content.decode()
    assert Host.objects.get(pk=host.pk).bmc_password == PASSWORD
