"""The command-line door (R-I3): a department member manages networks, instances and volumes
with ``zhengyun cloud`` against a live server, within quota and their own department, and
every refusal is a clear message in their language that changes nothing."""

import io
import json
import socket

import pytest

from zhengyun.accounts.services import create_api_token
from zhengyun.audit.models import AuditEvent
from zhengyun.client.cli import main
from zhengyun.infrastructure import lifecycle
from zhengyun.infrastructure.models import Instance, Network, Quota
from zhengyun.testing.machine_room import build_machine_room
from zhengyun.testing.world import build_world


@pytest.fixture
def live_world(transactional_db):
    world = build_world()
    world.room = build_machine_room(world)
    return world


@pytest.fixture
def cloud(live_server, live_world):
    """``cloud(person, *words, lang=None)`` → (exit status, stdout, stderr)."""
    tokens = {}

    def run(person, *words, environ=None):
        if person not in tokens:
            tokens[person] = create_api_token(actor=person, name="cli", scope="write")[1]
        out, err = io.StringIO(), io.StringIO()
        env = {"ZHENGYUN_URL": live_server.url, "ZHENGYUN_TOKEN": tokens[person]}
        env.update(environ or {})
        status = main(list(words), stdout=out, stderr=err, environ=env)
        return status, out.getvalue(), err.getvalue()

    return run


def made(cloud, person, *words):
    status, out, err = cloud(person, "--json", *words)
    assert status == 0, err
    return json.loads(out)


def test_a_member_makes_a_network_and_an_instance_in_it_from_the_command_line(cloud, live_world):
    staff, room = live_world.staff_a, live_world.room
    network = made(cloud, staff, "networks", "create", "name=办公网", "reach=gov_extranet")
    subnet = made(
        cloud, staff, "subnets", "create", f"network={network['id']}", "name=a", "cidr=10.8.0.0/24"
    )
    ordered = made(
        cloud,
        staff,
        "instances",
        "create",
        "name=web-1",
        f"flavour={room.small.pk}",
        f"image={room.image.pk}",
        f"subnet={subnet['id']}",
    )
    assert ordered["status"] == "building" and ordered["placement"]["host"]

    lifecycle.build(ordered["id"])
    shown = made(cloud, staff, "instances", "show", str(ordered["id"]))
    assert shown["status"] == "active"
    assert shown["addresses"][0].startswith("10.8.0.")

    status, table, _ = cloud(staff, "instances", "list", "search=web")
    assert status == 0
    header, rule, row = table.splitlines()[:3]
    assert header.split()[:3] == ["id", "name", "status"] and set(rule) <= {"-", " "}
    assert row.split()[:3] == [str(ordered["id"]), "web-1", "active"]

    volume = made(
        cloud, staff, "volumes", "create", "name=data", "size_gb=20", f"instance={ordered['id']}"
    )
    assert volume["status"] == "creating" and volume["size_gb"] == 20
    status, _, _ = cloud(staff, "instances", "delete", str(ordered["id"]))
    assert status == 0
    assert Instance.objects.get(pk=ordered["id"]).status == "deleting"


def test_refusals_are_clear_in_the_persons_language_and_change_nothing(cloud, live_world):
    staff, room = live_world.staff_a, live_world.room
    Quota.objects.update_or_create(
        department=live_world.department_a, defaults={"max_instances": 0}
    )
    order = ["instances", "create", "name=web-2", f"flavour={room.small.pk}"]
    order.append(f"image={room.image.pk}")
    events = AuditEvent.objects.count()

    status, _, err = cloud(staff, *order)
    assert status == 1 and "409" in err and "配额" in err
    status, _, err = cloud(staff, "--lang", "en", *order)
    assert status == 1 and "quota" in err.lower() and "配额" not in err
    status, _, err = cloud(staff, *order, environ={"LANG": "en_GB.UTF-8"})
    assert status == 1 and "quota" in err.lower()
    assert not Instance.objects.filter(name="web-2").exists()

    # Mistakes the client catches itself: nothing is sent, nothing is recorded.
    events_after_refusals = AuditEvent.objects.count()
    for words, says in (
        (["instances", "create", "name=x", "colour=red"], "colour"),
        (["instances", "create", "name=x", "flavour=two"], "flavour"),
        (["instances", "show"], "id"),
        (["instances", "list", "owner=me"], "owner"),
        (["servers", "list"], "servers"),
        (["instances", "fly", "1"], "fly"),
    ):
        status, _, err = cloud(staff, "--lang", "en", *words)
        assert status == 2 and says in err, (words, err)
    status, _, err = cloud(staff, "servers", "list")
    assert status == 2 and "没有名为 servers 的资源" in err
    assert AuditEvent.objects.count() == events_after_refusals
    assert events_after_refusals > events  # the server's refusals above were audited

    # A scheduler's refusal gives its reasons; the whole decision record is one flag away.
    Quota.objects.filter(department=live_world.department_a).update(max_instances=5)
    too_big = ["instances", "create", "name=big", f"flavour={room.huge.pk}"]
    too_big.append(f"image={room.image.pk}")
    status, _, err = cloud(staff, "--lang", "en", *too_big)
    assert status == 1 and "No host has room for 16 vCPUs" in err and "--json" in err
    status, _, err = cloud(staff, "--json", *too_big)
    assert status == 1 and json.loads(err)["placement"]["filters"]
    assert not Instance.objects.filter(name="big").exists()

    status, _, err = cloud(staff, "networks", "create", "name=x", "reach=moon")
    assert status == 1 and "reach" in err and not Network.objects.filter(name="x").exists()


def test_one_department_never_reaches_anothers_resources(cloud, live_world):
    room = live_world.room
    theirs = made(
        cloud,
        live_world.staff_b,
        "instances",
        "create",
        "name=secret",
        f"flavour={room.small.pk}",
        f"image={room.image.pk}",
    )
    status, _, err = cloud(
        live_world.staff_a, "--lang", "en", "instances", "show", str(theirs["id"])
    )
    assert status == 1 and "404" in err
    status, _, _ = cloud(live_world.staff_a, "instances", "delete", str(theirs["id"]))
    assert status == 1 and Instance.objects.get(pk=theirs["id"]).status == "building"
    assert made(cloud, live_world.staff_a, "instances", "list") == []


def test_the_client_describes_what_the_platform_offers(cloud, live_world):
    status, out, _ = cloud(live_world.staff_a, "resources")
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()}
    assert status == 0 and {"create", "delete", "list", "show"} <= set(lines["instances"])
    assert {"attach", "detach"} <= set(lines["volumes"])
    assert {"maintenance", "end-maintenance", "show-maintenance"} <= set(lines["hosts"])
    assert "set-power-curve" in lines["hosts"]

    status, out, _ = cloud(live_world.staff_a, "--lang", "en", "instances", "create", "--fields")
    fields = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert status == 0 and "yes" in fields["flavour"] and "yes" not in fields["zone"]
    assert "gov_internal | gov_extranet | internet" in fields["networks"]


def test_sign_in_and_connection_problems_are_named(cloud, live_world, live_server, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    env = {"ZHENGYUN_URL": live_server.url, "ZHENGYUN_TOKEN": "not-a-token", "LANG": "en_US"}
    assert main(["instances", "list"], stdout=out, stderr=err, environ=env) == 1
    assert "401" in err.getvalue()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    env["ZHENGYUN_URL"] = f"http://127.0.0.1:{closed}"
    assert main(["instances", "list"], stdout=out, stderr=err, environ=env) == 3
    assert "did not answer" in err.getvalue()

    for environ, says in (
        ({"ZHENGYUN_TOKEN": "x"}, "ZHENGYUN_URL"),
        ({"ZHENGYUN_URL": "ftp://x", "ZHENGYUN_TOKEN": "x"}, "https://"),
        ({"ZHENGYUN_URL": live_server.url}, "ZHENGYUN_TOKEN"),
    ):
        err = io.StringIO()
        assert main(["--lang", "en", "resources"], stdout=out, stderr=err, environ=environ) == 2
        assert says in err.getvalue()

    token = tmp_path / "token"
    token.write_text(create_api_token(actor=live_world.staff_a, name="f", scope="read")[1] + "\n")
    out = io.StringIO()
    status = main(
        ["--token-file", str(token), "--json", "instances", "list"],
        stdout=out,
        stderr=io.StringIO(),
        environ={"ZHENGYUN_URL": live_server.url},
    )
    assert status == 0 and json.loads(out.getvalue()) == []


def test_the_token_goes_to_the_platform_only(cloud, live_server, live_world, monkeypatch):
    from zhengyun.client.http import Api, Unreachable

    api = Api(live_server.url, "zy_x", "en")
    with pytest.raises(Unreachable) as refused:
        api.call("GET", "http://elsewhere.example/api/v1/infrastructure/instances/?page=2")
    assert "elsewhere.example" in str(refused.value)

    asked = []
    call = Api.call
    monkeypatch.setattr(
        Api, "call", lambda self, m, p, **kw: asked.append(p) or call(self, m, p, **kw)
    )
    status, _, _ = cloud(live_world.staff_a, "instances", "show", "../../accounts/users/1")
    # One path segment, whatever a proxy in between makes of dot segments.
    assert status == 1 and asked[-1].endswith("/instances/..%2F..%2Faccounts%2Fusers%2F1/")
