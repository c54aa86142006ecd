"""Security groups end to end (R-I2): under ``zhengyun run``, a department member makes a
group, orders an instance into it and adds a rule over HTTP; the worker process applies the
rule to the guest on the simulated hypervisor (the state file web and worker share), where
the packet it allows passes and others do not."""

from pathlib import Path

from tests.test_instance_end_to_end import call, platform, until  # noqa: F401 - a fixture
from zhengyun.infrastructure.drivers.simulator import SimulatorDriver


def hypervisor_of(data_dir, guest):
    """The demo's simulated hypervisor that holds ``guest``, opened from its state file."""
    for path in sorted(Path(data_dir, "simulator").glob("*.sqlite")):
        driver = SimulatorDriver(f"sim://{path}?hosts=0")  # hosts=0: adds none
        if driver.guest(guest).host:
            return driver
    raise AssertionError(f"no simulated hypervisor holds {guest}")


def test_a_rule_added_over_http_is_applied_by_the_worker(platform, tmp_path):  # noqa: F811
    base, token = platform
    api = f"{base}/api/v1/infrastructure"
    group = call("POST", f"{api}/security-groups/", token, {"name": "ssh"})
    flavour = next(
        f for f in call("GET", f"{api}/flavours/", token)["results"] if f["name"] == "s2.medium"
    )
    image = call("GET", f"{api}/images/", token)["results"][0]
    ordered = call(
        "POST",
        f"{api}/instances/",
        token,
        {
            "name": "bastion-1",
            "flavour": flavour["id"],
            "image": image["id"],
            "networks": ["gov_internal"],
            "protection_level": 3,
            "security_groups": [group["id"]],
        },
    )
    url = f"{api}/instances/{ordered['id']}/"
    built = until(lambda: (i := call("GET", url, token))["status"] != "building" and i)
    assert built["status"] == "active", built["status_detail"]
    assert built["security_groups"] == [group["id"]] and built["firewall_applied_at"]

    sim = hypervisor_of(tmp_path, built["uuid"])
    assert not sim.allows(built["uuid"], "ingress", "tcp", 22, "10.0.0.5")  # no rule yet
    call(
        "POST",
        f"{api}/security-group-rules/",
        token,
        {
            "group": group["id"],
            "direction": "ingress",
            "protocol": "tcp",
            "port_min": 22,
            "remote_cidr": "10.0.0.0/24",
        },
    )
    until(lambda: sim.allows(built["uuid"], "ingress", "tcp", 22, "10.0.0.5"))
    assert not sim.allows(built["uuid"], "ingress", "tcp", 22, "10.1.0.5")
    applied = call("GET", url, token)
    assert applied["firewall_applied_at"] > built["firewall_applied_at"]
