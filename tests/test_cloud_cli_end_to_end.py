"""The command-line door end to end (R-I3): ``zhengyun cloud`` in its own process, with
nothing but the platform's address and a token, orders an instance and a volume from a
platform running under ``zhengyun run`` and waits for the worker to build, attach, stop,
start, reboot and delete them."""

import json
import subprocess
import sys

from tests.test_instance_end_to_end import platform  # noqa: F401 - the running platform


def cloud(base, token, *words):
    environment = {"ZHENGYUN_URL": base, "ZHENGYUN_TOKEN": token, "LANG": "en_US.UTF-8"}
    done = subprocess.run(
        [sys.executable, "-m", "zhengyun.cli", "cloud", "--json", *words],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_a_member_orders_and_deletes_with_the_command_line_and_waits(platform):  # noqa: F811
    base, token = platform
    flavour = next(f for f in cloud(base, token, "flavours", "list") if f["name"] == "s2.medium")
    image = cloud(base, token, "images", "list")[0]
    built = cloud(
        base,
        token,
        "instances",
        "create",
        "name=cli-1",
        f"flavour={flavour['id']}",
        f"image={image['id']}",
        "networks=gov_internal",
        "protection_level=3",
        "--wait",
    )
    assert built["status"] == "active", built["status_detail"]

    volume = cloud(
        base,
        token,
        "volumes",
        "create",
        "name=data",
        "size_gb=10",
        f"instance={built['id']}",
        "--wait",
    )
    assert volume["status"] == "in_use" and volume["instance"] == built["id"]

    for verb, settled in (("stop", "stopped"), ("start", "active"), ("reboot", "active")):
        changed = cloud(base, token, "instances", verb, str(built["id"]), "--wait")
        assert changed["status"] == settled, changed["status_detail"]

    gone = cloud(base, token, "instances", "delete", str(built["id"]), "--wait")
    assert gone["status"] == "deleted"
    left = cloud(base, token, "volumes", "show", str(volume["id"]))
    assert left["status"] == "available" and left["instance"] is None
