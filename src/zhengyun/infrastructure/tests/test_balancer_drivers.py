"""The contract every load-balancer driver keeps, run against each installed one: found by
entry point, applying idempotently, reporting every member by name, removing what is
missing without error, and saying when it runs no balancer of a name (R-I3)."""

import shutil
import tempfile
import uuid

import pytest

from zhengyun.infrastructure.drivers.balancer_base import (
    BalancerNotFound,
    BalancerSpec,
    ListenerSpec,
    MemberHealth,
    MemberSpec,
    MonitorSpec,
    load_balancer_driver,
)
from zhengyun.infrastructure.drivers.base import DriverError
from zhengyun.infrastructure.tests.test_balancer_haproxy import free_port, needs_haproxy


@pytest.fixture(params=["simulator", pytest.param("haproxy", marks=needs_haproxy)])
def driver(request):
    if request.param == "simulator":
        yield load_balancer_driver("simulator", "sim://memory")
        return
    root = tempfile.mkdtemp(prefix="lb-", dir="/tmp")
    yield load_balancer_driver("haproxy", f"haproxy://{root}")
    shutil.rmtree(root, ignore_errors=True)


def spec(name, port, members=2):
    return BalancerSpec(
        name=name,
        vip="127.0.0.1",
        listeners=(
            ListenerSpec(
                protocol="tcp",
                port=port,
                algorithm="round_robin",
                members=tuple(
                    MemberSpec(name=f"m{n}", address="127.0.0.1", port=free_port())
                    for n in range(1, members + 1)
                ),
                monitor=MonitorSpec(type="tcp", interval_s=1, timeout_s=1, max_retries=1),
            ),
        ),
    )


def test_apply_is_idempotent_and_health_names_every_member(driver):
    name = str(uuid.uuid4())
    wanted = spec(name, free_port())
    try:
        driver.apply(wanted)
        driver.apply(wanted)
        assert set(driver.health(name)) == {"m1", "m2"}
        assert set(driver.health(name).values()) <= set(MemberHealth)
        fewer = BalancerSpec(
            name=name,
            vip=wanted.vip,
            listeners=(
                ListenerSpec(
                    protocol="tcp",
                    port=wanted.listeners[0].port,
                    algorithm="source_ip",
                    members=wanted.listeners[0].members[:1],
                ),
            ),
        )
        driver.apply(fewer)
        assert set(driver.health(name)) == {"m1"}
    finally:
        driver.remove(name)


def test_removing_is_final_and_removing_twice_succeeds(driver):
    name = str(uuid.uuid4())
    driver.apply(spec(name, free_port(), members=1))
    driver.remove(name)
    driver.remove(name)
    with pytest.raises(BalancerNotFound):
        driver.health(name)


def test_unknown_drivers_and_bad_uris_are_driver_errors():
    with pytest.raises(DriverError, match="simulator"):
        load_balancer_driver("f5", "f5://lb")
    with pytest.raises(DriverError):
        load_balancer_driver("simulator", "http://memory")
