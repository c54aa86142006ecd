"""The nftables network edge (R-I2): the NAT table rendered as the ruleset kept in
``golden/edge_nat.nft``, checked by the real ``nft -c``, written only once checked, and
applied through the platform's job like the simulator.

``nft -c`` reads the kernel's netfilter state over netlink, so it needs CAP_NET_ADMIN even
though it changes nothing: where it cannot run, the tests that need it skip (never on CI)
and the golden-file tests still hold the rendering."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from zhengyun.infrastructure import connections, edge, lifecycle
from zhengyun.infrastructure import floating_addresses as floating
from zhengyun.infrastructure import services as infrastructure
from zhengyun.infrastructure.drivers.base import DriverError
from zhengyun.infrastructure.drivers.edge_base import EgressRule, NatPair, NatRules
from zhengyun.infrastructure.drivers.nftables import RULESET, NftablesEdgeDriver, render
from zhengyun.testing.machine_room import build_machine_room

GOLDEN = Path(__file__).parent / "golden" / "edge_nat.nft"
TABLE = NatRules.of(
    [NatPair("203.0.113.3", "10.30.1.2"), NatPair("2001:db8::10", "fd00:1::2")],
    [EgressRule("10.30.0.0/16", "203.0.113.4"), EgressRule("10.30.1.0/24", "203.0.113.5")],
)


def _nft_can_check():
    """Whether ``nft -c`` runs here: installed, and allowed to read netfilter's state."""
    nft = shutil.which("nft") or "/usr/sbin/nft"
    try:
        done = subprocess.run(
            [nft, "-c", "-f", "-"],
            input=render(NatRules()),
            text=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


# May be skipped on a workstation without nftables or CAP_NET_ADMIN, never on CI.
needs_nft = pytest.mark.skipif(
    not os.environ.get("CI") and not _nft_can_check(),
    reason="nft -c cannot run here (apt-get install nftables; it needs CAP_NET_ADMIN)",
)


def test_the_ruleset_is_rendered_as_the_golden_file():
    # Pairs come before egress, narrower egress ranges before wider: the first match wins.
    assert render(TABLE) == GOLDEN.read_text()


def test_an_empty_table_still_replaces_the_previous_one():
    text = render(NatRules())
    assert text.startswith("table inet zhengyun_nat\ndelete table inet zhengyun_nat\n")
    assert "dnat" not in text and "snat" not in text


@needs_nft
def test_nft_accepts_the_ruleset_and_applying_twice_changes_nothing(tmp_path):
    driver = NftablesEdgeDriver(f"nftables://{tmp_path}")
    assert driver.rules() == NatRules()
    driver.apply(TABLE)
    first = (tmp_path / RULESET).read_text()
    driver.apply(TABLE)
    assert (tmp_path / RULESET).read_text() == first == GOLDEN.read_text()
    assert driver.rules() == TABLE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rules.json", RULESET]


@needs_nft
def test_a_ruleset_nft_refuses_leaves_the_previous_one(tmp_path):
    driver = NftablesEdgeDriver(f"nftables://{tmp_path}")
    driver.apply(TABLE)
    # An IPv4 address cannot be translated to an IPv6 one: nft itself says so.
    with pytest.raises(DriverError, match="conflicting protocols"):
        driver.apply(NatRules.of([NatPair("203.0.113.9", "fd00::9")], []))
    with pytest.raises(DriverError):
        driver.apply(NatRules.of([NatPair("203.0.113.999", "10.0.0.1")], []))
    assert (tmp_path / RULESET).read_text() == GOLDEN.read_text()
    assert driver.rules() == TABLE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rules.json", RULESET]


def test_only_nftables_uris_are_served():
    with pytest.raises(DriverError):
        NftablesEdgeDriver("sim://memory")


@needs_nft
@pytest.mark.django_db
def test_the_job_applies_an_association_through_nftables(world, settings, tmp_path):
    settings.ZHENGYUN_EDGE_DRIVER = "nftables"
    settings.ZHENGYUN_EDGE_URI = f"nftables://{tmp_path}"
    connections._edge_for.cache_clear()
    room = build_machine_room(world)
    floating.create_external_range(
        actor=world.operator,
        region=world.province,
        name="互联网",
        reach="internet",
        cidr="198.51.100.0/29",
    )
    net = infrastructure.create_network(
        actor=world.staff_a, department=world.department_a, name="web", reach="internet"
    )
    subnet = infrastructure.create_subnet(
        actor=world.staff_a, network=net, name="web-1", cidr="10.40.0.0/24"
    )
    web = infrastructure.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name="web-1",
        flavour=room.small,
        image=room.image,
        networks=["internet"],
        subnet=subnet,
    )
    lifecycle.build(web.pk)
    public = floating.allocate_floating_address(
        actor=world.staff_a, department=world.department_a, reach="internet"
    )
    floating.associate_floating_address(public, actor=world.staff_a, port=web.ports.get())
    try:
        assert edge.apply() == "pairs=1 egress=0"
    finally:
        connections._edge_for.cache_clear()
    ruleset = (tmp_path / RULESET).read_text()
    assert "ip daddr 198.51.100.1 dnat ip to 10.40.0.2" in ruleset
    assert "ip saddr 10.40.0.2 snat ip to 198.51.100.1" in ruleset
