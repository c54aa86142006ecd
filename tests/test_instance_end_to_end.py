"""The embedded platform end to end (R-I1, R-I4): under ``zhengyun run`` with the demo's
machine room, a department member orders an instance over HTTP, the worker process builds it on
the simulated hypervisor the web process registered (one state file both share), and a
deletion removes it and gives its room back."""

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.test_run_command import free_port, wait_for
from zhengyun.testing.processes import embedded_environment

CLI = [sys.executable, "-m", "zhengyun.cli"]


def call(method, url, token, body=None):
    request = urllib.request.Request(  # noqa: S310 - loopback
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        payload = response.read()
        return json.loads(payload) if payload else None


def until(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("the platform never got there")


@pytest.fixture
def platform(migrated_data_dir):
    env = embedded_environment()
    env.update(ZHENGYUN_DATA_DIR=str(migrated_data_dir), PORT=str(free_port()))
    # The test world and the demo's machine room: faster than the whole demo region.
    token = subprocess.run(
        [
            *CLI,
            "shell",
            "-v0",
            "-c",
            "from zhengyun.testing.world import build_world; "
            "from zhengyun.demo.infrastructure import ensure_infrastructure; "
            "from zhengyun.accounts.services import create_api_token; "
            "w = build_world(); ensure_infrastructure(w.operator, w.province); "
            "print(create_api_token(actor=w.staff_a, name='e2e', scope='write')[1])",
        ],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout.strip()
    process = subprocess.Popen(
        [*CLI, "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{env['PORT']}"
    wait_for(f"{base}/readyz", timeout=60)
    yield base, token
    process.terminate()
    process.wait(timeout=30)


def test_an_instance_ordered_over_http_is_built_and_deleted_by_the_worker(platform):
    base, token = platform
    api = f"{base}/api/v1/infrastructure"
    flavours = call("GET", f"{api}/flavours/", token)["results"]
    flavour = next(f for f in flavours if f["name"] == "s2.medium")
    image = call("GET", f"{api}/images/", token)["results"][0]
    ordered = call(
        "POST",
        f"{api}/instances/",
        token,
        {
            "name": "portal-1",
            "flavour": flavour["id"],
            "image": image["id"],
            "networks": ["gov_internal"],
            "protection_level": 3,
        },
    )
    assert ordered["status"] == "building" and ordered["placement"]["host"]
    assert ordered["placement"]["pool"].endswith(("公安专属资源池", "政务内网等保三级资源池"))

    url = f"{api}/instances/{ordered['id']}/"
    built = until(lambda: (i := call("GET", url, token))["status"] != "building" and i)
    assert built["status"] == "active", built["status_detail"]

    call("DELETE", url, token)
    gone = until(lambda: (i := call("GET", url, token))["status"] == "deleted" and i)
    assert gone["status"] == "deleted"
    quota = call("GET", f"{api}/quotas/", token)["results"][0]
    assert quota["used_instances"] == 0 and quota["used_vcpus"] == 0
